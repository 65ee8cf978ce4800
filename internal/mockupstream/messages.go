package mockupstream

import (
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// maxPromptCache bounds the prompt prefixes the mock remembers as cached.
const maxPromptCache = 4096

// messagesRequest is the part of an Anthropic Messages request the mock
// reads. Content blocks are kept raw to find cache_control breakpoints.
type messagesRequest struct {
	Model     string          `json:"model"`
	MaxTokens *int            `json:"max_tokens"`
	System    json.RawMessage `json:"system"`
	Tools     []block         `json:"tools"`
	Messages  []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Stream bool `json:"stream"`
}

// block is a content block, a system block or a tool: its text (the
// mock's tokens are its words) and whether it carries a breakpoint.
type block struct {
	Type         string          `json:"type"`
	Text         string          `json:"text"`
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	CacheControl json.RawMessage `json:"cache_control"`
}

// blocks reads a string or an array of blocks.
func blocks(raw json.RawMessage) ([]block, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []block{{Type: "text", Text: s}}, true
	}
	var bs []block
	return bs, json.Unmarshal(raw, &bs) == nil
}

// anthropicUsage is a Messages answer's usage, prompt caching included.
type anthropicUsage struct {
	InputTokens              int `json:"input_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
	OutputTokens             int `json:"output_tokens"`
}

// messages answers POST /v1/messages as Anthropic's Messages API does,
// JSON or SSE with its event types, with "Mock answer to: " plus the last
// user message's text. It plays Anthropic's prompt cache: the prompt up
// to the last cache_control breakpoint (tools, system, messages, in that
// order) is written to the cache the first time
// (cache_creation_input_tokens) and read from it after
// (cache_read_input_tokens); input_tokens counts the rest, as Anthropic
// reports it.
func (s *Server) messages(ex *exchange) {
	var req messagesRequest
	if !ex.decode(&req) {
		return
	}
	if len(req.Messages) == 0 || req.MaxTokens == nil {
		ex.invalid("messages and max_tokens are required")
		return
	}
	prompt := append([]block(nil), req.Tools...)
	sys, ok := blocks(req.System)
	if !ok {
		ex.invalid("system must be a string or an array of blocks")
		return
	}
	prompt = append(prompt, sys...)
	last := ""
	for _, m := range req.Messages {
		bs, ok := blocks(m.Content)
		if !ok {
			ex.invalid("content must be a string or an array of blocks")
			return
		}
		prompt = append(prompt, bs...)
		if m.Role == "user" {
			var texts []string
			for _, b := range bs {
				if b.Type == "text" {
					texts = append(texts, b.Text)
				}
			}
			last = strings.Join(texts, " ")
		}
	}
	answer := answerPrefix + last
	u := s.promptCache(prompt)
	u.OutputTokens = countWords(answer)
	id := fmt.Sprintf("msg_mock_%d", s.next())
	model := cmp.Or(req.Model, defaultModel)
	if req.Stream {
		ex.streamEvents(messageEvents(id, model, answer, u))
		return
	}
	ex.json(http.StatusOK, map[string]any{
		"id": id, "type": "message", "role": "assistant", "model": model,
		"content":     []any{map[string]any{"type": "text", "text": answer}},
		"stop_reason": "end_turn", "stop_sequence": nil, "usage": u,
	})
}

// promptCache splits the prompt's tokens into cached (written or read)
// and not, by its last breakpoint.
func (s *Server) promptCache(prompt []block) anthropicUsage {
	tokens := func(b block) int { return countWords(b.Text, b.Name, b.Description) }
	total, prefix, end := 0, 0, -1
	for i, b := range prompt {
		total += tokens(b)
		if len(b.CacheControl) > 0 && string(b.CacheControl) != "null" {
			prefix, end = total, i
		}
	}
	var u anthropicUsage
	if end < 0 {
		u.InputTokens = total
		return u
	}
	key, _ := json.Marshal(prompt[:end+1])
	sum := sha256.Sum256(key)
	s.cacheMu.Lock()
	_, hit := s.cached[sum]
	if !hit {
		if len(s.cached) >= maxPromptCache {
			clear(s.cached)
		}
		s.cached[sum] = struct{}{}
	}
	s.cacheMu.Unlock()
	if hit {
		u.CacheReadInputTokens = prefix
	} else {
		u.CacheCreationInputTokens = prefix
	}
	u.InputTokens = total - prefix
	return u
}

// messageEvents are a streamed answer's events, named as Anthropic names
// them: message_start (with the input usage), a text block's start, one
// delta per word and stop, message_delta (stop reason, output usage),
// message_stop.
func messageEvents(id, model, answer string, u anthropicUsage) (names []string, events [][]byte) {
	add := func(name string, v any) {
		b, _ := json.Marshal(v) // cannot fail: maps of plain values
		names, events = append(names, name), append(events, b)
	}
	start := u
	start.OutputTokens = 1
	add("message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": id, "type": "message", "role": "assistant", "model": model, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil, "usage": start}})
	add("content_block_start", map[string]any{"type": "content_block_start", "index": 0,
		"content_block": map[string]any{"type": "text", "text": ""}})
	for _, w := range splitWords(answer) {
		add("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
			"delta": map[string]any{"type": "text_delta", "text": w}})
	}
	add("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
	add("message_delta", map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": "end_turn", "stop_sequence": nil},
		"usage": map[string]any{"output_tokens": u.OutputTokens}})
	add("message_stop", map[string]any{"type": "message_stop"})
	return names, events
}
