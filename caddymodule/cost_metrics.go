package caddymodule

import "github.com/prometheus/client_golang/prometheus"

// costVecs are the cost collectors (cost.go): what answers cost, what the
// cache saved, and the provider's prompt cache as the usage reports it.
var costVecs = struct {
	cost         *prometheus.CounterVec
	saved        *prometheus.CounterVec
	unpriced     prometheus.Counter
	promptTokens *prometheus.CounterVec
}{
	cost: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_llm_cost_usd_total",
		Help: "What upstream LLM answers cost in US dollars by the price table, by model (the table's name or prefix pattern that priced it).",
	}, []string{"model"}),
	saved: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_cache_saved_usd_total",
		Help: "What answers from rag_cache would have cost upstream in US dollars, by model (as ragproxy_llm_cost_usd_total).",
	}, []string{"model"}),
	unpriced: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ragproxy_llm_cost_unpriced_total",
		Help: "Answers with a usage but no price: the model is not in the price table (or not known).",
	}),
	promptTokens: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_llm_prompt_tokens_total",
		Help: "Prompt tokens of upstream LLM answers by model (as ragproxy_llm_cost_usd_total; \"unpriced\" for a model not in the price table) and by the provider's prompt cache: read (cache hits), write (written to it), uncached. Hit ratio: read / (read + write + uncached).",
	}, []string{"model", "cache"}),
}

func init() { addCollectors(costVecs.cost, costVecs.saved, costVecs.unpriced, costVecs.promptTokens) }

// The series of one model label, kept (seriesCache) for the hot path.
var (
	costSeries  = seriesCache[string, prometheus.Counter]{series: func(model string) prometheus.Counter { return costVecs.cost.WithLabelValues(model) }}
	savedSeries = seriesCache[string, prometheus.Counter]{series: func(model string) prometheus.Counter { return costVecs.saved.WithLabelValues(model) }}
	// promptTokenSeries are read, write, uncached.
	promptTokenSeries = seriesCache[string, [3]prometheus.Counter]{series: func(model string) [3]prometheus.Counter {
		m := costVecs.promptTokens
		return [3]prometheus.Counter{m.WithLabelValues(model, "read"), m.WithLabelValues(model, "write"), m.WithLabelValues(model, "uncached")}
	}}
)
