package main

import (
	"math"
	"slices"
	"time"
)

// latencySummary is the distribution of one run's request timings.
type latencySummary struct {
	P50, P90, P99, Max time.Duration
}

// summarize sorts lat in place and reads its percentiles.
func summarize(lat []time.Duration) latencySummary {
	if len(lat) == 0 {
		return latencySummary{}
	}
	slices.Sort(lat)
	return latencySummary{
		P50: percentile(lat, 0.50),
		P90: percentile(lat, 0.90),
		P99: percentile(lat, 0.99),
		Max: lat[len(lat)-1],
	}
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// median of the values (the mean of the middle two for an even count).
func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
