package promptcache

import (
	"encoding/json"
	"strings"
	"testing"
)

// words is about n tokens of text (4 bytes a token).
func words(n int) string { return strings.Repeat("abc ", n) }

type req struct {
	Tools    []map[string]any `json:"tools"`
	System   []map[string]any `json:"system"`
	Messages []struct {
		Role    string           `json:"role"`
		Content []map[string]any `json:"content"`
	} `json:"messages"`
}

func breakpoints(t *testing.T, body []byte) (tools, system int, msgs [][]bool) {
	t.Helper()
	var r req
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	for _, x := range r.Tools {
		if x["cache_control"] != nil {
			tools++
		}
	}
	for _, x := range r.System {
		if x["cache_control"] != nil {
			system++
		}
	}
	for _, m := range r.Messages {
		var row []bool
		for _, p := range m.Content {
			row = append(row, p["cache_control"] != nil)
		}
		msgs = append(msgs, row)
	}
	return
}

func TestAnthropicPlacesBreakpoints(t *testing.T) {
	body, _ := json.Marshal(map[string]any{
		"model":      "claude-sonnet-4-5",
		"max_tokens": 100,
		"tools":      []any{map[string]any{"name": "a", "input_schema": map[string]any{"type": "object"}}, map[string]any{"name": "b", "description": words(600), "input_schema": map[string]any{}}},
		"system":     words(600),
		"messages": []any{
			map[string]any{"role": "user", "content": []any{
				map[string]any{"type": "document", "source": map[string]any{"type": "text", "media_type": "text/plain", "data": words(2000)}},
				map[string]any{"type": "text", "text": "What does the document say about caching?"},
			}},
		},
	})
	out, res, n := Anthropic(body, Options{})
	if res != Added || n != 2 {
		t.Fatalf("result %s, %d added; want 2", res, n)
	}
	tools, system, msgs := breakpoints(t, out)
	// tools (~600 tokens) are under 1024: no breakpoint there; system
	// brings the prefix over it; the document is the large block; the
	// question is small.
	if tools != 0 || system != 1 || !msgs[0][0] || msgs[0][1] {
		t.Errorf("tools %d system %d messages %v; want 0, 1, [true false]", tools, system, msgs)
	}
}

func TestAnthropicNeverBeyondFour(t *testing.T) {
	var parts []any
	for range 6 {
		parts = append(parts, map[string]any{"type": "text", "text": words(1500)})
	}
	parts = append(parts, map[string]any{"type": "text", "text": "and?", "cache_control": map[string]any{"type": "ephemeral"}})
	body, _ := json.Marshal(map[string]any{
		"model": "claude-sonnet-4-5", "max_tokens": 10, "system": words(2000),
		"messages": []any{map[string]any{"role": "user", "content": parts}},
	})
	out, res, n := Anthropic(body, Options{})
	if res != Added || n != 3 {
		t.Fatalf("result %s, %d added; want 3 (4 minus the client's one)", res, n)
	}
	_, system, msgs := breakpoints(t, out)
	total := system
	for _, b := range msgs[0] {
		if b {
			total++
		}
	}
	if total != 4 || system != 1 || !msgs[0][5] || !msgs[0][4] || msgs[0][0] {
		t.Errorf("breakpoints: system %d, messages %v; want 4 in all: system and the last large blocks", system, msgs)
	}

	// four of the client's own: left alone, byte for byte
	four := strings.Repeat(`{"type":"text","text":"x","cache_control":{"type":"ephemeral"}},`, 4)
	full := `{"model":"claude-sonnet-4-5","max_tokens":5,"system":"` + words(3000) + `","messages":[{"role":"user","content":[` + strings.TrimSuffix(four, ",") + `]}]}`
	if out, res, _ := Anthropic([]byte(full), Options{}); res != Full || string(out) != full {
		t.Errorf("a request with 4 breakpoints: %s, changed %v", res, string(out) != full)
	}
}

