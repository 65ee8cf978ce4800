package caddymodule

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ragproxy/ragproxy/split"
)

// splitDuration times a variant's requests, the whole answer included.
var splitDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
	Name:    "ragproxy_split_request_duration_seconds",
	Help:    "Duration of requests through a rag_split experiment by variant, the whole answer included.",
	Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
}, []string{"experiment", "variant"})

func init() { addCollectors(splitDuration, experimentCollector{}) }

var (
	splitRequestsDesc = prometheus.NewDesc("ragproxy_split_requests_total", "Requests through a rag_split experiment by variant.", []string{"experiment", "variant"}, nil)
	splitErrorsDesc   = prometheus.NewDesc("ragproxy_split_errors_total", "Requests of a variant that failed (5xx or no answer).", []string{"experiment", "variant"}, nil)
	splitTokensDesc   = prometheus.NewDesc("ragproxy_split_tokens_total", "LLM tokens upstreams spent on a variant's answers (cache hits spend none).", []string{"experiment", "variant"}, nil)
	splitCacheDesc    = prometheus.NewDesc("ragproxy_split_cache_total", "A variant's requests by rag_cache status.", []string{"experiment", "variant", "status"}, nil)
	splitFbCountDesc  = prometheus.NewDesc("ragproxy_split_feedback_total", "Feedback scores attributed to a variant.", []string{"experiment", "variant"}, nil)
	splitFbMeanDesc   = prometheus.NewDesc("ragproxy_split_feedback_mean", "Mean feedback score of a variant.", []string{"experiment", "variant"}, nil)
)

// experimentCollector reads the live experiments at scrape time, so the
// hot path only bumps the experiment's own atomic counters.
type experimentCollector struct{}

func (experimentCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{splitRequestsDesc, splitErrorsDesc, splitTokensDesc, splitCacheDesc, splitFbCountDesc, splitFbMeanDesc} {
		ch <- d
	}
}

func (experimentCollector) Collect(ch chan<- prometheus.Metric) {
	eachExperiment(func(e *split.Experiment) {
		for _, name := range e.Variants() {
			v := e.Variant(name).Snapshot()
			labels := []string{e.Name(), name}
			ch <- prometheus.MustNewConstMetric(splitRequestsDesc, prometheus.CounterValue, float64(v.Requests), labels...)
			ch <- prometheus.MustNewConstMetric(splitErrorsDesc, prometheus.CounterValue, float64(v.Errors), labels...)
			ch <- prometheus.MustNewConstMetric(splitTokensDesc, prometheus.CounterValue, float64(v.Tokens.Total), labels...)
			ch <- prometheus.MustNewConstMetric(splitFbCountDesc, prometheus.CounterValue, float64(v.Feedback.Count), labels...)
			ch <- prometheus.MustNewConstMetric(splitFbMeanDesc, prometheus.GaugeValue, v.Feedback.Mean, labels...)
			for status, n := range v.Cache {
				ch <- prometheus.MustNewConstMetric(splitCacheDesc, prometheus.CounterValue, float64(n), e.Name(), name, status)
			}
		}
	})
}
