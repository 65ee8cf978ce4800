package caddymodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/ragproxy/ragproxy/contract"
)

func TestAnswerWriterTokens(t *testing.T) {
	answer := func(w http.ResponseWriter, cacheVar, body string) int64 {
		r := httptest.NewRequest("POST", "/v1/chat/completions", nil)
		r = r.WithContext(context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{}))
		if cacheVar != "" {
			caddyhttp.SetVar(r.Context(), contract.VarCacheStatus, cacheVar)
		}
		aw := watchAnswer(w, r)
		defer aw.release()
		if body != "" {
			aw.Header().Set("Content-Type", "application/json")
			aw.Header().Set("X-Cache", contract.CacheHit) // an upstream's header: ignored
			aw.Write([]byte(body))
		}
		if cost, estimated := aw.cost(0); !estimated && cost != aw.upstreamTokens() {
			t.Errorf("cost %d, upstream tokens %d", cost, aw.upstreamTokens())
		}
		return aw.upstreamTokens()
	}
	const usage = `{"usage":{"prompt_tokens":7,"completion_tokens":3}}`
	if n := answer(httptest.NewRecorder(), "", usage); n != 10 {
		t.Fatalf("upstream answer: %d tokens, want 10", n)
	}
	for _, free := range []string{contract.CacheHit, contract.CacheSemanticHit, contract.CacheStale} {
		if n := answer(httptest.NewRecorder(), free, usage); n != 0 {
			t.Fatalf("rag.cache.status %s: %d tokens, want 0", free, n)
		}
	}
	if n := answer(httptest.NewRecorder(), contract.CacheMiss, usage); n != 10 {
		t.Fatalf("rag.cache.status MISS: %d tokens, want 10", n)
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

func TestAnswerWriterCostEstimate(t *testing.T) {
	r := httptest.NewRequest("POST", "/v1/chat/completions", nil)
	aw := watchAnswer(httptest.NewRecorder(), r)
	defer aw.release()
	if n, est := aw.cost(25); n != 25 || !est {
		t.Fatalf("no answer: cost %d (estimated %v), want the prompt estimate 25", n, est)
	}
	aw.Header().Set("Content-Type", "application/json")
	aw.Write([]byte(`{"answer":"no usage here"}`)) // 26 bytes
	if n, est := aw.cost(25); n != 25+7 || !est {
		t.Fatalf("answer without usage: cost %d (estimated %v), want 32", n, est)
	}
}

// Handlers that watch the same answer with nothing between them share one
// watcher (the answer is scanned once), and it outlives all but its last
// holder; a handler behind another writer, or given another request,
// watches on its own.
func TestAnswerWatcherShared(t *testing.T) {
	r := httptest.NewRequest("POST", "/v1/chat/completions", nil)
	r = r.WithContext(context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{}))
	rec := httptest.NewRecorder()
	outer := watchAnswer(rec, r)
	inner := watchAnswer(outer, r)
	if inner != outer {
		t.Fatal("a handler right behind another watches the answer with a second watcher")
	}
	other := watchAnswer(struct{ http.ResponseWriter }{outer}, r)
	if other == outer {
		t.Fatal("a watcher shared across a writer that may change the answer")
	}
	other.release()
	clone := r.Clone(r.Context())
	if aw := watchAnswer(outer, clone); aw == outer {
		t.Fatal("a watcher shared with another request")
	} else {
		aw.release()
	}
	const usage = `{"usage":{"prompt_tokens":7,"completion_tokens":3}}`
	inner.Header().Set("Content-Type", "application/json")
	_, _ = inner.Write([]byte(usage))
	inner.release()
	if outer.req != r || outer.upstreamTokens() != 10 {
		t.Fatalf("the outer watcher, after the inner handler let go: request %v, %d tokens", outer.req, outer.upstreamTokens())
	}
	outer.release()
	if rec.Body.String() != usage {
		t.Fatalf("client got %q", rec.Body.String())
	}
}
