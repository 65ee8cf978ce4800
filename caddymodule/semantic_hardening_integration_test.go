package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// newEchoUpstream answers every request with its path and body, so a
// test can tell whose answer it received.
func newEchoUpstream(t *testing.T) string {
	return startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		out, _ := json.Marshal(map[string]string{"path": r.URL.Path, "body": string(b)})
		w.Write(out)
	})
}

// TestSemanticOnlyWhereAQuestionIsAsked: an embedding or a moderation
// verdict belongs to its exact input; a paraphrase must never receive
// another text's. Chat, completions, responses, Anthropic messages and
// RAG queries still match by meaning.
func TestSemanticOnlyWhereAQuestionIsAsked(t *testing.T) {
	p := startCaddy(t, semanticSite(newEchoUpstream(t), ""))
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	never := map[string]func(string) string{
		"/v1/embeddings":  func(q string) string { return js(map[string]any{"model": "e", "input": q}) },
		"/v1/moderations": func(q string) string { return js(map[string]any{"input": q}) },
		// Ollama's embeddings API takes a prompt
		"/api/embeddings":        func(q string) string { return js(map[string]any{"model": "e", "prompt": q}) },
		"/v1/images/generations": func(q string) string { return js(map[string]any{"prompt": q}) },
		"/v1/audio/speech":       func(q string) string { return js(map[string]any{"model": "tts", "input": q}) },
		// an unknown path: input is not a RAG query field
		"/search": func(q string) string { return js(map[string]any{"input": q}) },
	}
	for path, body := range never {
		post(t, p.URL+path, body(question))
		r, got := post(t, p.URL+path, body(paraphrase))
		if r.Header.Get("X-Cache") == "SEMANTIC-HIT" || !strings.Contains(got, "How can I") {
			t.Errorf("%s: a paraphrase got X-Cache %q and %s, want its own answer", path, r.Header.Get("X-Cache"), got)
		}
	}
	always := map[string]func(string) string{
		"/v1/chat/completions": func(q string) string { return chatBody(q, false) },
		"/v1/completions":      func(q string) string { return js(map[string]any{"model": "m", "prompt": q}) },
		"/v1/responses":        func(q string) string { return js(map[string]any{"model": "m", "input": q}) },
		"/v1/responses#items": func(q string) string {
			return js(map[string]any{"model": "m", "input": []any{map[string]any{"role": "user", "content": []any{map[string]any{"type": "input_text", "text": q}}}}})
		},
		"/v1/messages": func(q string) string {
			return js(map[string]any{"model": "c", "max_tokens": 10, "messages": []any{map[string]any{"role": "user", "content": q}}})
		},
		"/rag/query": func(q string) string { return js(map[string]any{"query": q, "top_k": 3}) },
	}
	for path, body := range always {
		post(t, p.URL+path, body(question))
		r, got := post(t, p.URL+path, body(paraphrase))
		if r.Header.Get("X-Cache") != "SEMANTIC-HIT" || !strings.Contains(got, "How do I") {
			t.Errorf("%s: a paraphrase got X-Cache %q and %s, want the cached answer", path, r.Header.Get("X-Cache"), got)
		}
	}
}

// remoteSemanticSite is an echo upstream behind rag_cache with the
// semantic layer on the OpenAI-compatible embedder at embedURL, plus the
// semantic option extra (one line, or empty).
func remoteSemanticSite(t *testing.T, embedURL, extra string) string {
	return semanticSite(newEchoUpstream(t), "{\n\t\t\tembedder openai\n\t\t\turl "+embedURL+
		"\n\t\t\tmodel fake\n\t\t\ttimeout 5s\n\t\t\t"+extra+"\n\t\t}")
}

// TestSemanticRemoteEmbeddingsAreKeptPerScope: a tenant must not learn,
// from how fast its question is embedded, that another tenant asked it.
func TestSemanticRemoteEmbeddingsAreKeptPerScope(t *testing.T) {
	embedURL, batches := fakeEmbeddings(t)
	p := startCaddy(t, remoteSemanticSite(t, embedURL, ""))
	q := `{"query":"what is the refund policy for annual plans"}`
	post(t, p.URL+"/query", q, "Authorization", "Bearer alice")
	post(t, p.URL+"/query", q, "Authorization", "Bearer alice")
	if n := len(batches()); n != 1 {
		t.Fatalf("embeddings calls %d after one tenant asked twice, want 1", n)
	}
	post(t, p.URL+"/query", q, "Authorization", "Bearer bob")
	if n := len(batches()); n != 2 {
		t.Errorf("embeddings calls %d after another tenant asked the same question, want 2 (its own)", n)
	}
}

// TestSemanticRemoteOverLongQuestionIsSkipped: a question longer than
// max_input_chars is not sent to the embedder (exact caching still works).
func TestSemanticRemoteOverLongQuestionIsSkipped(t *testing.T) {
	embedURL, batches := fakeEmbeddings(t)
	p := startCaddy(t, remoteSemanticSite(t, embedURL, "max_input_chars 100"))
	long := fmt.Sprintf(`{"query":"%s"}`, strings.Repeat("why is the sky blue ", 10))
	r1, _ := post(t, p.URL+"/query", long)
	r2, _ := post(t, p.URL+"/query", long)
	if r1.StatusCode != 200 || r2.Header.Get("X-Cache") != "HIT" || len(batches()) != 0 {
		t.Errorf("statuses %d, X-Cache %q, embeddings calls %v: want 200, an exact HIT and no call", r1.StatusCode, r2.Header.Get("X-Cache"), batches())
	}
}
