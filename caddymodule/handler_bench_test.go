package caddymodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// benchAnswer is an OpenAI chat answer with its usage, as the bench's mock
// upstream sends.
const benchAnswer = `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"mock",` +
	`"choices":[{"index":0,"message":{"role":"assistant","content":"The retrieval step returns the top passages."},` +
	`"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}}`

// benchQuestion is a chat request that does not stream, as the bench's.
const benchQuestion = `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a concise assistant."},` +
	`{"role":"user","content":"What does retrieval-augmented generation add to a language model?"}],"temperature":0}`

// answerNext stands for the upstream: it writes benchAnswer.
var answerNext = caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write([]byte(benchAnswer))
	return err
})

// benchHandler measures one middleware's own cost per request: a request
// prepared as Caddy's server prepares it, the middleware, then answerNext.
// A nil handler measures the floor (the preparation and answerNext alone).
func benchHandler(b *testing.B, h caddyhttp.MiddlewareHandler, header http.Header) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(benchQuestion))
		for k, v := range header {
			r.Header[k] = v
		}
		w := discardWriter{header: make(http.Header)}
		repl := caddy.NewReplacer()
		r = caddyhttp.PrepareRequest(r, repl, &w, nil)
		var err error
		if h == nil {
			err = answerNext.ServeHTTP(&w, r)
		} else {
			err = h.ServeHTTP(&w, r, answerNext)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// discardWriter is a ResponseWriter that keeps headers and drops the body.
type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// provisioned provisions m in a fresh Caddy context and returns it.
func provisioned[T caddy.Provisioner](b *testing.B, m T) T {
	b.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	b.Cleanup(cancel)
	if err := m.Provision(ctx); err != nil {
		b.Fatal(err)
	}
	return m
}

var benchAuth = http.Header{"Authorization": {"Bearer sk-bench-0123456789"}}

func BenchmarkFloor(b *testing.B) { benchHandler(b, nil, benchAuth) }

func BenchmarkSplitHandler(b *testing.B) {
	h := provisioned(b, &SplitHandler{
		Experiment: "bench_split",
		Sticky:     "{http.request.header.Authorization}",
		Variants:   []SplitVariant{{Name: "control", Weight: 80}, {Name: "treatment", Weight: 20}},
	})
	b.Cleanup(func() { _ = h.Cleanup() })
	benchHandler(b, h, benchAuth)
}

func BenchmarkRateLimitTokens(b *testing.B) {
	for _, mode := range []string{streamUsageAsk, streamUsageOff} {
		b.Run("stream_usage="+mode, func(b *testing.B) {
			h := provisioned(b, &RateLimitHandler{
				StreamUsage: mode,
				Zones: []*RateLimitZone{{Name: "bench_tokens_" + mode, Key: "{http.request.header.Authorization}",
					Tokens: "1000000000000/h"}},
			})
			b.Cleanup(func() { _ = h.Cleanup() })
			benchHandler(b, h, benchAuth)
		})
	}
}
