package split

import (
	"slices"
	"time"
)

// Report is a point-in-time snapshot of an experiment, ready for JSON.
// Nothing in it is NaN or infinite.
type Report struct {
	// Name is the experiment's name.
	Name string `json:"name"`
	// Control is the first configured variant; empty before SetVariants.
	Control string `json:"control"`
	// Variants lists the configured variants, control first.
	Variants []VariantReport `json:"variants"`
	// Comparisons holds one entry per non-control variant.
	Comparisons []Comparison `json:"comparisons"`
}

// VariantReport summarises one variant.
type VariantReport struct {
	Name      string  `json:"name"`
	Requests  int64   `json:"requests"`
	Errors    int64   `json:"errors"`
	ErrorRate float64 `json:"error_rate"`
	// Latency percentiles are accurate to about 1%.
	Latency LatencyReport `json:"latency_ms"`
	// Cache counts requests per cache status; absent when none had one.
	Cache    map[string]int64 `json:"cache,omitempty"`
	Tokens   TokensReport     `json:"tokens"`
	Cost     CostReport       `json:"cost"`
	Feedback FeedbackReport   `json:"feedback"`
}

// CostReport holds what the variant's answers cost, in US dollars, by the
// price table of the route (answers of models it does not price are not
// counted).
type CostReport struct {
	// TotalUSD is what the priced answers cost; 0 for cache hits.
	TotalUSD float64 `json:"total_usd"`
	// PerRequestUSD is TotalUSD over the priced answers.
	PerRequestUSD float64 `json:"per_request_usd"`
	// SavedUSD is what answers from the cache would have cost.
	SavedUSD float64 `json:"saved_usd"`
	// Requests is how many answers were priced.
	Requests int64 `json:"requests"`
}

// LatencyReport holds latency percentiles in milliseconds.
type LatencyReport struct {
	P50Ms float64 `json:"p50"`
	P95Ms float64 `json:"p95"`
	P99Ms float64 `json:"p99"`
}

// TokensReport holds token usage.
type TokensReport struct {
	// Total is the sum over all requests.
	Total int64 `json:"total"`
	// PerRequest is Total over the requests that reported tokens.
	PerRequest float64 `json:"per_request"`
}

// FeedbackReport summarises feedback scores.
type FeedbackReport struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean"`
	// CI95 is the 95% confidence interval of the mean: Wilson for binary
	// feedback, Student t otherwise. Nil below two scores.
	CI95 *[2]float64 `json:"ci95"`
	// Binary is true when every score so far was 0 or 1.
	Binary bool `json:"binary"`
}

// Comparison tests one variant against the control.
type Comparison struct {
	Variant string `json:"variant"`
	Control string `json:"control"`
	// ErrorRate compares error rates with the two-proportion z-test.
	ErrorRate Test `json:"error_rate"`
	// Feedback compares feedback: two-proportion z when both sides are
	// binary, Welch t otherwise. Nil when neither side has feedback.
	Feedback *Test `json:"feedback"`
}

// Report snapshots the configured variants and compares each with the
// control. Before SetVariants there is no control: every variant seen so
// far is reported, by name, with no comparisons.
func (e *Experiment) Report() Report {
	e.mu.RLock()
	names := slices.Clone(e.current)
	control := len(names) > 0
	if !control {
		for n := range e.stats {
			names = append(names, n)
		}
		slices.Sort(names)
	}
	stats := make([]*VariantStats, len(names))
	for i, n := range names {
		stats[i] = e.stats[n]
	}
	e.mu.RUnlock()

	r := Report{Name: e.name, Variants: make([]VariantReport, len(stats)), Comparisons: []Comparison{}}
	snaps := make([]variantSnapshot, len(stats))
	for i, v := range stats {
		snaps[i] = v.snapshot()
		r.Variants[i] = snaps[i].report()
	}
	if control {
		r.Control = names[0]
		for _, s := range snaps[1:] {
			r.Comparisons = append(r.Comparisons, compare(s, snaps[0]))
		}
	}
	return r
}

// report turns a snapshot into its VariantReport.
func (s variantSnapshot) report() VariantReport {
	r := VariantReport{
		Name:      s.name,
		Requests:  s.requests,
		Errors:    s.errors,
		ErrorRate: ratio(s.errors, s.requests),
		Latency: LatencyReport{
			P50Ms: s.latencyNs[0] / float64(time.Millisecond),
			P95Ms: s.latencyNs[1] / float64(time.Millisecond),
			P99Ms: s.latencyNs[2] / float64(time.Millisecond),
		},
		Tokens: TokensReport{Total: s.tokens, PerRequest: ratio(s.tokens, s.tokenRequests)},
		Cost: CostReport{
			TotalUSD:      float64(s.costNano) / 1e9,
			PerRequestUSD: ratio(s.costNano, s.costRequests) / 1e9,
			SavedUSD:      float64(s.savedNano) / 1e9,
			Requests:      s.costRequests,
		},
		Feedback: FeedbackReport{
			Count:  s.feedback.n,
			Mean:   finite(s.feedback.mean),
			Binary: s.feedback.binary,
		},
	}
	for i, c := range s.cache {
		if c > 0 {
			if r.Cache == nil {
				r.Cache = make(map[string]int64, numCacheStatuses)
			}
			r.Cache[cacheStatusNames[i]] = c
		}
	}
	fb := s.feedback
	var ci [2]float64
	var ok bool
	if fb.binary {
		ci, ok = wilson(fb.ones, fb.n)
	} else {
		ci, ok = tInterval(fb.mean, fb.variance(), fb.n)
	}
	if ok {
		r.Feedback.CI95 = &ci
	}
	return r
}

// compare tests treatment t against control c.
func compare(t, c variantSnapshot) Comparison {
	cmp := Comparison{
		Variant:   t.name,
		Control:   c.name,
		ErrorRate: twoProportionZ(t.errors, t.requests, c.errors, c.requests),
	}
	tf, cf := t.feedback, c.feedback
	if tf.n == 0 && cf.n == 0 {
		return cmp
	}
	var fb Test
	// An empty side is compatible with either test; a side with a
	// non-binary score forces Welch.
	if (tf.n == 0 || tf.binary) && (cf.n == 0 || cf.binary) {
		fb = twoProportionZ(tf.ones, tf.n, cf.ones, cf.n)
	} else {
		fb = welchT(tf.mean, tf.variance(), tf.n, cf.mean, cf.variance(), cf.n)
	}
	cmp.Feedback = &fb
	return cmp
}
