package caddymodule_test

import (
	"math"
	"strings"
	"testing"
)

// TestSplitCostPerVariant: the A/B report gives each variant the cost of
// its answers, by the same metering as the cost metric (recorded once,
// whether rag_split meters it or rag_validate, which runs before rag_split
// and finishes after it): a cache hit costs 0 and counts as saved. pricedUpstream answers
// cost $0.825 with gpt-4o-mini and $13.75 with gpt-4o (1M plain input,
// 1M cached input, 1M output).
func TestSplitCostPerVariant(t *testing.T) {
	for _, first := range []string{"rag_validate", ""} {
		t.Run("first="+first, func(t *testing.T) { splitCostPerVariant(t, first) })
	}
}

func splitCostPerVariant(t *testing.T, first string) {
	up := pricedUpstream(t)
	exp := "cost_ab_" + strings.TrimPrefix(first, "rag_")
	p := startCaddy(t, `http://{SITE} {
	`+first+`
	rag_split `+exp+` {
		variant mini 1
		variant big 1
		override_header X-Variant
	}
	rag_cache `+exp+`_cache
	reverse_proxy `+up+`
}`)
	for _, c := range []struct{ variant, model, cache string }{
		{"mini", "gpt-4o-mini", "MISS"},
		{"mini", "gpt-4o-mini", "HIT"},
		{"big", "gpt-4o", "MISS"},
	} {
		resp, b := post(t, p.URL+"/v1/chat/completions", modelBody(c.model, "What does it cost?"), "X-Variant", c.variant)
		if resp.StatusCode != 200 || resp.Header.Get("X-Cache") != c.cache || resp.Header.Get("X-Rag-Variant") != c.variant {
			t.Fatalf("%s: %d X-Cache %q variant %q, want 200 %s %s: %.200s", c.model, resp.StatusCode,
				resp.Header.Get("X-Cache"), resp.Header.Get("X-Rag-Variant"), c.cache, c.variant, b)
		}
	}
	r := p.experimentCost(exp)
	for _, want := range []struct {
		name                 string
		total, perReq, saved float64
		priced               int64
	}{
		{"mini", 0.825, 0.4125, 0.825, 2},
		{"big", 13.75, 13.75, 0, 1},
	} {
		got, ok := r[want.name]
		if !ok {
			t.Fatalf("no variant %q in %+v", want.name, r)
		}
		if math.Abs(got.TotalUSD-want.total) > 1e-6 || math.Abs(got.PerRequestUSD-want.perReq) > 1e-6 ||
			math.Abs(got.SavedUSD-want.saved) > 1e-6 || got.Requests != want.priced {
			t.Errorf("variant %s cost %+v, want total %v, per request %v, saved %v, over %d answers",
				want.name, got, want.total, want.perReq, want.saved, want.priced)
		}
	}
}
