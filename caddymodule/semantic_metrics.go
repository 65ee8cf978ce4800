package caddymodule

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ragproxy/ragproxy/semantic"
)

// semVecs are the semantic layer's hot-path collectors.
var semVecs = struct {
	lookups        *prometheus.CounterVec
	embedDuration  *prometheus.HistogramVec
	bestSimilarity *prometheus.HistogramVec
	vetoes         *prometheus.CounterVec
}{
	lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
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
		Help:    "Best cosine similarity found per semantic lookup, hit or not, counted when it comes within about 0.2 of the threshold (the search scores only entries that can): the score distribution near the threshold, to tune it by.",
		Buckets: prometheus.LinearBuckets(0.05, 0.05, 20),
	}, []string{"cache"}),
	vetoes: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_semantic_vetoes_total",
		Help: "Semantic matches above the threshold that a guard refused (a miss), by guard: negation, number, identifier, contrast (opposite or sibling words), substitution (one content word swapped).",
	}, []string{"cache", "guard"}),
}

func init() {
	addCollectors(semVecs.lookups, semVecs.embedDuration, semVecs.bestSimilarity, semVecs.vetoes, semanticCollector{})
}

// semanticMetrics are one cache's semantic series, resolved once at Provision.
type semanticMetrics struct {
	hits, misses, skipped, errors prometheus.Counter
	embedDuration, bestSimilarity prometheus.Observer
	vetoes                        map[semantic.Guard]prometheus.Counter
}

func newSemanticMetrics(name string) semanticMetrics {
	return semanticMetrics{
		hits:           semVecs.lookups.WithLabelValues(name, "hit"),
		misses:         semVecs.lookups.WithLabelValues(name, "miss"),
		skipped:        semVecs.lookups.WithLabelValues(name, "skipped"),
		errors:         semVecs.lookups.WithLabelValues(name, "error"),
		embedDuration:  semVecs.embedDuration.WithLabelValues(name),
		bestSimilarity: semVecs.bestSimilarity.WithLabelValues(name),
		vetoes:         vetoCounters(name),
	}
}

// vetoCounters resolves every guard's series at once, so each shows (at 0)
// before its first veto.
func vetoCounters(name string) map[semantic.Guard]prometheus.Counter {
	m := make(map[semantic.Guard]prometheus.Counter, len(semantic.Guards))
	for _, g := range semantic.Guards {
		m[g] = semVecs.vetoes.WithLabelValues(name, string(g))
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
