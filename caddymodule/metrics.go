package caddymodule

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ragproxy/ragproxy/breaker"
	"github.com/ragproxy/ragproxy/semantic"
	"github.com/ragproxy/ragproxy/split"
)

// metrics are created once per process, so counts survive config reloads;
// every config load registers them into its own registry.
var metrics = struct {
	lookups        *prometheus.CounterVec
	stores         *prometheus.CounterVec
	lookupDuration *prometheus.HistogramVec
	caches         prometheus.Collector

	tierRequests       *prometheus.CounterVec
	tierDuration       *prometheus.HistogramVec
	fallbacks          *prometheus.CounterVec
	breakerTransitions *prometheus.CounterVec
	breakers           prometheus.Collector

	semLookups     *prometheus.CounterVec
	embedDuration  *prometheus.HistogramVec
	bestSimilarity *prometheus.HistogramVec
	semVetoes      *prometheus.CounterVec
	semStores      prometheus.Collector

	rlDecisions   *prometheus.CounterVec
	rlTokens      *prometheus.CounterVec
	rlRedisErrors *prometheus.CounterVec
	redisUp       *prometheus.GaugeVec
	rlZones       prometheus.Collector

	splitDuration *prometheus.HistogramVec
	experiments   prometheus.Collector

	requests         *prometheus.CounterVec
	requestFirstByte *prometheus.HistogramVec
	requestDuration  *prometheus.HistogramVec
	tierFirstByte    *prometheus.HistogramVec
	upstreamErrors   *prometheus.CounterVec
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
	caches: storeCollector{},

	tierRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_fallback_requests_total",
		Help: "Tries of a rag_fallback tier by outcome (success, failure, ignored: the client went away, rejected: breaker open).",
	}, []string{"tier", "outcome"}),
	tierDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ragproxy_fallback_request_duration_seconds",
		Help:    "Duration of tries of a rag_fallback tier by outcome, the whole answer included.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
	}, []string{"tier", "outcome"}),
	fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_fallbacks_total",
		Help: "Requests handed from one tier to the next (to=\"none\": every tier failed) by reason (open, status, timeout, first_byte_timeout, transport, empty, no_answer).",
	}, []string{"from", "to", "reason"}),
	breakerTransitions: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_breaker_transitions_total",
		Help: "Circuit breaker state changes.",
	}, []string{"breaker", "from", "to"}),
	breakers: breakerCollector{},

	semLookups: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_semantic_lookups_total",
		Help: "Semantic lookups after an exact miss, by result (hit, miss, skipped: no question or a too short one, error: the embedder failed).",
	}, []string{"cache", "result"}),
	embedDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ragproxy_semantic_embed_duration_seconds",
		Help:    "Time to embed a question.",
		Buckets: []float64{1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 0.01, 0.05, 0.1, 0.5, 1},
	}, []string{"cache"}),
	bestSimilarity: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ragproxy_semantic_best_similarity",
		Help:    "Best cosine similarity found per semantic lookup, hit or not: the score distribution to tune the threshold by.",
		Buckets: prometheus.LinearBuckets(0.05, 0.05, 20),
	}, []string{"cache"}),
	semVetoes: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_semantic_vetoes_total",
		Help: "Semantic matches above the threshold that a guard refused (a miss), by guard: negation, number, identifier, contrast (opposite or sibling words), substitution (one content word swapped).",
	}, []string{"cache", "guard"}),
	semStores: semanticCollector{},

	rlDecisions: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_ratelimit_requests_total",
		Help: "Requests a rate limit zone applied to, by result (allowed, limited).",
	}, []string{"zone", "result"}),
	rlTokens: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_ratelimit_tokens_total",
		Help: "LLM tokens debited from a token zone's budgets.",
	}, []string{"zone"}),
	rlRedisErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_ratelimit_redis_errors_total",
		Help: "Decisions a zone made with local counts because Redis failed or was being left alone after a failure.",
	}, []string{"zone"}),
	redisUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ragproxy_ratelimit_redis_up",
		Help: "1 while rate limits are kept in this Redis, 0 while they fall back to local counts.",
	}, []string{"redis"}),
	rlZones: zoneCollector{},

	splitDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ragproxy_split_request_duration_seconds",
		Help:    "Duration of requests through a rag_split experiment by variant, the whole answer included.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
	}, []string{"experiment", "variant"}),
	experiments: experimentCollector{},

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
	tierFirstByte: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ragproxy_fallback_first_byte_seconds",
		Help:    "Time from the start of a try of a rag_fallback tier to its answer's status line, whatever the status.",
		Buckets: timingBuckets,
	}, []string{"tier"}),
	upstreamErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_upstream_errors_total",
		Help: "Failed tries of a rag_fallback tier (retries included) by class: status (a failure status), timeout, first_byte_timeout, transport, empty, no_answer, broken (the answer failed after it started).",
	}, []string{"tier", "class"}),
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

