package split

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistogramBucketError(t *testing.T) {
	// Every latency in range comes back within 1% (the bound is
	// (γ-1)/(γ+1) ≈ 0.99%; allow float slack at bucket edges).
	for x := float64(time.Microsecond); x < float64(10*time.Minute); x *= 1.0037 {
		d := time.Duration(x)
		got := histValues[histBucket(d)]
		if rel := math.Abs(got-float64(d)) / float64(d); rel > 0.0101 {
			t.Fatalf("%v: representative %v, relative error %.4f", d, time.Duration(got), rel)
		}
	}
}

func TestHistogramClamps(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{
		{-time.Second, 0},
		{0, 0},
		{time.Nanosecond, 0},
		{time.Microsecond, 0},
		{time.Hour, histBuckets - 1},
		{math.MaxInt64, histBuckets - 1},
	} {
		if got := histBucket(tc.d); got != tc.want {
			t.Errorf("histBucket(%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
	if top := time.Duration(histValues[histBuckets-1]); top < 10*time.Minute {
		t.Errorf("top bucket %v does not reach 10 minutes", top)
	}
}

func TestHistogramPercentilesMatchExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name string
		draw func() time.Duration
	}{
		{"lognormal around 50ms", func() time.Duration {
			return time.Duration(50e6 * math.Exp(1.5*rng.NormFloat64()))
		}},
		{"uniform 1µs-2s", func() time.Duration {
			return time.Microsecond + time.Duration(rng.Int64N(int64(2*time.Second)))
		}},
		{"bimodal cache hit/miss", func() time.Duration {
			if rng.IntN(10) < 7 {
				return time.Duration(200e3 * (1 + rng.Float64()))
			}
			return time.Duration(800e6 * (1 + rng.Float64()))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h histogram
			sample := make([]float64, 50_000)
			for i := range sample {
				d := tc.draw()
				sample[i] = float64(d)
				h.observe(d)
			}
			slices.Sort(sample)
			qs := []float64{0.01, 0.5, 0.9, 0.95, 0.99, 0.999, 1}
			got := h.percentiles(qs...)
			for i, q := range qs {
				rank := int(math.Ceil(q * float64(len(sample))))
				exact := sample[rank-1]
				if rel := math.Abs(got[i]-exact) / exact; rel > 0.02 {
					t.Errorf("q%.3f: histogram %v, exact %v, relative error %.4f", q, time.Duration(got[i]), time.Duration(exact), rel)
				}
			}
		})
	}
}

func TestHistogramEmptyAndSingle(t *testing.T) {
	var h histogram
	if got := h.percentiles(0.5, 0.99); got[0] != 0 || got[1] != 0 {
		t.Fatalf("empty histogram percentiles = %v, want zeros", got)
	}
	h.observe(42 * time.Millisecond)
	for _, p := range h.percentiles(0.01, 0.5, 1) {
		if rel := math.Abs(p-42e6) / 42e6; rel > 0.01 {
			t.Fatalf("single observation reported as %v", time.Duration(p))
		}
	}
}
