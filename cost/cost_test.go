package cost

import (
	"math"
	"testing"
)

func TestOf(t *testing.T) {
	p := Price{Input: 3, CacheWrite: 3.75, CachedInput: 0.30, Output: 15}
	// 1M prompt tokens: 600k read from cache, 100k written, 300k plain; 200k out.
	got := p.Of(Usage{Input: 1_000_000, CacheRead: 600_000, CacheWrite: 100_000, Output: 200_000})
	want := 0.3*3 + 0.6*0.30 + 0.1*3.75 + 0.2*15
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("cost %v, want %v", got, want)
	}
	// no cache-write price: written tokens are priced as input
	q := Price{Input: 2, CachedInput: 0.5, Output: 8}
	if got := q.Of(Usage{Input: 1e6, CacheWrite: 1e6}); got != 2 {
		t.Errorf("cache writes without a price: %v, want 2", got)
	}
	// counts that do not add up never price below zero
	if got := q.Of(Usage{Input: 10, CacheRead: 100}); got < 0 {
		t.Errorf("negative cost %v", got)
	}
}

func TestLookup(t *testing.T) {
	tab := NewTable(map[string]Price{"my-model": {Input: 1, Output: 2}, "gpt-4o*": {Input: 9}})
	cases := []struct {
		model, label string
		known        bool
		input        float64
	}{
		{"my-model", "my-model", true, 1},
		{"gpt-4o-mini-2024-07-18", "gpt-4o-mini*", true, 0.15},
		{"gpt-4o-2024-08-06", "gpt-4o*", true, 9}, // overridden
		{"claude-sonnet-4-5-20250929", "claude-sonnet-4-5*", true, 3},
		{"mock-model", "", false, 0},
	}
	for _, c := range cases {
		p, label, ok := tab.Lookup(c.model)
		if ok != c.known || label != c.label || p.Input != c.input {
			t.Errorf("%s: %v %q %v; want %v %q %v", c.model, ok, label, p.Input, c.known, c.label, c.input)
		}
	}
}

// TestPriceOrDearest: a known model gets its price; an unknown one the
// table's dearest of each field, so a budget never prices it at nothing;
// a "*" entry prices every model.
func TestPriceOrDearest(t *testing.T) {
	tab := NewTable(map[string]Price{"cheap": {Input: 1, Output: 2}, "odd*": {Input: 0.5, CachedInput: 400, Output: 1}})
	if p := tab.PriceOrDearest("cheap"); p != (Price{Input: 1, Output: 2}) {
		t.Errorf("cheap: %+v", p)
	}
	d := tab.PriceOrDearest("nobody-knows")
	if d.Input != 15 || d.Output != 75 || d.CachedInput != 400 || d.CacheWrite != 18.75 {
		t.Errorf("unknown model priced %+v, want each field's largest (15, 75, 400, 18.75)", d)
	}
	all := NewTable(map[string]Price{"*": {Input: 0.01, Output: 0.02}})
	if p := all.PriceOrDearest("nobody-knows"); p != (Price{Input: 0.01, Output: 0.02}) {
		t.Errorf("with a * price: %+v", p)
	}
}
