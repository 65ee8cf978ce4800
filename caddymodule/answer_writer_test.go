package caddymodule

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestAnswerWriterTokens(t *testing.T) {
	answer := func(w http.ResponseWriter, xcache, body string) int64 {
		aw := watchAnswer(w)
		defer aw.release()
		if body != "" {
			aw.Header().Set("Content-Type", "application/json")
			if xcache != "" {
				aw.Header().Set("X-Cache", xcache)
			}
			aw.Write([]byte(body))
		}
		return aw.upstreamTokens()
	}
	const usage = `{"usage":{"prompt_tokens":7,"completion_tokens":3}}`
	if n := answer(httptest.NewRecorder(), "", usage); n != 10 {
		t.Fatalf("upstream answer: %d tokens, want 10", n)
	}
	if n := answer(httptest.NewRecorder(), statusHit, usage); n != 0 {
		t.Fatalf("cache hit: %d tokens, want 0", n)
	}
	// A writer from the pool that sees no answer reports none, not the
	// previous answer's.
	for range 10 {
		answer(httptest.NewRecorder(), "", usage)
		if n := answer(httptest.NewRecorder(), "", ""); n != 0 {
			t.Fatalf("no answer written: %d tokens, want 0", n)
		}
	}
	rec := httptest.NewRecorder()
	answer(rec, "", usage)
	if rec.Body.String() != usage || rec.Code != http.StatusOK {
		t.Fatalf("client got %d %q", rec.Code, rec.Body.String())
	}
}
