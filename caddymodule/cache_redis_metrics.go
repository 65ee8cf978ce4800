package caddymodule

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The shared cache's series.
var (
	cacheRedisErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_cache_redis_errors_total",
		Help: "Redis calls of a shared cache that failed or timed out, by operation (get, set, purge, publish, lease). A failed get is a miss; a failed set is a dropped write.",
	}, []string{"cache", "op"})
	cacheRedisDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ragproxy_cache_redis_duration_seconds",
		Help:    "Duration of a shared cache's Redis calls, by operation (get, set, purge, publish, lease).",
		Buckets: []float64{1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 1},
	}, []string{"cache", "op"})

	cacheRedisUpDesc      = prometheus.NewDesc("ragproxy_cache_redis_up", "1 while a shared cache calls its Redis, 0 while it serves from memory only because Redis failed.", []string{"cache"}, nil)
	cacheRedisDroppedDesc = prometheus.NewDesc("ragproxy_cache_redis_dropped_writes_total", "Entries not written to Redis: the write queue was full, or Redis failed or was being left alone.", []string{"cache"}, nil)
)

func init() { addCollectors(cacheRedisErrors, cacheRedisDuration) }

// cacheRedisOps are the operations a shared cache reports.
var cacheRedisOps = [...]string{"get", "set", "purge", "publish", "lease"}

// cacheRedisMetrics are one shared cache's series, resolved once.
type cacheRedisMetrics struct {
	hit      prometheus.Counter
	errors   [len(cacheRedisOps)]prometheus.Counter
	duration [len(cacheRedisOps)]prometheus.Observer
}

func newCacheRedisMetrics(name string) cacheRedisMetrics {
	m := cacheRedisMetrics{hit: cacheVecs.lookups.WithLabelValues(name, "redis_hit")}
	for i, op := range cacheRedisOps {
		m.errors[i] = cacheRedisErrors.WithLabelValues(name, op)
		m.duration[i] = cacheRedisDuration.WithLabelValues(name, op)
	}
	return m
}

// observe is rediscache's Config.Observe.
func (m cacheRedisMetrics) observe(op string, took time.Duration, err error) {
	for i, o := range cacheRedisOps {
		if o != op {
			continue
		}
		m.duration[i].Observe(took.Seconds())
		if err != nil {
			m.errors[i].Inc()
		}
		return
	}
}

// collectCacheRedis reports, at scrape time, whether each shared cache's
// Redis is up and how many writes it dropped.
func collectCacheRedis(ch chan<- prometheus.Metric) {
	up, dropped := map[string]bool{}, map[string]int64{}
	eachStore(func(s *sharedStore) {
		if s.redis == nil {
			return
		}
		if _, seen := up[s.name]; !seen {
			up[s.name] = true
		}
		up[s.name] = up[s.name] && s.redis.Up()
		dropped[s.name] += s.redis.Dropped()
	})
	for name, u := range up {
		v := 0.0
		if u {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(cacheRedisUpDesc, prometheus.GaugeValue, v, name)
		ch <- prometheus.MustNewConstMetric(cacheRedisDroppedDesc, prometheus.CounterValue, float64(dropped[name]), name)
	}
}
