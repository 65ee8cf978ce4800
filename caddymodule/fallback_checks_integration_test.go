package caddymodule_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/ragproxy/ragproxy/internal/mockupstream"
)

// flawedUpstream answers chat completions with the flaw its question
// names: "badjson" (text that is not JSON), "wrongschema" (JSON of
// another shape), "length" (cut at the token limit), "refusal", or a good
// JSON answer; streamed when the request asks.
func flawedUpstream(t *testing.T) (addr string, calls *atomic.Int64) {
	calls = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var req struct {
			Stream   bool
			Messages []struct{ Content string }
		}
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &req)
		q := req.Messages[len(req.Messages)-1].Content
		content, finish, refusal := `{"name":"Ada","age":36}`, "stop", ""
		switch {
		case strings.HasPrefix(q, "badjson"):
			content = "Sure! Here is the JSON: {"
		case strings.HasPrefix(q, "wrongschema"):
			content = `{"name":"Ada"}`
		case strings.HasPrefix(q, "length"):
			content, finish = `{"name":"A`, "length"
		case strings.HasPrefix(q, "refusal"):
			content, refusal = "", "I can't help with that."
		}
		if req.Stream {
			w.Header().Set("Content-Type", "text/event-stream")
			delta, _ := json.Marshal(map[string]any{"content": content})
			if refusal != "" {
				delta, _ = json.Marshal(map[string]any{"refusal": refusal})
			}
			fmt.Fprintf(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":%s}]}\n\n", delta)
			fmt.Fprintf(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":%q}]}\n\n", finish)
			fmt.Fprint(w, "data: [DONE]\n\n")
			return
		}
		msg := map[string]any{"role": "assistant", "content": content}
		if refusal != "" {
			msg = map[string]any{"role": "assistant", "content": nil, "refusal": refusal}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "c1", "object": "chat.completion", "model": "m",
			"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}},
			"usage":   map[string]any{"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
		})
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), calls
}

var personFormat = openai.ChatCompletionNewParamsResponseFormatUnion{
	OfJSONSchema: &openai.ResponseFormatJSONSchemaParam{JSONSchema: openai.ResponseFormatJSONSchemaJSONSchemaParam{
		Name: "person",
		Schema: map[string]any{
			"type":       "object",
			"properties": map[string]any{"name": map[string]any{"type": "string"}, "age": map[string]any{"type": "integer"}},
			"required":   []string{"name", "age"},
		},
	}},
}

// TestFallbackOutputChecks: each output failure of a JSON answer moves
// the request to the next tier; a good answer stays on the first.
func TestFallbackOutputChecks(t *testing.T) {
	primary, _ := flawedUpstream(t)
	_, backup := startMock(t, mockupstream.Options{})
	p := startCaddy(t, `http://{SITE} {
	rag_fallback {
		tier oc_primary {
			fail_on_invalid_json
			fail_on_finish length
			fail_on_refusal
			reverse_proxy `+primary+`
		}
		tier oc_backup {
			reverse_proxy `+backup+`
		}
	}
}`)
	client := newClient(p, "k")
	for _, c := range []struct {
		question string
		json     bool
		tier     string
		reason   string
	}{
		{"good", true, "oc_primary", ""},
		{"badjson", true, "oc_backup", "invalid_json"},
		{"badjson but no JSON asked", false, "oc_primary", ""},
		{"wrongschema", true, "oc_backup", "invalid_json"},
		{"length", false, "oc_backup", "finish_length"},
		{"refusal", false, "oc_backup", "refusal"},
	} {
		var moved func() float64
		if c.reason != "" {
			moved = p.counter("ragproxy_fallbacks_total", `from="oc_primary"`, `reason="`+c.reason+`"`)
		}
		params := chatParams(c.question)
		if c.json {
			params.ResponseFormat = personFormat
		}
		var resp *http.Response
		if _, err := client.Chat.Completions.New(context.Background(), params, option.WithResponseInto(&resp)); err != nil {
			t.Fatalf("%s: %v", c.question, err)
		}
		if got := resp.Header.Get("X-RAG-Upstream"); got != c.tier {
			t.Errorf("%s: answered by %q, want %q", c.question, got, c.tier)
		}
		if moved != nil && moved() != 1 {
			t.Errorf("%s: fallbacks with reason %s grew by %v, want 1", c.question, c.reason, moved())
		}
	}
}

// TestFallbackStreamChecksAtEnd: a streamed answer is judged at its end:
// the client has it, but it is counted and never cached, while a good
// stream is.
func TestFallbackStreamChecksAtEnd(t *testing.T) {
	primary, calls := flawedUpstream(t)
	p := startCaddy(t, `http://{SITE} {
	rag_cache sc_cache
	rag_fallback {
		tier sc_primary {
			fail_on_finish length
			fail_on_refusal
			reverse_proxy `+primary+`
		}
		tier sc_apology {
			respond "busy" 200
		}
	}
}`)
	failed := p.counter("ragproxy_fallback_stream_failures_total", `tier="sc_primary"`, `reason="finish_length"`)
	ask := func(q string) (*http.Response, string) {
		return post(t, p.URL+"/v1/chat/completions", chatBody(q, true))
	}
	for i := range 2 {
		resp, body := ask("length, streamed")
		if resp.Header.Get("X-Cache") != "MISS" || !strings.Contains(body, `"finish_reason":"length"`) {
			t.Fatalf("try %d: X-Cache %q body %q; want the cut stream, passed through, never cached", i, resp.Header.Get("X-Cache"), body)
		}
	}
	if failed() != 2 || calls.Load() != 2 {
		t.Errorf("stream failures %v, upstream calls %d; want 2 and 2", failed(), calls.Load())
	}
	for i, want := range []string{"MISS", "HIT"} {
		if resp, _ := ask("good, streamed"); resp.Header.Get("X-Cache") != want {
			t.Errorf("good stream, try %d: X-Cache %q, want %q", i, resp.Header.Get("X-Cache"), want)
		}
	}
}