func TestAnthropicLeavesAlone(t *testing.T) {
	short := `{"model":"claude-sonnet-4-5","max_tokens":5,"system":"be brief","messages":[{"role":"user","content":"hi"}]}`
	if out, res, _ := Anthropic([]byte(short), Options{}); res != TooShort || string(out) != short {
		t.Errorf("short prompt: %s, changed %v", res, string(out) != short)
	}
	// Haiku needs 2048 tokens of prefix: a 1500-token system is not enough
	haiku := `{"model":"claude-haiku-4-5","max_tokens":5,"system":"` + words(1500) + `","messages":[{"role":"user","content":"hi"}]}`
	if _, res, _ := Anthropic([]byte(haiku), Options{}); res != TooShort {
		t.Errorf("haiku under its minimum: %s", res)
	}
	if _, res, _ := Anthropic([]byte(haiku), Options{MinTokens: 1024}); res != Added {
		t.Errorf("haiku with min_tokens 1024: %s", res)
	}
	// the client's breakpoints use 1h, ours would be 5m: never mixed
	mixed := `{"model":"claude-sonnet-4-5","max_tokens":5,"system":[{"type":"text","text":"` + words(3000) + `","cache_control":{"type":"ephemeral","ttl":"1h"}}],"messages":[{"role":"user","content":"` + words(2000) + `"}]}`
	if _, res, _ := Anthropic([]byte(mixed), Options{}); res != ClientTTL {
		t.Errorf("client 1h, ours 5m: %s", res)
	}
	if out, res, _ := Anthropic([]byte(mixed), Options{TTL: "1h"}); res != Added || !strings.Contains(string(out), `"ttl":"1h"`) {
		t.Errorf("client 1h, ours 1h: %s", res)
	}
	for _, bad := range []string{`nope`, `[]`, `{"model":"m"}`, `{"messages":{}}`} {
		if out, res, _ := Anthropic([]byte(bad), Options{}); res != NotApplicable || string(out) != bad {
			t.Errorf("%s: %s", bad, res)
		}
	}
	thinking := `{"model":"claude-sonnet-4-5","max_tokens":5,"system":"` + words(3000) + `","messages":[{"role":"assistant","content":[{"type":"thinking","thinking":"` + words(2000) + `","signature":"s"}]}]}`
	out, _, _ := Anthropic([]byte(thinking), Options{})
	if _, _, msgs := breakpoints(t, out); msgs[0][0] {
		t.Error("a breakpoint on a thinking block")
	}
}

func TestOpenAIKey(t *testing.T) {
	out, res := OpenAI([]byte(`{"model":"gpt-4o","messages":[]}`), "tenant-1")
	var got map[string]any
	if res != KeySet || json.Unmarshal(out, &got) != nil || got["prompt_cache_key"] != "tenant-1" {
		t.Errorf("%s %s", res, out)
	}
	own := `{"model":"gpt-4o","Prompt_Cache_Key":"mine"}`
	if out, res := OpenAI([]byte(own), "tenant-1"); res != KeyPresent || string(out) != own {
		t.Errorf("client's own key: %s %s", res, out)
	}
	if _, res := OpenAI([]byte(`{"model":"x"}`), ""); res != NotApplicable {
		t.Errorf("no key: %s", res)
	}
	// Written into the bytes: the rest of the body is kept as it was, an
	// empty object gets no stray comma, an escaped key name still counts.
	for body, want := range map[string]string{
		` { "model" : "x" } `: ` {"prompt_cache_key":"k\u003c", "model" : "x" } `,
		`{}`:                  `{"prompt_cache_key":"k\u003c"}`,
		"{\n}":                "{\"prompt_cache_key\":\"k\\u003c\"\n}",
	} {
		if out, res := OpenAI([]byte(body), "k<"); res != KeySet || string(out) != want {
			t.Errorf("OpenAI(%q) = %s %q, want %q", body, res, out, want)
		}
	}
	for _, body := range []string{`{"prompt\u005fcache_key":"mine"}`, `{"PROMPT_CACHE_KEY":1}`} {
		if _, res := OpenAI([]byte(body), "k"); res != KeyPresent {
			t.Errorf("OpenAI(%q): %s, want KeyPresent", body, res)
		}
	}
	for _, body := range []string{`[]`, `{"a":1`, `{"a":1} x`, ``, `"s"`} {
		if out, res := OpenAI([]byte(body), "k"); res != NotApplicable || string(out) != body {
			t.Errorf("OpenAI(%q) = %s %q, want it left alone", body, res, out)
		}
	}
}

func FuzzAnthropic(f *testing.F) {
	f.Add([]byte(`{"model":"claude-haiku-4-5","system":"x","tools":[{}],"messages":[{"role":"user","content":[{"type":"text","text":"y"}]}]}`), int64(1))
	f.Fuzz(func(t *testing.T, body []byte, min int64) {
		out, res, n := Anthropic(body, Options{MinTokens: min % 4096})
		if n > MaxBreakpoints || (res != Added && string(out) != string(body)) {
			t.Fatalf("%s, %d added, changed %v", res, n, string(out) != string(body))
		}
		if res == Added {
			obj, ok := decode(out)
			if !ok {
				t.Fatalf("added breakpoints to a body that no longer decodes: %s", out)
			}
			if c, _ := countBreakpoints(obj, ""); c > MaxBreakpoints {
				t.Fatalf("%d breakpoints: %s", c, out)
			}
		}
	})
}

// The key is written as json.Marshal writes it, whatever it holds.
func TestOpenAIKeyQuoted(t *testing.T) {
	for _, key := range []string{"0123456789abcdef0123456789abcdef", "a b~", "é", "\x01", `a"b\c`, "<&>", "\x7f", "\xff"} {
		value, _ := json.Marshal(key)
		want := `{"prompt_cache_key":` + string(value) + `,"model":"m"}`
		if out, res := OpenAI([]byte(`{"model":"m"}`), key); res != KeySet || string(out) != want {
			t.Errorf("OpenAI(key %q) = %s %s, want %s", key, res, out, want)
		}
	}
}
