package split

import (
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

// variantSnapshot is a raw copy of a VariantStats, the input both to the
// variant's report and to the comparisons against the control.
type variantSnapshot struct {
	name                  string
	requests, errors      int64
	tokens, tokenRequests int64
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
