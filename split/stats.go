package split

import (
	"math"
	"sync/atomic"
	"time"
)

// Outcome is what one request through a variant produced.
type Outcome struct {
	// Latency is the time taken to serve the request.
	Latency time.Duration
	// Error marks a failed request, by whatever rule the caller uses.
	Error bool
	// CacheStatus is the cache's verdict (HIT, SEMANTIC-HIT, MISS, BYPASS,
	// STALE); empty when the route has no cache. Anything else counts as
	// OTHER.
	CacheStatus string
	// Tokens is the request's token usage; zero or less means unknown.
	Tokens int64
}

// VariantStats accumulates the outcomes and feedback of one variant. Its
// methods are safe for concurrent use.
type VariantStats struct {
	name string

	requests      atomic.Int64
	errors        atomic.Int64
	tokens        atomic.Int64
	tokenRequests atomic.Int64
	cache         [numCacheStatuses]atomic.Int64
	latency       histogram
	costNano      atomic.Int64 // dollars spent, in nano-dollars
	savedNano     atomic.Int64 // dollars the cache saved, in nano-dollars
	costRequests  atomic.Int64 // answers priced

	feedback feedback
}

// Name returns the variant's name.
func (v *VariantStats) Name() string { return v.name }

// Record counts one request. It runs on every request, so it only touches
// atomic counters: no lock, no allocation.
func (v *VariantStats) Record(o Outcome) {
	// requests before errors, and snapshot reads them in the opposite
	// order, so a report never shows more errors than requests.
	v.requests.Add(1)
	if o.Error {
		v.errors.Add(1)
	}
	v.latency.observe(o.Latency)
	if i := cacheIndex(o.CacheStatus); i >= 0 {
		v.cache[i].Add(1)
	}
	if o.Tokens > 0 {
		// tokens before tokenRequests, read in the opposite order, for
		// the same reason as above.
		v.tokens.Add(o.Tokens)
		v.tokenRequests.Add(1)
	}
}

// RecordCost counts one priced answer: spent is what it cost in US
// dollars (0 for an answer from the cache), saved what the cache saved by
// giving it. Negative or non-finite amounts count as 0. Like Record, it
// only touches atomic counters.
func (v *VariantStats) RecordCost(spent, saved float64) {
	// amounts before costRequests, read in the opposite order, as Record.
	v.costNano.Add(nanoUSD(spent))
	v.savedNano.Add(nanoUSD(saved))
	v.costRequests.Add(1)
}

// nanoUSD turns dollars into whole nano-dollars, 0 for what is not a
// positive finite amount below $1,000,000 (one answer's cost: the sums
// stay far from overflowing).
func nanoUSD(usd float64) int64 {
	if !(usd > 0) || usd >= 1e6 {
		return 0
	}
	return int64(math.Round(usd * 1e9))
}

// variantSnapshot is a raw copy of a VariantStats, the input both to the
// variant's report and to the comparisons against the control.
type variantSnapshot struct {
	name                  string
	requests, errors      int64
	tokens, tokenRequests int64
	costNano, savedNano   int64
	costRequests          int64
	cache                 [numCacheStatuses]int64
	latencyNs             []float64 // p50, p95, p99
	feedback              feedbackSnapshot
}

// snapshot copies v's counters.
func (v *VariantStats) snapshot() variantSnapshot {
	s := variantSnapshot{name: v.name}
	s.errors = v.errors.Load()
	s.requests = v.requests.Load()
	s.tokenRequests = v.tokenRequests.Load()
	s.tokens = v.tokens.Load()
	s.costRequests = v.costRequests.Load()
	s.costNano = v.costNano.Load()
	s.savedNano = v.savedNano.Load()
	for i := range s.cache {
		s.cache[i] = v.cache[i].Load()
	}
	s.latencyNs = v.latency.percentiles(0.50, 0.95, 0.99)
	s.feedback = v.feedback.snapshot()
	return s
}

// Snapshot returns the variant's current report, for callers (a metrics
// exporter, say) that want one variant without a whole experiment report.
func (v *VariantStats) Snapshot() VariantReport {
	return v.snapshot().report()
}
