// Package promptcache prepares LLM requests for the providers' prompt
// caches: Anthropic's cache_control breakpoints, placed where they pay,
// and OpenAI's prompt_cache_key. It knows nothing of Caddy.
package promptcache

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/ragproxy/ragproxy/llm"
)

// MaxBreakpoints is the most cache_control breakpoints Anthropic takes in
// one request, the client's own included.
const MaxBreakpoints = 4

// Minimum cacheable prefixes, in tokens, by model family (Anthropic's
// prompt caching documentation): shorter prefixes are not cached, so a
// breakpoint there only uses one of the four up.
const (
	MinTokensDefault = 1024 // Opus, Sonnet
	MinTokensHaiku   = 2048
)

// Options say how breakpoints are placed.
type Options struct {
	// MinTokens is the least estimated prefix (body bytes / 4 up to the
	// breakpoint) worth a breakpoint. 0: by the model's family.
	MinTokens int64
	// MinBlockTokens is the least estimated size of a message content
	// block worth a breakpoint of its own (the large, repeated blocks:
	// retrieved documents). 0: 256.
	MinBlockTokens int64
	// TTL is "" (the API's default, 5 minutes) or "1h".
	TTL string
}

// Result says what was done to a request.
type Result string

// The results, a fixed set (a metric label).
const (
	Added         Result = "added"          // breakpoints were inserted
	Full          Result = "full"           // the client placed 4 already: left alone
	ClientTTL     Result = "client_ttl"     // the client's breakpoints use another TTL: left alone (TTLs must not be mixed out of order)
	TooShort      Result = "too_short"      // no place with a long enough prefix
	NotApplicable Result = "not_applicable" // not a JSON object with messages
	KeySet        Result = "key_set"        // OpenAI: prompt_cache_key set
	KeyPresent    Result = "key_present"    // OpenAI: the client set its own
)

// Results lists every result.
var Results = []Result{Added, Full, ClientTTL, TooShort, NotApplicable, KeySet, KeyPresent}

// block is one place a breakpoint may go: a JSON object that can carry
// cache_control, and the estimated prompt tokens up to and including it.
type block struct {
	obj    map[string]any
	prefix int64
	size   int64
	kind   int // kindTools, kindSystem, kindMessage
}

const (
	kindTools = iota
	kindSystem
	kindMessage
)

// Anthropic inserts cache_control breakpoints into a Messages API
// request: after the tools, after the system prompt, and on the last
// large content blocks of the conversation, in that order of preference,
// never beyond four in all (the client's counted), and only where the
// prefix up to the breakpoint is long enough to be cached. A request that
// is not a JSON object with messages, or whose own breakpoints already
// number four or use another TTL, is left alone. It returns the body to
// send (body itself when unchanged).
func Anthropic(body []byte, o Options) ([]byte, Result, int) {
	obj, ok := decode(body)
	if !ok {
		return body, NotApplicable, 0
	}
	msgs, ok := obj["messages"].([]any)
	if !ok {
		return body, NotApplicable, 0
	}
	existing, otherTTL := countBreakpoints(obj, o.TTL)
	switch {
	case existing >= MaxBreakpoints:
		return body, Full, 0
	case otherTTL:
		return body, ClientTTL, 0
	}
	minPrefix := o.MinTokens
	if minPrefix <= 0 {
		minPrefix = MinTokensDefault
		if m, _ := obj["model"].(string); strings.Contains(strings.ToLower(m), "haiku") {
			minPrefix = MinTokensHaiku
		}
	}
	minBlock := o.MinBlockTokens
	if minBlock <= 0 {
		minBlock = 256
	}

	// The prompt's prefix order: tools, system, messages.
	var blocks []block
	var total int64
	add := func(obj map[string]any, kind int) {
		size := estimate(obj)
		total += size
		blocks = append(blocks, block{obj, total, size, kind})
	}
	if tools, ok := obj["tools"].([]any); ok {
		for _, t := range tools {
			if t, ok := t.(map[string]any); ok {
				add(t, kindTools)
			}
		}
	}
	switch sys := obj["system"].(type) {
	case string:
		if sys != "" {
			b := map[string]any{"type": "text", "text": sys}
			obj["system"] = []any{b}
			add(b, kindSystem)
		}
	case []any:
		for _, s := range sys {
			if s, ok := s.(map[string]any); ok {
				add(s, kindSystem)
			}
		}
	}
	for _, m := range msgs {
		msg, ok := m.(map[string]any)
		if !ok {
			continue
		}
		if s, ok := msg["content"].(string); ok {
			if s == "" {
				continue
			}
			msg["content"] = []any{map[string]any{"type": "text", "text": s}}
		}
		parts, _ := msg["content"].([]any)
		for _, p := range parts {
			if p, ok := p.(map[string]any); ok {
				add(p, kindMessage)
			}
		}
	}

	budget := MaxBreakpoints - existing
	var chosen []map[string]any
	pick := func(b block) {
		if budget > 0 && b.prefix >= minPrefix && cacheable(b.obj) {
			chosen = append(chosen, b.obj)
			budget--
		}
	}
	// the last block of the tools, then of the system prompt
	for _, kind := range []int{kindTools, kindSystem} {
		last := -1
		for i, b := range blocks {
			if b.kind == kind {
				last = i
			}
		}
		if last >= 0 {
			pick(blocks[last])
		}
	}
	// the last large blocks of the conversation, latest first
	for i := len(blocks) - 1; i >= 0 && budget > 0; i-- {
		if b := blocks[i]; b.kind == kindMessage && b.size >= minBlock {
			pick(b)
		}
	}
	if len(chosen) == 0 {
		return body, TooShort, 0
	}
	cc := map[string]any{"type": "ephemeral"}
	if o.TTL != "" {
		cc["ttl"] = o.TTL
	}
	for _, b := range chosen {
		b["cache_control"] = cc
	}
	out, ok := llm.EncodeJSON(obj)
	if !ok {
		return body, NotApplicable, 0
	}
	return out, Added, len(chosen)
}

