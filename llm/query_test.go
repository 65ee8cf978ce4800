package llm

import (
	"encoding/json"
	"testing"
)

func decode(t testing.TB, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestTakeQuery(t *testing.T) {
	cases := []struct {
		name, path, body, field, want, rest string
	}{
		{"openai chat", "/v1/chat/completions", `{"model":"m","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"How do I reset my password?"}]}`, "",
			"How do I reset my password?", `{"messages":[{"content":"be brief","role":"system"},{"content":"","role":"user"}],"model":"m"}`},
		{"openai text parts", "/v1/chat/completions", `{"messages":[{"role":"user","content":[{"type":"text","text":"part one"},{"type":"text","text":"part two"}]}]}`, "",
			"part one\npart two", `{"messages":[{"content":"","role":"user"}]}`},
		{"anthropic", "/v1/messages", `{"model":"claude","system":"s","max_tokens":100,"messages":[{"role":"user","content":[{"type":"text","text":"hello there"}]}]}`, "",
			"hello there", `{"max_tokens":100,"messages":[{"content":"","role":"user"}],"model":"claude","system":"s"}`},
		{"completions", "/v1/completions", `{"model":"m","prompt":"Say hi"}`, "", "Say hi", `{"model":"m","prompt":""}`},
		{"rag query", "/search", `{"query":"what is bm25","top_k":5}`, "", "what is bm25", `{"query":"","top_k":5}`},
		{"rag question", "/rag/ask?x=1", `{"question":"why"}`, "", "why", `{"question":""}`},
		{"responses string", "/v1/responses", `{"model":"m","input":"What is RAG?","instructions":"brief"}`, "", "What is RAG?", `{"input":"","instructions":"brief","model":"m"}`},
		{"responses items", "/v1/responses", `{"input":[{"role":"developer","content":"d"},{"type":"message","role":"user","content":[{"type":"input_text","text":"What is RAG?"}]}]}`, "",
			"What is RAG?", `{"input":[{"content":"d","role":"developer"},{"content":"","role":"user","type":"message"}]}`},
		{"azure chat", "/openai/deployments/gpt/chat/completions?api-version=1", `{"messages":[{"role":"user","content":"hello there"}]}`, "", "hello there", `{"messages":[{"content":"","role":"user"}]}`},
		{"configured field", "/custom", `{"search":{"text":"find me"},"query":"ignored"}`, "search.text", "find me", `{"query":"ignored","search":{"text":""}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := decode(t, c.body)
			got, ok := TakeQuery(c.path, v, c.field)
			if !ok || got != c.want {
				t.Fatalf("TakeQuery = %q, %v; want %q", got, ok, c.want)
			}
			rest, _ := json.Marshal(v)
			if string(rest) != c.rest {
				t.Errorf("rest = %s\nwant   %s", rest, c.rest)
			}
		})
	}
}

func TestTakeQueryNone(t *testing.T) {
	for _, c := range []struct{ path, body string }{
		{"/v1/chat/completions", `{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"prefill"}]}`},
		{"/v1/chat/completions", `{"messages":[{"role":"tool","content":"result"}]}`},
		{"/v1/chat/completions", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}`},
		{"/v1/chat/completions", `{"messages":[]}`},
		{"/v1/chat/completions", `{"messages":[{"role":"user","content":"   "}]}`},
		{"/v1/chat/completions", `{"prompt":"a prompt is not a chat question"}`},
		{"/v1/responses", `{"input":[{"type":"function_call_output","role":"user","output":"x"}]}`},
		{"/v1/responses", `{"input":[{"role":"user","content":[{"type":"input_image","image_url":"x"}]}]}`},
		{"/v1/completions", `{"prompt":["a","b"]}`},
		{"/search", `{"model":"m"}`},
		{"/search", `{"query":42}`},
		{"/search", `[1,2]`},
		{"/search", `"just a string"`},
		// an embedding, a moderation verdict, a transcription or an image
		// belongs to its exact input
		{"/v1/embeddings", `{"input":"How do I reset my password?"}`},
		{"/v1/moderations", `{"input":"How do I reset my password?"}`},
		{"/api/embeddings", `{"prompt":"How do I reset my password?"}`},
		{"/api/embed", `{"input":"How do I reset my password?"}`},
		{"/v1/audio/speech", `{"input":"How do I reset my password?"}`},
		{"/v1/images/generations", `{"prompt":"a cat on a mat"}`},
		{"/v1/files", `{"query":"How do I reset my password?"}`},
		{"/V1/EMBEDDINGS/", `{"input":"How do I reset my password?"}`},
		{"/v1/threads/t1/messages", `{"messages":[{"role":"user","content":"q"}]}`},
		{"/search", `{"input":"input is the text of embeddings, not a RAG question"}`},
	} {
		if q, ok := TakeQuery(c.path, decode(t, c.body), ""); ok {
			t.Errorf("TakeQuery(%s, %s) = %q, want none", c.path, c.body, q)
		}
	}
	if _, ok := TakeQuery("/search", decode(t, `{"a":{"b":1}}`), "a.b"); ok {
		t.Error("configured non-string field taken")
	}
	if _, ok := TakeQuery("/search", decode(t, `{"a":1}`), "a.b.c"); ok {
		t.Error("missing configured path taken")
	}
	if _, ok := TakeQuery("/v1/embeddings", decode(t, `{"input":"How do I reset my password?"}`), "input"); ok {
		t.Error("a configured field taken from an embeddings request")
	}
}