// registerMetrics registers the collectors into a config's registry; one
// registered by an earlier handler of the same load is fine.
func registerMetrics(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{
		metrics.lookups, metrics.stores, metrics.lookupDuration, metrics.caches, cacheRedisErrors, cacheRedisDuration,
		metrics.tierRequests, metrics.tierDuration, metrics.fallbacks, metrics.breakerTransitions, metrics.breakers,
		metrics.semLookups, metrics.embedDuration, metrics.bestSimilarity, metrics.semVetoes, metrics.semStores,
		metrics.rlDecisions, metrics.rlTokens, metrics.rlRedisErrors, metrics.redisUp, metrics.rlZones,
		metrics.splitDuration, metrics.experiments,
		metrics.requests, metrics.requestFirstByte, metrics.requestDuration, metrics.tierFirstByte, metrics.upstreamErrors,
	} {
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
	hit, semantic, miss, coalesced, bypass, stale prometheus.Counter
	lookupDuration                                prometheus.Observer
}

func newCacheMetrics(name string) cacheMetrics {
	return cacheMetrics{
		hit:            metrics.lookups.WithLabelValues(name, "hit"),
		semantic:       metrics.lookups.WithLabelValues(name, "semantic"),
		miss:           metrics.lookups.WithLabelValues(name, "miss"),
		coalesced:      metrics.lookups.WithLabelValues(name, "coalesced"),
		bypass:         metrics.lookups.WithLabelValues(name, "bypass"),
		stale:          metrics.lookups.WithLabelValues(name, "stale"),
		lookupDuration: metrics.lookupDuration.WithLabelValues(name),
	}
}

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
		rejected:  metrics.tierRequests.WithLabelValues(tier, "rejected"),
		firstByte: metrics.tierFirstByte.WithLabelValues(tier),
		errors:    make(map[string]prometheus.Counter, len(errorClasses)),
	}
	for _, c := range errorClasses {
		m.errors[c] = metrics.upstreamErrors.WithLabelValues(tier, c)
	}
	for o, name := range outcomeNames {
		m.byOutcome[o].requests = metrics.tierRequests.WithLabelValues(tier, name)
		m.byOutcome[o].duration = metrics.tierDuration.WithLabelValues(tier, name)
	}
	return m
}

func (m *tierMetrics) observe(o breaker.Outcome, d time.Duration) {
	m.byOutcome[o].requests.Inc()
	m.byOutcome[o].duration.Observe(d.Seconds())
}

// semanticMetrics are one cache's semantic series, resolved once at Provision.
type semanticMetrics struct {
	hits, misses, skipped, errors prometheus.Counter
	embedDuration, bestSimilarity prometheus.Observer
	vetoes                        map[semantic.Guard]prometheus.Counter
}

func newSemanticMetrics(name string) semanticMetrics {
	return semanticMetrics{
		hits:           metrics.semLookups.WithLabelValues(name, "hit"),
		misses:         metrics.semLookups.WithLabelValues(name, "miss"),
		skipped:        metrics.semLookups.WithLabelValues(name, "skipped"),
		errors:         metrics.semLookups.WithLabelValues(name, "error"),
		embedDuration:  metrics.embedDuration.WithLabelValues(name),
		bestSimilarity: metrics.bestSimilarity.WithLabelValues(name),
		vetoes:         vetoCounters(name),
	}
}

// vetoCounters resolves every guard's series at once, so each shows (at 0)
// before its first veto.
func vetoCounters(name string) map[semantic.Guard]prometheus.Counter {
	m := make(map[semantic.Guard]prometheus.Counter, len(semantic.Guards))
	for _, g := range semantic.Guards {
		m[g] = metrics.semVetoes.WithLabelValues(name, string(g))
	}
	return m
}

var (
	semEntriesDesc = prometheus.NewDesc("ragproxy_semantic_entries", "Questions remembered by meaning.", []string{"cache"}, nil)
	semScopesDesc  = prometheus.NewDesc("ragproxy_semantic_scopes", "Scopes (tenant and request shape) with remembered questions.", []string{"cache"}, nil)
	semMemoryDesc  = prometheus.NewDesc("ragproxy_semantic_index_bytes", "Approximate memory of the semantic indexes, in bytes.", []string{"cache"}, nil)
)

// semanticCollector reads the live semantic stores at scrape time.
type semanticCollector struct{}

func (semanticCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- semEntriesDesc
	ch <- semScopesDesc
	ch <- semMemoryDesc
}

func (semanticCollector) Collect(ch chan<- prometheus.Metric) {
	sums := map[string]semantic.Stats{}
	eachSemantic(func(s *sharedSemantic) {
		st, sum := s.Stats(), sums[s.name]
		sum.Entries += st.Entries
		sum.Scopes += st.Scopes
		sum.MemoryBytes += st.MemoryBytes
		sums[s.name] = sum
	})
	for name, st := range sums {
		ch <- prometheus.MustNewConstMetric(semEntriesDesc, prometheus.GaugeValue, float64(st.Entries), name)
		ch <- prometheus.MustNewConstMetric(semScopesDesc, prometheus.GaugeValue, float64(st.Scopes), name)
		ch <- prometheus.MustNewConstMetric(semMemoryDesc, prometheus.GaugeValue, float64(st.MemoryBytes), name)
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

// zoneMetrics are one rate limit zone's hot-path series.
type zoneMetrics struct {
	allowed, limited, redisErrors, tokens prometheus.Counter
}

func newZoneMetrics(zone string) zoneMetrics {
	return zoneMetrics{
		allowed:     metrics.rlDecisions.WithLabelValues(zone, "allowed"),
		limited:     metrics.rlDecisions.WithLabelValues(zone, "limited"),
		redisErrors: metrics.rlRedisErrors.WithLabelValues(zone),
		tokens:      metrics.rlTokens.WithLabelValues(zone),
	}
}

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