// cacheable reports whether a block can carry a breakpoint: not one that
// has one, nor a thinking block (which cannot be cached directly).
func cacheable(b map[string]any) bool {
	if _, has := b["cache_control"]; has {
		return false
	}
	t, _ := b["type"].(string)
	return t != "thinking" && t != "redacted_thinking"
}

// countBreakpoints counts the client's breakpoints, and reports whether
// any uses a TTL other than ttl ("" and "5m" are the same).
func countBreakpoints(obj map[string]any, ttl string) (n int, otherTTL bool) {
	norm := func(s string) string {
		if s == "5m" {
			return ""
		}
		return s
	}
	visit := func(v any) {
		b, ok := v.(map[string]any)
		if !ok {
			return
		}
		cc, has := b["cache_control"]
		if !has || cc == nil {
			return
		}
		n++
		c, _ := cc.(map[string]any)
		t, _ := c["ttl"].(string)
		otherTTL = otherTTL || norm(t) != norm(ttl)
	}
	if tools, ok := obj["tools"].([]any); ok {
		for _, t := range tools {
			visit(t)
		}
	}
	if sys, ok := obj["system"].([]any); ok {
		for _, s := range sys {
			visit(s)
		}
	}
	if msgs, ok := obj["messages"].([]any); ok {
		for _, m := range msgs {
			if msg, ok := m.(map[string]any); ok {
				if parts, ok := msg["content"].([]any); ok {
					for _, p := range parts {
						visit(p)
					}
				}
			}
		}
	}
	return n, otherTTL
}

// OpenAI sets prompt_cache_key to key on a request that has none (a key
// in any case counts), so requests sharing a prefix reach the same
// cache. An empty key, or a body that is not a JSON object, is left alone.
//
// The member is written into the body's bytes as its first member, not by
// decoding and encoding the body again: that was most of the handler's
// cost on every request, and the rest of the body stays byte for byte.
func OpenAI(body []byte, key string) ([]byte, Result) {
	if key == "" {
		return body, NotApplicable
	}
	has, object := llm.HasMember(body, "prompt_cache_key")
	switch {
	case !object:
		return body, NotApplicable
	case has:
		return body, KeyPresent
	}
	open := bytes.IndexByte(body, '{') + 1 // a well-formed object: its first byte past spaces
	out := make([]byte, 0, len(body)+len(key)+len(`"prompt_cache_key":"",`))
	out = append(out, body[:open]...)
	out = append(out, `"prompt_cache_key":`...)
	out, ok := appendQuoted(out, key)
	if !ok {
		return body, NotApplicable
	}
	if rest := bytes.TrimLeft(body[open:], " \t\r\n"); len(rest) > 0 && rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, body[open:]...), KeySet
}

// appendQuoted appends key as json.Marshal writes it: the key the
// handler sets, a hash in hex, is its bytes in quotes.
func appendQuoted(dst []byte, key string) ([]byte, bool) {
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			value, err := json.Marshal(key)
			return append(dst, value...), err == nil
		}
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"'), true
}

func decode(body []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var obj map[string]any
	if dec.Decode(&obj) != nil || obj == nil || dec.More() {
		return nil, false
	}
	return obj, true
}

// estimate is a JSON value's size in tokens, as rate limits estimate.
func estimate(v any) int64 {
	b, err := json.Marshal(v)
	if err != nil {
		return 0
	}
	return llm.EstimateTokens(len(b))
}
