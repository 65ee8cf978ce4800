package caddymodule

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are created once per process, so counts survive config reloads;
// every config load registers them into its own registry.
var metrics = struct {
	lookups        *prometheus.CounterVec
	stores         *prometheus.CounterVec
	lookupDuration *prometheus.HistogramVec
	caches         prometheus.Collector
}{
	lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_cache_lookups_total",
		Help: "Cache lookups by cache and result (hit, miss, coalesced, bypass).",
	}, []string{"cache", "result"}),
	stores: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_cache_stores_total",
		Help: "Answers after a miss by cache and outcome: stored, or the reason they were not (status, no_store, set_cookie, encoded, too_large, incomplete).",
	}, []string{"cache", "outcome"}),
	lookupDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ragproxy_cache_lookup_duration_seconds",
		Help:    "Time to look a request up in the cache.",
		Buckets: []float64{1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 1e-2},
	}, []string{"cache"}),
	caches: storeCollector{},
}

var (
	entriesDesc   = prometheus.NewDesc("ragproxy_cache_entries", "Entries held by the cache.", []string{"cache"}, nil)
	bytesDesc     = prometheus.NewDesc("ragproxy_cache_bytes", "Memory held by the cache's buffers, in bytes.", []string{"cache"}, nil)
	maxBytesDesc  = prometheus.NewDesc("ragproxy_cache_max_bytes", "Memory bound of the cache, in bytes.", []string{"cache"}, nil)
	waitingDesc   = prometheus.NewDesc("ragproxy_cache_coalesced_waiting", "Requests waiting for an identical request's upstream answer.", []string{"cache"}, nil)
	evictionsDesc = prometheus.NewDesc("ragproxy_cache_evictions_total", "Entries removed by the cache, by reason (expired, no_space).", []string{"cache", "reason"}, nil)
)

// storeCollector reads the live stores at scrape time.
type storeCollector struct{}

func (storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- entriesDesc
	ch <- bytesDesc
	ch <- maxBytesDesc
	ch <- evictionsDesc
	ch <- waitingDesc
}

func (storeCollector) Collect(ch chan<- prometheus.Metric) {
	// During a reload that changes a cache's settings two stores share a
	// name for a moment; report their sum.
	for _, s := range statsByName() {
		ch <- prometheus.MustNewConstMetric(entriesDesc, prometheus.GaugeValue, float64(s.Entries), s.Name)
		ch <- prometheus.MustNewConstMetric(bytesDesc, prometheus.GaugeValue, float64(s.Bytes), s.Name)
		ch <- prometheus.MustNewConstMetric(maxBytesDesc, prometheus.GaugeValue, float64(s.MaxBytes), s.Name)
		ch <- prometheus.MustNewConstMetric(waitingDesc, prometheus.GaugeValue, float64(s.Waiting), s.Name)
		ch <- prometheus.MustNewConstMetric(evictionsDesc, prometheus.CounterValue, float64(s.Expired), s.Name, "expired")
		ch <- prometheus.MustNewConstMetric(evictionsDesc, prometheus.CounterValue, float64(s.Evicted), s.Name, "no_space")
	}
}

// registerMetrics registers the collectors into a config's registry; one
// registered by an earlier handler of the same load is fine.
func registerMetrics(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{metrics.lookups, metrics.stores, metrics.lookupDuration, metrics.caches} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return err
			}
		}
	}
	return nil
}

// cacheMetrics are one cache's hot-path series, resolved once at Provision
// rather than looked up by label on every request.
type cacheMetrics struct {
	hit, miss, coalesced, bypass prometheus.Counter
	lookupDuration               prometheus.Observer
}

func newCacheMetrics(name string) cacheMetrics {
	return cacheMetrics{
		hit:            metrics.lookups.WithLabelValues(name, "hit"),
		miss:           metrics.lookups.WithLabelValues(name, "miss"),
		coalesced:      metrics.lookups.WithLabelValues(name, "coalesced"),
		bypass:         metrics.lookups.WithLabelValues(name, "bypass"),
		lookupDuration: metrics.lookupDuration.WithLabelValues(name),
	}
}
