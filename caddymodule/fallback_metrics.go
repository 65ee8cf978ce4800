package caddymodule

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ragproxy/ragproxy/breaker"
)

// tierVecs are rag_fallback's collectors.
var tierVecs = struct {
	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	fallbacks      *prometheus.CounterVec
	firstByte      *prometheus.HistogramVec
	upstreamErrors *prometheus.CounterVec
	streamFailures *prometheus.CounterVec
}{
	requests: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_fallback_requests_total",
		Help: "Tries of a rag_fallback tier by outcome (success, failure, ignored: the client went away, rejected: breaker open).",
	}, []string{"tier", "outcome"}),
	duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ragproxy_fallback_request_duration_seconds",
		Help:    "Duration of tries of a rag_fallback tier by outcome, the whole answer included.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
	}, []string{"tier", "outcome"}),
	fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_fallbacks_total",
		Help: "Requests handed from one tier to the next (to=\"none\": every tier failed) by reason (open, status, timeout, first_byte_timeout, transport, no_answer, empty, invalid_json, finish_length, refusal).",
	}, []string{"from", "to", "reason"}),
	firstByte: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ragproxy_fallback_first_byte_seconds",
		Help:    "Time from the start of a try of a rag_fallback tier to its answer's status line, whatever the status.",
		Buckets: timingBuckets,
	}, []string{"tier"}),
	upstreamErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_upstream_errors_total",
		Help: "Failed tries of a rag_fallback tier (retries included) by class: status (a failure status), timeout, first_byte_timeout, transport, no_answer, broken (the answer failed after it started), and the answer checks empty, invalid_json, finish_length, refusal (its tier's fail_on_* options).",
	}, []string{"tier", "class"}),
	streamFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_fallback_stream_failures_total",
		Help: "Streamed answers that failed their tier's checks at their end (too late for the next tier; not cached), by tier and reason (invalid_json, finish_length, refusal).",
	}, []string{"tier", "reason"}),
}

func init() {
	addCollectors(tierVecs.requests, tierVecs.duration, tierVecs.fallbacks, tierVecs.firstByte,
		tierVecs.upstreamErrors, tierVecs.streamFailures)
}

// tierMetrics are one tier's series, resolved once at Provision.
type tierMetrics struct {
	rejected  prometheus.Counter
	firstByte prometheus.Observer
	errors    map[string]prometheus.Counter // by class
	byOutcome [3]struct {
		requests prometheus.Counter
		duration prometheus.Observer
	}
}

func newTierMetrics(tier string) tierMetrics {
	knownUpstreams.Store(tier, true)
	m := tierMetrics{
		rejected:  tierVecs.requests.WithLabelValues(tier, "rejected"),
		firstByte: tierVecs.firstByte.WithLabelValues(tier),
		errors:    make(map[string]prometheus.Counter, len(errorClasses)),
	}
	for _, c := range errorClasses {
		m.errors[c] = tierVecs.upstreamErrors.WithLabelValues(tier, c)
	}
	for o, name := range outcomeNames {
		m.byOutcome[o].requests = tierVecs.requests.WithLabelValues(tier, name)
		m.byOutcome[o].duration = tierVecs.duration.WithLabelValues(tier, name)
	}
	return m
}

func (m *tierMetrics) observe(o breaker.Outcome, d time.Duration) {
	m.byOutcome[o].requests.Inc()
	m.byOutcome[o].duration.Observe(d.Seconds())
}
