package caddymodule

import (
	"net/http"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/ragproxy/ragproxy/contract"
)

// BenchmarkRequestTiming measures what timing a request costs (the
// outermost handler's answer watcher, ragproxy_requests_total and the two
// histograms): rag_split timing the request, against rag_split finding it
// timed already (by an outer handler, here a var set just before).
func BenchmarkRequestTiming(b *testing.B) {
	h := provisioned(b, &SplitHandler{
		Experiment: "bench_timing",
		Sticky:     "{http.request.header.Authorization}",
		Variants:   []SplitVariant{{Name: "control", Weight: 80}, {Name: "treatment", Weight: 20}},
	})
	b.Cleanup(func() { _ = h.Cleanup() })
	b.Run("timed", func(b *testing.B) { benchHandler(b, alreadyTimed{nil, h}, benchAuth) })
	b.Run("untimed", func(b *testing.B) { benchHandler(b, alreadyTimed{true, h}, benchAuth) })
}

// alreadyTimed runs a handler, first marking the request timed if mark is
// set; the same map write either way.
type alreadyTimed struct {
	mark any
	h    caddyhttp.MiddlewareHandler
}

func (a alreadyTimed) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	vars := r.Context().Value(caddyhttp.VarsCtxKey).(map[string]any)
	if a.mark != nil {
		vars[contract.VarTimed] = a.mark
	} else {
		vars["bench.unused"] = true
	}
	return a.h.ServeHTTP(w, r, next)
}
