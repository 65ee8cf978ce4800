package mockupstream

import (
	"net/http"
	"strings"
	"testing"
)

func TestMessagesPromptCache(t *testing.T) {
	_, ts := newTestServer(t, Options{})
	sys := strings.Repeat("rule ", 100)
	body := `{"model":"claude-sonnet-4-5","max_tokens":50,"system":[{"type":"text","text":"` + sys + `","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"What is RAG?"}]}`
	type usage struct {
		InputTokens              int `json:"input_tokens"`
		CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
		CacheReadInputTokens     int `json:"cache_read_input_tokens"`
		OutputTokens             int `json:"output_tokens"`
	}
	var first, second struct {
		Type       string
		StopReason string `json:"stop_reason"`
		Content    []struct{ Type, Text string }
		Usage      usage
	}
	resp, b := do(t, ts, http.MethodPost, "/v1/messages", body)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	decodeInto(t, b, &first)
	_, b = do(t, ts, http.MethodPost, "/v1/messages", body)
	decodeInto(t, b, &second)
	if first.Type != "message" || first.StopReason != "end_turn" || first.Content[0].Text != "Mock answer to: What is RAG?" {
		t.Errorf("answer %+v", first)
	}
	if u := first.Usage; u.CacheCreationInputTokens != 100 || u.CacheReadInputTokens != 0 || u.InputTokens != 3 {
		t.Errorf("first usage %+v; want 100 written to the cache, 3 input", u)
	}
	if u := second.Usage; u.CacheCreationInputTokens != 0 || u.CacheReadInputTokens != 100 || u.InputTokens != 3 {
		t.Errorf("second usage %+v; want 100 read from the cache, 3 input", u)
	}
	// no breakpoint: nothing cached
	_, b = do(t, ts, http.MethodPost, "/v1/messages", `{"model":"m","max_tokens":5,"system":"`+sys+`","messages":[{"role":"user","content":"hi"}]}`)
	var plain struct{ Usage usage }
	decodeInto(t, b, &plain)
	if plain.Usage.InputTokens != 101 || plain.Usage.CacheCreationInputTokens+plain.Usage.CacheReadInputTokens != 0 {
		t.Errorf("without a breakpoint: %+v", plain.Usage)
	}
	if resp, _ := do(t, ts, http.MethodPost, "/v1/messages", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`); resp.StatusCode != 400 {
		t.Errorf("no max_tokens: %d", resp.StatusCode)
	}
}

func TestMessagesStream(t *testing.T) {
	_, ts := newTestServer(t, Options{})
	resp, b := do(t, ts, http.MethodPost, "/v1/messages", `{"model":"claude-haiku-4-5","max_tokens":5,"stream":true,"messages":[{"role":"user","content":[{"type":"text","text":"Hi there"}]}]}`)
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
	s := string(b)
	for _, want := range []string{"event: message_start\ndata: {", "event: content_block_delta\n", `"text_delta"`, "event: message_delta\n", `"stop_reason":"end_turn"`, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("stream lacks %q:\n%s", want, s)
		}
	}
	if strings.Index(s, "message_start") > strings.Index(s, "message_stop") {
		t.Error("events out of order")
	}
}
