package caddymodule_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3/option"

	"github.com/ragproxy/ragproxy/internal/mockupstream"
)

// TestPromptCacheRewrites: through a real Caddy, an Anthropic request
// reaches the upstream with breakpoints (never more than four), an OpenAI
// request with a prompt_cache_key that is not the caller's credential,
// and rag_cache in front still keys on the client's own body.
func TestPromptCacheRewrites(t *testing.T) {
	up := recordBodies(t, func(path string) string {
		if strings.HasSuffix(path, "/messages") {
			return `{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","usage":{"input_tokens":10,"cache_creation_input_tokens":3000,"cache_read_input_tokens":0,"output_tokens":2}}`
		}
		return `{"id":"c1","object":"chat.completion","model":"mock-model","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}`
	})
	p := startCaddy(t, `http://{SITE} {
	rag_cache pc_cache
	rag_prompt_cache
	reverse_proxy `+up.Addr+`
}`)
	added := p.counter("ragproxy_prompt_cache_requests_total", `result="added"`)
	doc := strings.Repeat("Retrieved passage about prompt caching. ", 400) // ~4000 tokens
	anthropic, _ := json.Marshal(map[string]any{
		"model": "claude-sonnet-4-5", "max_tokens": 100,
		"system": "You answer from the documents. " + strings.Repeat("Rules. ", 800),
		"messages": []any{map[string]any{"role": "user", "content": []any{
			map[string]any{"type": "text", "text": doc},
			map[string]any{"type": "text", "text": doc + " (2)"},
			map[string]any{"type": "text", "text": doc + " (3)"},
			map[string]any{"type": "text", "text": doc + " (4)"},
			map[string]any{"type": "text", "text": "What do they say?"},
		}}},
	})
	for i, want := range []string{"MISS", "HIT"} {
		resp, body := post(t, p.URL+"/v1/messages", string(anthropic), "x-api-key", "sk-ant-1")
		if resp.StatusCode != 200 || resp.Header.Get("X-Cache") != want {
			t.Fatalf("ask %d: %d X-Cache %q (%s); want %s", i, resp.StatusCode, resp.Header.Get("X-Cache"), body, want)
		}
	}
	sent := up.Bodies()[0]
	if n := strings.Count(sent, `"cache_control"`); n != 4 {
		t.Errorf("the upstream got %d breakpoints, want 4 (system and the three last large blocks)", n)
	}
	var req struct {
		System   []map[string]any
		Messages []struct{ Content []map[string]any }
	}
	if err := json.Unmarshal([]byte(sent), &req); err != nil {
		t.Fatal(err)
	}
	parts := req.Messages[0].Content
	if req.System[0]["cache_control"] == nil || parts[0]["cache_control"] != nil || parts[3]["cache_control"] == nil || parts[4]["cache_control"] != nil {
		t.Errorf("breakpoints in the wrong places: system %v, parts %v", req.System[0]["cache_control"], parts)
	}
	if added() != 1 {
		t.Errorf("added counted %v, want 1 (the hit never reached rag_prompt_cache)", added())
	}

	client := newClient(p, "sk-secret-credential")
	if _, err := client.Chat.Completions.New(context.Background(), chatParams("What is RAG?"), option.WithHeader("X-Unused", "1")); err != nil {
		t.Fatal(err)
	}
	got := up.Bodies()
	sent = got[len(got)-1]
	var chat struct {
		Key string `json:"prompt_cache_key"`
	}
	if json.Unmarshal([]byte(sent), &chat) != nil || len(chat.Key) != 32 || strings.Contains(sent, "sk-secret") {
		t.Errorf("OpenAI request sent %s; want a 32-hex prompt_cache_key that is not the credential", sent)
	}
}

// TestPromptCacheWithMockAnthropic: the mock plays Anthropic's prompt
// cache; rag_prompt_cache's breakpoints make the second question (another
// one, same documents) read the prefix from it, and the proxy counts the
// tokens written and read per model, JSON and streamed, and prices them.
func TestPromptCacheWithMockAnthropic(t *testing.T) {
	_, upstream := startMock(t, mockupstream.Options{})
	p := startCaddy(t, `http://{SITE} {
	rag_prompt_cache
	reverse_proxy `+upstream+`
}`)
	written := p.counter("ragproxy_llm_prompt_tokens_total", `cache="write"`, `model="claude-sonnet-4-5*"`)
	read := p.counter("ragproxy_llm_prompt_tokens_total", `cache="read"`, `model="claude-sonnet-4-5*"`)
	spent := p.counter("ragproxy_llm_cost_usd_total", `model="claude-sonnet-4-5*"`)
	docs := strings.Repeat("passage ", 3000)
	ask := func(q string, stream bool) string {
		b, _ := json.Marshal(map[string]any{
			"model": "claude-sonnet-4-5", "max_tokens": 100, "stream": stream,
			"system": "Answer from the documents.",
			"messages": []any{
				map[string]any{"role": "user", "content": []any{map[string]any{"type": "text", "text": docs}}},
				map[string]any{"role": "assistant", "content": "Read."},
				map[string]any{"role": "user", "content": q}, // the mock answers this alone
			},
		})
		resp, body := post(t, p.URL+"/v1/messages", string(b))
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		return body
	}
	ask("What do they say?", false)
	first := spent()
	if w, r := written(), read(); w < 3000 || r != 0 {
		t.Errorf("first ask: %v tokens written to the provider's cache, %v read; want the documents written", w, r)
	}
	body := ask("And what else?", true)
	if !strings.Contains(body, "event: message_start") {
		t.Fatalf("not a stream: %s", body)
	}
	if r := read(); r < 3000 {
		t.Errorf("second ask (streamed): %v tokens read from the provider's cache; want the documents", r)
	}
	// about 3000 tokens written at 3.75/M the first time, read at 0.30/M
	// the second (plain input would be 3/M both times); a few tokens more
	// of question and answer
	if second := spent() - first; first < 3000*3.75/1e6 || first > 3000*3.75/1e6+0.001 || second < 3000*0.30/1e6 || second > 3000*0.30/1e6+0.001 {
		t.Errorf("costs %v then %v; want the prefix priced as a cache write, then as a cache read", first, second)
	}
}
