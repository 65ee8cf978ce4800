package caddymodule

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// BenchmarkFallbackHandler measures rag_fallback's own cost per request:
// one tier whose route answers benchAnswer (static_response), against
// the same static_response on its own (the floor).
func BenchmarkFallbackHandler(b *testing.B) {
	answer := json.RawMessage(`{"handler":"static_response","status_code":200,` +
		`"headers":{"Content-Type":["application/json"]},"body":` + strconv.Quote(benchAnswer) + `}`)
	b.Run("floor", func(b *testing.B) {
		static := new(caddyhttp.StaticResponse)
		if err := json.Unmarshal(answer, static); err != nil {
			b.Fatal(err)
		}
		benchHandler(b, staticLast{static}, benchAuth)
	})
	b.Run("one_tier", func(b *testing.B) {
		h := provisioned(b, &FallbackHandler{Tiers: []*Tier{{Name: "bench_primary",
			Routes: caddyhttp.RouteList{{HandlersRaw: []json.RawMessage{answer}}}}}})
		b.Cleanup(func() { _ = h.Cleanup() })
		benchHandler(b, h, benchAuth)
	})
}

// staticLast runs a static_response as the last handler, in place of next.
type staticLast struct{ h *caddyhttp.StaticResponse }

func (s staticLast) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	return s.h.ServeHTTP(w, r, nil)
}
