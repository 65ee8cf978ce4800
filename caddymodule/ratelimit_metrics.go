package caddymodule

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// rlMetrics are rag_rate_limit's collectors beyond those in metrics.go;
// created once per process, registered on every config load.
var rlMetrics = struct {
	estimated *prometheus.CounterVec
	full      *prometheus.CounterVec
}{
	estimated: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_ratelimit_usage_estimated_total",
		Help: "Answers whose token usage could not be read (none reported, a stream cut short, a compressed body, no answer) and was estimated from the request and answer sizes, by token zone.",
	}, []string{"zone"}),
	full: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_ratelimit_full_total",
		Help: "Requests a concurrent zone refused because a new key found its key table full of keys with requests in flight (max_keys).",
	}, []string{"zone"}),
}

func registerRateLimitMetrics(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{rlMetrics.estimated, rlMetrics.full} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return err
			}
		}
	}
	return nil
}

// zoneExtraMetrics are one zone's series of rlMetrics.
type zoneExtraMetrics struct {
	estimated, full prometheus.Counter
}

func newZoneExtraMetrics(zone string) zoneExtraMetrics {
	return zoneExtraMetrics{
		estimated: rlMetrics.estimated.WithLabelValues(zone),
		full:      rlMetrics.full.WithLabelValues(zone),
	}
}
