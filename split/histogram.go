package split

import (
	"math"
	"sync/atomic"
	"time"
)

// Latency histogram layout: bucket i holds [histMin·γ^i, histMin·γ^(i+1))
// with γ = 1.02, so 1022 buckets span 1µs to a little over 10 minutes in
// 8 KiB per variant. Shorter latencies fall in the first bucket and longer
// ones in the last.
const (
	histMin     = float64(time.Microsecond)
	histGrowth  = 1.02
	histBuckets = 1022
)

var (
	histInvLogGrowth = 1 / math.Log(histGrowth)
	// histValues[i] is bucket i's representative value in nanoseconds:
	// 2γ/(1+γ) times its lower bound, the point whose relative error to
	// either edge is equal, (γ-1)/(γ+1) ≈ 0.99%.
	histValues = func() (v [histBuckets]float64) {
		for i := range v {
			v[i] = histMin * math.Pow(histGrowth, float64(i)) * 2 * histGrowth / (1 + histGrowth)
		}
		return v
	}()
)

// histogram is a fixed-size log-bucketed latency histogram. Observe is
// lock-free and allocation-free; readers see each bucket atomically but
// not all buckets at one instant, which is fine for percentiles.
type histogram struct {
	counts [histBuckets]atomic.Uint64
}

// histBucket returns the bucket that holds d.
func histBucket(d time.Duration) int {
	ns := float64(d)
	if ns <= histMin {
		return 0
	}
	i := int(math.Log(ns/histMin) * histInvLogGrowth)
	return min(max(i, 0), histBuckets-1)
}

// observe counts one latency.
func (h *histogram) observe(d time.Duration) {
	h.counts[histBucket(d)].Add(1)
}

// percentiles returns, for each q in qs (0 < q ≤ 1), the representative
// value in nanoseconds of the bucket holding the nearest-rank q-quantile.
// With no observations every result is 0.
func (h *histogram) percentiles(qs ...float64) []float64 {
	// Copy once so all quantiles come from the same counts.
	var counts [histBuckets]uint64
	var total uint64
	for i := range counts {
		counts[i] = h.counts[i].Load()
		total += counts[i]
	}
	out := make([]float64, len(qs))
	if total == 0 {
		return out
	}
	for j, q := range qs {
		rank := uint64(math.Ceil(q * float64(total)))
		rank = min(max(rank, 1), total)
		var seen uint64
		for i, c := range counts {
			seen += c
			if seen >= rank {
				out[j] = histValues[i]
				break
			}
		}
	}
	return out
}
