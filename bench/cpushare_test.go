package main

import (
	"testing"

	"github.com/google/pprof/profile"
)

// stack builds a sample whose stack is fns, leaf first.
func stack(fns ...string) *profile.Sample {
	s := &profile.Sample{}
	for _, f := range fns {
		s.Location = append(s.Location, &profile.Location{Line: []profile.Line{{Function: &profile.Function{Name: f}}}})
	}
	return s
}

func TestPartOfChargesTheInnermostPart(t *testing.T) {
	const (
		server   = "github.com/caddyserver/caddy/v2/modules/caddyhttp.(*Server).ServeHTTP"
		limit    = "github.com/ragproxy/ragproxy/caddymodule.(*RateLimitHandler).serve"
		timed    = "github.com/ragproxy/ragproxy/caddymodule.serveTimed[go.shape.*uint8]"
		cache    = "github.com/ragproxy/ragproxy/caddymodule.(*CacheHandler).serve"
		semantic = "github.com/ragproxy/ragproxy/caddymodule.(*CacheHandler).semanticLookup"
		fallback = "github.com/ragproxy/ragproxy/caddymodule.(*FallbackHandler).serve"
		proxy    = "github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy.(*Handler).ServeHTTP"
	)
	for want, s := range map[string]*profile.Sample{
		"reverse_proxy":                      stack("runtime.mallocgc", proxy, fallback, cache, limit, timed, server),
		"rag_fallback":                       stack("maps.clone", fallback, cache, limit, timed, server),
		"rag_cache: semantic lookup and add": stack("github.com/ragproxy/ragproxy/semantic.dotsI8AVX2", semantic, cache, limit, timed, server),
		"rag_rate_limit":                     stack("github.com/ragproxy/ragproxy/llm.OutputCap", limit, timed, server),
		"ragproxy timing and cost metering":  stack("github.com/ragproxy/ragproxy/caddymodule.finishCost", timed, server),
		"Caddy's server and routes":          stack("context.WithValue", server, "net/http.(*conn).serve"),
		otherPart:                            stack("runtime.futex", "runtime.schedule"),
	} {
		if got := partOf(s); got != want {
			t.Errorf("%s charged to %q, want %q", s.Location[0].Line[0].Function.Name, got, want)
		}
	}
}
