package split

import (
	"math"
	"slices"
	"testing"
	"time"
)

func TestRecordCounts(t *testing.T) {
	v := NewExperiment("e").Variant("a")
	for _, o := range []Outcome{
		{Latency: 10 * time.Millisecond, CacheStatus: "HIT", Tokens: 100},
		{Latency: 20 * time.Millisecond, CacheStatus: "SEMANTIC-HIT"},
		{Latency: 30 * time.Millisecond, CacheStatus: "MISS", Tokens: 300, Error: true},
		{Latency: 40 * time.Millisecond, CacheStatus: "BYPASS", Tokens: -5},
		{Latency: 50 * time.Millisecond, CacheStatus: "STALE"},
		{Latency: 60 * time.Millisecond, CacheStatus: "hit"},     // case matters: OTHER
		{Latency: 70 * time.Millisecond, CacheStatus: "EXPIRED"}, // OTHER
		{Latency: 80 * time.Millisecond, Error: true},            // no cache on the route
	} {
		v.Record(o)
	}
	r := v.Snapshot()
	if r.Name != "a" || r.Requests != 8 || r.Errors != 2 || r.ErrorRate != 0.25 {
		t.Fatalf("counts: %+v", r)
	}
	wantCache := map[string]int64{"HIT": 1, "SEMANTIC-HIT": 1, "MISS": 1, "BYPASS": 1, "STALE": 1, "OTHER": 2}
	if len(r.Cache) != len(wantCache) {
		t.Fatalf("cache = %v, want %v", r.Cache, wantCache)
	}
	for k, n := range wantCache {
		if r.Cache[k] != n {
			t.Fatalf("cache = %v, want %v", r.Cache, wantCache)
		}
	}
	if r.Tokens.Total != 400 || r.Tokens.PerRequest != 200 {
		t.Fatalf("tokens = %+v, want 400 total over 2 requests", r.Tokens)
	}
	// Nearest rank over 10..80ms: p50 is the 4th value, p95 and p99 the 8th.
	for _, c := range []struct {
		got, want float64
	}{{r.Latency.P50Ms, 40}, {r.Latency.P95Ms, 80}, {r.Latency.P99Ms, 80}} {
		if math.Abs(c.got-c.want)/c.want > 0.01 {
			t.Fatalf("latency = %+v", r.Latency)
		}
	}
}

func TestEmptyVariantSnapshot(t *testing.T) {
	r := NewExperiment("e").Variant("a").Snapshot()
	if r.Requests != 0 || r.ErrorRate != 0 || r.Cache != nil || r.Tokens.PerRequest != 0 || r.Latency != (LatencyReport{}) || r.Feedback.CI95 != nil || r.Feedback.Binary {
		t.Fatalf("empty snapshot = %+v", r)
	}
}

func TestRecordDoesNotAllocate(t *testing.T) {
	v := NewExperiment("e").Variant("a")
	o := Outcome{Latency: 12 * time.Millisecond, CacheStatus: "SEMANTIC-HIT", Tokens: 42, Error: true}
	if n := testing.AllocsPerRun(1000, func() { v.Record(o) }); n != 0 {
		t.Fatalf("Record allocates %v times per call", n)
	}
}

func TestVariantGetOrCreate(t *testing.T) {
	e := NewExperiment("e")
	if e.Name() != "e" {
		t.Fatalf("Name() = %q", e.Name())
	}
	a := e.Variant("a")
	if e.Variant("a") != a || e.Variant("b") == a {
		t.Fatal("Variant must return one pointer per name")
	}
	e.SetVariants([]string{"b", "a", "b", "c"})
	if got := e.Variants(); !slices.Equal(got, []string{"b", "a", "c"}) {
		t.Fatalf("Variants() = %v, want duplicates dropped", got)
	}
	if e.Variant("a") != a {
		t.Fatal("SetVariants replaced existing stats")
	}
}

func TestFeedbackAccumulatorIsStable(t *testing.T) {
	// A large common offset wrecks a naive sum of squares; Welford keeps
	// the variance of {1e9+1, 1e9+2, 1e9+3} at exactly 1.
	var f feedback
	for _, x := range []float64{1e9 + 1, 1e9 + 2, 1e9 + 3} {
		f.add(x)
	}
	s := f.snapshot()
	if s.n != 3 || s.mean != 1e9+2 || s.variance() != 1 || s.binary {
		t.Fatalf("snapshot = %+v, variance %v", s, s.variance())
	}

	var b feedback
	for _, x := range []float64{1, 0, 1, 1} {
		b.add(x)
	}
	if s := b.snapshot(); !s.binary || s.ones != 3 || s.mean != 0.75 {
		t.Fatalf("binary snapshot = %+v", s)
	}
	b.add(0.5)
	if s := b.snapshot(); s.binary {
		t.Fatal("a 0.5 score must clear binary")
	}
}

// TestRecordCost: a variant's cost sums what its answers cost and what
// the cache saved, per priced answer; amounts that are no cost (negative,
// NaN, infinite, absurd) count as 0 and never poison the report.
func TestRecordCost(t *testing.T) {
	e := NewExperiment("cost")
	v := e.Variant("a")
	v.RecordCost(0.825, 0)
	v.RecordCost(0, 0.825)
	v.RecordCost(math.NaN(), math.Inf(1))
	v.RecordCost(-1, 1e7)
	c := v.Snapshot().Cost
	if math.Abs(c.TotalUSD-0.825) > 1e-9 || math.Abs(c.SavedUSD-0.825) > 1e-9 || c.Requests != 4 ||
		math.Abs(c.PerRequestUSD-0.825/4) > 1e-9 {
		t.Fatalf("cost %+v, want total 0.825, saved 0.825, 4 answers, 0.20625 each", c)
	}
	if c := e.Variant("b").Snapshot().Cost; c != (CostReport{}) {
		t.Fatalf("a variant with no answers: %+v", c)
	}
}
