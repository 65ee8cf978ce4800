package caddymodule

import (
	"sort"

	"github.com/prometheus/client_golang/prometheus"
)

// cacheVecs are rag_cache's hot-path collectors.
var cacheVecs = struct {
	lookups        *prometheus.CounterVec
	stores         *prometheus.CounterVec
	lookupDuration *prometheus.HistogramVec
}{
	lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_cache_lookups_total",
		Help: "Cache lookups by cache and result (hit: exact, semantic: by meaning after an exact miss, redis_hit: a memory miss found in the shared Redis, miss, coalesced: shared an identical request's upstream answer, bypass, stale: a miss whose upstream error an expired answer stood in for).",
	}, []string{"cache", "result"}),
	stores: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_cache_stores_total",
		Help: "Answers after a miss by cache and outcome: stored, or the reason they were not (status, no_store, set_cookie, encoded, too_large, incomplete, fallback).",
	}, []string{"cache", "outcome"}),
	lookupDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ragproxy_cache_lookup_duration_seconds",
		Help:    "Time to look a request up in the cache.",
		Buckets: []float64{1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 1e-2},
	}, []string{"cache"}),
}

// cacheBypasses counts requests that bypassed the cache, by reason:
// method, client (Cache-Control: no-cache), conditional (Range, If-*),
// malformed (not JSON), ambiguous_body (duplicate keys, invalid UTF-8,
// lone surrogates), empty_scope (the scope placeholder rendered empty).
var cacheBypasses = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "ragproxy_cache_bypasses_total",
	Help: "Requests that bypassed the cache by cache and reason (method, client, conditional, malformed, ambiguous_body, empty_scope).",
}, []string{"cache", "reason"})

func init() {
	addCollectors(cacheVecs.lookups, cacheVecs.stores, cacheVecs.lookupDuration, cacheBypasses, storeCollector{})
}

// cacheMetrics are one cache's hot-path series, resolved once at Provision
// rather than looked up by label on every request.
type cacheMetrics struct {
	hit, semantic, miss, coalesced, bypass, stale prometheus.Counter
	lookupDuration                                prometheus.Observer
}

func newCacheMetrics(name string) cacheMetrics {
	return cacheMetrics{
		hit:            cacheVecs.lookups.WithLabelValues(name, "hit"),
		semantic:       cacheVecs.lookups.WithLabelValues(name, "semantic"),
		miss:           cacheVecs.lookups.WithLabelValues(name, "miss"),
		coalesced:      cacheVecs.lookups.WithLabelValues(name, "coalesced"),
		bypass:         cacheVecs.lookups.WithLabelValues(name, "bypass"),
		stale:          cacheVecs.lookups.WithLabelValues(name, "stale"),
		lookupDuration: cacheVecs.lookupDuration.WithLabelValues(name),
	}
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
	ch <- cacheRedisUpDesc
	ch <- cacheRedisDroppedDesc
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
	collectCacheRedis(ch)
}

// cacheStats is one cache as the admin API, the metrics and the status
// page report it.
type cacheStats struct {
	Name     string `json:"name"`
	TTL      string `json:"ttl"`
	Entries  int    `json:"entries"`
	Bytes    int64  `json:"bytes"`
	MaxBytes int64  `json:"max_bytes"`
	MaxEntry int    `json:"max_entry_bytes"`
	Expired  int64  `json:"evicted_expired"`
	Evicted  int64  `json:"evicted_no_space"`
	Waiting  int64  `json:"coalesced_waiting"`
}

// statsByName sums the live stores by name, sorted by name.
func statsByName() []cacheStats {
	byName := map[string]*cacheStats{}
	eachStore(func(s *sharedStore) {
		st, ok := byName[s.name]
		if !ok {
			st = &cacheStats{Name: s.name}
			byName[s.name] = st
		}
		cfg := s.Config()
		expired, evicted := s.Evictions()
		st.TTL = cfg.TTL.String()
		st.Entries += s.Len()
		st.Bytes += s.Bytes()
		st.MaxBytes += cfg.MaxBytes
		st.MaxEntry = max(st.MaxEntry, cfg.MaxEntryBytes)
		st.Expired += expired
		st.Evicted += evicted
		st.Waiting += s.flights.Waiting()
	})
	out := make([]cacheStats, 0, len(byName))
	for _, st := range byName {
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
