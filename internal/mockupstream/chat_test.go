package mockupstream

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

type chatAnswer struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
	Choices []struct {
		Index   int `json:"index"`
		Message struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"message"`
		Delta struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *usage `json:"usage"`
}

const multiPartChat = `{"model":"gpt-test","messages":[
	{"role":"system","content":"You are helpful."},
	{"role":"user","content":"hello there"},
	{"role":"assistant","content":"hi"},
	{"role":"user","content":[{"type":"text","text":"what is"},{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"RAG?"}]}
]}`

func TestChatJSON(t *testing.T) {
	_, ts := newTestServer(t, Options{})
	resp, b := do(t, ts, http.MethodPost, "/v1/chat/completions", multiPartChat)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var a chatAnswer
	decodeInto(t, b, &a)
	if a.ID != "chatcmpl-mock-1" || a.Object != "chat.completion" || a.Model != "gpt-test" || a.Created == 0 {
		t.Errorf("header fields: %+v", a)
	}
	if len(a.Choices) != 1 {
		t.Fatalf("choices: %s", b)
	}
	c := a.Choices[0]
	if c.Index != 0 || c.Message.Role != "assistant" || c.FinishReason == nil || *c.FinishReason != "stop" {
		t.Errorf("choice: %s", b)
	}
	if want := "Mock answer to: what is RAG?"; c.Message.Content != want {
		t.Errorf("content %q, want %q", c.Message.Content, want)
	}
	// Prompt words: 3 (system) + 2 + 1 + 3 (last user); answer: 6 words.
	if want := (usage{9, 6, 15}); a.Usage == nil || *a.Usage != want {
		t.Errorf("usage %+v, want %+v", a.Usage, want)
	}
}

func TestChatDeterministicWithIncreasingIDs(t *testing.T) {
	_, ts := newTestServer(t, Options{})
	for i, wantID := range []string{"chatcmpl-mock-1", "chatcmpl-mock-2", "chatcmpl-mock-3"} {
		_, b := do(t, ts, http.MethodPost, "/v1/chat/completions", `{"messages":[{"role":"user","content":"same question"}]}`)
		var a chatAnswer
		decodeInto(t, b, &a)
		if a.ID != wantID {
			t.Errorf("answer %d: id %q, want %q", i, a.ID, wantID)
		}
		if a.Model != "mock-model" {
			t.Errorf("default model %q", a.Model)
		}
		if got := a.Choices[0].Message.Content; got != "Mock answer to: same question" {
			t.Errorf("answer %d: content %q", i, got)
		}
	}
}

func TestChatStream(t *testing.T) {
	_, ts := newTestServer(t, Options{})
	text := "  multi   spaced\ttext "
	resp, b := do(t, ts, http.MethodPost, "/v1/chat/completions", chatBody(text, true))
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control %q", cc)
	}
	data, err := sseData(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	answer := "Mock answer to: " + text
	words := strings.Fields(answer)
	if want := len(words) + 3; len(data) != want {
		t.Fatalf("%d events, want %d:\n%s", len(data), want, b)
	}
	if data[len(data)-1] != "[DONE]" {
		t.Errorf("last event %q, want [DONE]", data[len(data)-1])
	}
	chunks := make([]chatAnswer, len(data)-1)
	for i := range chunks {
		decodeInto(t, []byte(data[i]), &chunks[i])
		c := chunks[i]
		if c.ID != "chatcmpl-mock-1" || c.Object != "chat.completion.chunk" || c.Model != "gpt-test" || c.Created != chunks[0].Created {
			t.Errorf("chunk %d header fields: %s", i, data[i])
		}
	}

	var got strings.Builder
	for i, c := range chunks[:len(words)] {
		if len(c.Choices) != 1 || c.Choices[0].FinishReason != nil || c.Usage != nil {
			t.Fatalf("word chunk %d: %s", i, data[i])
		}
		if role := c.Choices[0].Delta.Role; (i == 0) != (role == "assistant") {
			t.Errorf("word chunk %d: role %q", i, role)
		}
		if w := strings.TrimSpace(c.Choices[0].Delta.Content); w != words[i] {
			t.Errorf("word chunk %d: %q, want %q", i, w, words[i])
		}
		got.WriteString(c.Choices[0].Delta.Content)
	}
	if got.String() != answer {
		t.Errorf("streamed content %q, want %q", got.String(), answer)
	}

	finish := chunks[len(words)]
	if len(finish.Choices) != 1 || finish.Choices[0].FinishReason == nil || *finish.Choices[0].FinishReason != "stop" ||
		finish.Choices[0].Delta.Content != "" {
		t.Errorf("finish chunk: %s", data[len(words)])
	}
	last := data[len(words)+1]
	var raw map[string]json.RawMessage
	decodeInto(t, []byte(last), &raw)
	if string(raw["choices"]) != "[]" {
		t.Errorf("usage chunk choices %s, want []", raw["choices"])
	}
	if u := chunks[len(words)+1].Usage; u == nil || *u != (usage{3, len(words), 3 + len(words)}) {
		t.Errorf("usage chunk: %s", last)
	}
}

func TestChatValidation(t *testing.T) {
	_, ts := newTestServer(t, Options{})
	for _, body := range []string{
		``,
		`{"messages":`,
		`{"messages":[{"role":"user","content":42}]}`,
		`{"messages":[]}`,
		`{"model":"x"}`,
	} {
		resp, b := do(t, ts, http.MethodPost, "/v1/chat/completions", body)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%q: status %d", body, resp.StatusCode)
		}
		var e apiErrorBody
		decodeInto(t, b, &e)
		if e.Error.Type != "invalid_request_error" || e.Error.Message == "" || e.Error.Code != nil {
			t.Errorf("%q: error body %s", body, b)
		}
	}
}

func TestCompletion(t *testing.T) {
	_, ts := newTestServer(t, Options{})
	do(t, ts, http.MethodPost, "/v1/chat/completions", chatBody("x", false)) // takes seq 1
	resp, b := do(t, ts, http.MethodPost, "/v1/completions", `{"model":"m","prompt":"tell me"}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	var a struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Model   string `json:"model"`
		Choices []textChoice
		Usage   usage `json:"usage"`
	}
	decodeInto(t, b, &a)
	if a.ID != "cmpl-mock-2" || a.Object != "text_completion" || a.Model != "m" {
		t.Errorf("fields: %s", b)
	}
	if len(a.Choices) != 1 || a.Choices[0] != (textChoice{0, "Mock answer to: tell me", "stop"}) {
		t.Errorf("choices: %s", b)
	}
	if a.Usage != (usage{2, 5, 7}) {
		t.Errorf("usage %+v", a.Usage)
	}
}
