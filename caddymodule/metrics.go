package caddymodule

import (
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Each feature keeps its Prometheus collectors in its own *_metrics.go
// file. They are created once per process, so counts survive config
// reloads, and added to collectors at init; every config load registers
// them all into its own registry (registerMetrics).
var collectors []prometheus.Collector

// addCollectors adds a feature's collectors to those every config load
// registers; called from init only.
func addCollectors(cs ...prometheus.Collector) { collectors = append(collectors, cs...) }

// registerMetrics registers every feature's collectors into a config's
// registry; one registered by an earlier handler of the same load is fine.
// Every handler calls it: the request series (and the answer's cost) are
// recorded by the outermost ragproxy handler, whichever it is.
func registerMetrics(reg prometheus.Registerer) error {
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return err
			}
		}
	}
	return nil
}

// metrics are the series of every request through ragproxy's handlers,
// recorded once by the outermost (timing.go), whichever handler it is.
var metrics = struct {
	requests         *prometheus.CounterVec
	requestFirstByte *prometheus.HistogramVec
	requestDuration  *prometheus.HistogramVec
}{
	requests: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_requests_total",
		Help: "Requests through ragproxy's handlers, counted once (by the outermost), by cache status (hit, semantic_hit, miss, bypass, stale, none), the tier that answered (none: no tier did), the variant (none), and the answer's status class (2xx … 5xx; none: no answer).",
	}, []string{"cache_status", "upstream", "variant", "code"}),
	requestFirstByte: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ragproxy_request_first_byte_seconds",
		Help:    "Time from the outermost ragproxy handler to the answer's status line (time to first byte), by cache status, tier and variant.",
		Buckets: timingBuckets,
	}, []string{"cache_status", "upstream", "variant"}),
	requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ragproxy_request_duration_seconds",
		Help:    "Time from the outermost ragproxy handler to the end of the answer, by cache status, tier and variant.",
		Buckets: timingBuckets,
	}, []string{"cache_status", "upstream", "variant"}),
}

func init() {
	addCollectors(metrics.requests, metrics.requestFirstByte, metrics.requestDuration)
}

// seriesCache keeps a vector's series by their label values, so a request
// finds its series with one lookup of a comparable key, where asking the
// vector hashes every label value (and takes its lock) per series. The
// vectors are never reset, so a series kept stays the one exported.
type seriesCache[K comparable, S any] struct {
	series func(K) S // makes the series of a key not seen yet
	m      sync.Map  // K → S
}

func (c *seriesCache[K, S]) get(k K) S {
	if s, ok := c.m.Load(k); ok {
		return s.(S)
	}
	s, _ := c.m.LoadOrStore(k, c.series(k))
	return s.(S)
}