func TestAPIOf(t *testing.T) {
	for path, want := range map[string]API{
		"/v1/chat/completions":      Chat,
		"/chat/completions/":        Chat,
		"/v1/completions":           Completions,
		"/v1/responses":             Responses,
		"/v1/messages":              Messages,
		"/v1/embeddings":            NoQuestion,
		"/v1/moderations":           NoQuestion,
		"/v1/files/file-1/content":  NoQuestion,
		"/v1/audio/transcriptions":  NoQuestion,
		"/v1/images/edits":          NoQuestion,
		"/v1/messages/batches":      NoQuestion,
		"/v1/uploads":               NoQuestion,
		"/query":                    RAG,
		"/":                         RAG,
		"":                          RAG,
		"/search?q=/v1/embeddings":  RAG,
		"/v1/messages/count_tokens": RAG,
	} {
		if got := APIOf(path); got != want {
			t.Errorf("APIOf(%q) = %v, want %v", path, got, want)
		}
	}
}

func FuzzTakeQuery(f *testing.F) {
	f.Add("/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}]}`, "")
	f.Add("/search", `{"query":"x","q":{"r":"y"}}`, "q.r")
	f.Add("/v1/messages", `{"messages":[{"role":"user","content":[{"type":"text","text":"a"}]}]}`, "messages")
	f.Add("/v1/responses", `{"input":[{"role":"user","content":[{"type":"input_text","text":"a"}]}]}`, "")
	f.Add("/v1/embeddings", `{"input":"x"}`, "input")
	f.Fuzz(func(t *testing.T, path, body, field string) {
		var v any
		if json.Unmarshal([]byte(body), &v) != nil {
			return
		}
		before, _ := json.Marshal(v)
		q, ok := TakeQuery(path, v, field)
		if ok && APIOf(path) == NoQuestion {
			t.Fatal("a question taken from an exact-input API")
		}
		if ok && q == "" {
			t.Fatal("ok with an empty question")
		}
		after, _ := json.Marshal(v)
		if ok == (string(before) == string(after)) {
			t.Fatalf("ok=%v but the body changed=%v", ok, string(before) != string(after))
		}
	})
}

// ModelOf reads a model's name as encoding/json decodes it, or "".
func TestModelOf(t *testing.T) {
	for _, model := range []string{`"gpt-4o-mini"`, `"é"`, `"a\"b"`, `"\u00e9"`, "\"\xff\"", "\"a\x01\"", `"\ud800"`, `""`, `3`, `null`} {
		var want string
		_ = json.Unmarshal([]byte(model), &want)
		if got := ModelOf([]byte(`{"model":` + model + `,"Stream":true}`)); got != want {
			t.Errorf("ModelOf(model %s) = %q, want %q", model, got, want)
		}
	}
}
