package caddymodule

import (
	"github.com/prometheus/client_golang/prometheus"
)

// rlVecs are rag_rate_limit's collectors.
var rlVecs = struct {
	decisions   *prometheus.CounterVec
	tokens      *prometheus.CounterVec
	redisErrors *prometheus.CounterVec
	redisUp     *prometheus.GaugeVec
	estimated   *prometheus.CounterVec
	full        *prometheus.CounterVec
}{
	decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_ratelimit_requests_total",
		Help: "Requests a rate limit zone applied to, by result (allowed, limited).",
	}, []string{"zone", "result"}),
	tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_ratelimit_tokens_total",
		Help: "LLM tokens debited from a token zone's budgets.",
	}, []string{"zone"}),
	redisErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_ratelimit_redis_errors_total",
		Help: "Decisions a zone made with local counts because Redis failed or was being left alone after a failure.",
	}, []string{"zone"}),
	redisUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ragproxy_ratelimit_redis_up",
		Help: "1 while rate limits are kept in this Redis, 0 while they fall back to local counts.",
	}, []string{"redis"}),
	estimated: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_ratelimit_usage_estimated_total",
		Help: "Answers whose token usage could not be read (none reported, a stream cut short, a compressed body, no answer) and was estimated from the request and answer sizes, by token zone.",
	}, []string{"zone"}),
	full: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_ratelimit_full_total",
		Help: "Requests a concurrent zone refused because a new key found its key table full of keys with requests in flight (max_keys).",
	}, []string{"zone"}),
}

func init() {
	addCollectors(rlVecs.decisions, rlVecs.tokens, rlVecs.redisErrors, rlVecs.redisUp,
		rlVecs.estimated, rlVecs.full, zoneCollector{})
}

// zoneMetrics are one rate limit zone's hot-path series.
type zoneMetrics struct {
	allowed, limited, redisErrors, tokens prometheus.Counter
}

func newZoneMetrics(zone string) zoneMetrics {
	return zoneMetrics{
		allowed:     rlVecs.decisions.WithLabelValues(zone, "allowed"),
		limited:     rlVecs.decisions.WithLabelValues(zone, "limited"),
		redisErrors: rlVecs.redisErrors.WithLabelValues(zone),
		tokens:      rlVecs.tokens.WithLabelValues(zone),
	}
}

// zoneExtraMetrics are one zone's series of the rarer events.
type zoneExtraMetrics struct {
	estimated, full prometheus.Counter
}

func newZoneExtraMetrics(zone string) zoneExtraMetrics {
	return zoneExtraMetrics{
		estimated: rlVecs.estimated.WithLabelValues(zone),
		full:      rlVecs.full.WithLabelValues(zone),
	}
}

var (
	rlKeysDesc    = prometheus.NewDesc("ragproxy_ratelimit_keys", "Keys a rate limit zone tracks in this process.", []string{"zone"}, nil)
	rlEvictedDesc = prometheus.NewDesc("ragproxy_ratelimit_evictions_total", "Live keys a zone dropped to stay within max_keys (they start over).", []string{"zone"}, nil)
)

// zoneCollector reads the live zones at scrape time.
type zoneCollector struct{}

func (zoneCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- rlKeysDesc
	ch <- rlEvictedDesc
}

func (zoneCollector) Collect(ch chan<- prometheus.Metric) {
	keys, evicted := map[string]int{}, map[string]int64{}
	eachZoneState(func(s *zoneState) {
		k, e := s.keys()
		keys[s.name] += k
		evicted[s.name] += e
	})
	for name, k := range keys {
		ch <- prometheus.MustNewConstMetric(rlKeysDesc, prometheus.GaugeValue, float64(k), name)
		ch <- prometheus.MustNewConstMetric(rlEvictedDesc, prometheus.CounterValue, float64(evicted[name]), name)
	}
}
