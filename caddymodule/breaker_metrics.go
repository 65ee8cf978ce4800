package caddymodule

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ragproxy/ragproxy/breaker"
)

// breakerTransitions counts the breakers' state changes (onBreakerChange).
var breakerTransitions = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "ragproxy_breaker_transitions_total",
	Help: "Circuit breaker state changes.",
}, []string{"breaker", "from", "to"})

func init() { addCollectors(breakerTransitions, breakerCollector{}) }

var breakerStateDesc = prometheus.NewDesc("ragproxy_breaker_state",
	"Circuit breaker state: 0 closed, 1 half-open, 2 open.", []string{"breaker"}, nil)

// breakerCollector reads the live breakers at scrape time.
type breakerCollector struct{}

func (breakerCollector) Describe(ch chan<- *prometheus.Desc) { ch <- breakerStateDesc }

func (breakerCollector) Collect(ch chan<- prometheus.Metric) {
	eachBreaker(func(b *breaker.Breaker) {
		ch <- prometheus.MustNewConstMetric(breakerStateDesc, prometheus.GaugeValue, float64(b.State()), b.Name())
	})
}
