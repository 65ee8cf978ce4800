package caddymodule

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ragproxy/ragproxy/validate"
)

// pipelineMetrics are rag_validate's, output validation's and cost's
// collectors, kept apart from metrics.go; like those, created once per
// process and registered into each config load's registry.
var pipelineMetrics = struct {
	validated      *prometheus.CounterVec
	streamFailures *prometheus.CounterVec
	cost           *prometheus.CounterVec
	saved          *prometheus.CounterVec
	unpriced       prometheus.Counter
	promptTokens   *prometheus.CounterVec
	promptCache    *prometheus.CounterVec
}{
	validated: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_validate_requests_total",
		Help: "Requests rag_validate judged, by result (allowed, clamped, refused) and reason (the refusal's code; \"\" when allowed).",
	}, []string{"result", "reason"}),
	streamFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_fallback_stream_failures_total",
		Help: "Streamed answers that failed their tier's checks at their end (too late for the next tier; not cached), by tier and reason (invalid_json, finish_length, refusal).",
	}, []string{"tier", "reason"}),
	cost: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_llm_cost_usd_total",
		Help: "What upstream LLM answers cost in US dollars by the price table, by model (the table's name or prefix pattern that priced it).",
	}, []string{"model"}),
	saved: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_cache_saved_usd_total",
		Help: "What answers from rag_cache would have cost upstream in US dollars, by model (as ragproxy_llm_cost_usd_total).",
	}, []string{"model"}),
	promptTokens: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_llm_prompt_tokens_total",
		Help: "Prompt tokens of upstream LLM answers by model (as ragproxy_llm_cost_usd_total; \"unpriced\" for a model not in the price table) and by the provider's prompt cache: read (cache hits), write (written to it), uncached. Hit ratio: read / (read + write + uncached).",
	}, []string{"model", "cache"}),
	promptCache: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ragproxy_prompt_cache_requests_total",
		Help: "Requests rag_prompt_cache prepared, by result (added: Anthropic breakpoints inserted; full, client_ttl, too_short, not_applicable: left alone; key_set, key_present: OpenAI prompt_cache_key).",
	}, []string{"result"}),
	unpriced: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ragproxy_llm_cost_unpriced_total",
		Help: "Answers with a usage but no price: the model is not in the price table (or not known).",
	}),
}

// registerPipelineMetrics registers the collectors above (and the shared
// ones) into a config's registry.
func registerPipelineMetrics(reg prometheus.Registerer) error {
	if err := registerMetrics(reg); err != nil {
		return err
	}
	for _, c := range []prometheus.Collector{pipelineMetrics.validated, pipelineMetrics.streamFailures,
		pipelineMetrics.cost, pipelineMetrics.saved, pipelineMetrics.unpriced, pipelineMetrics.promptTokens, pipelineMetrics.promptCache} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return err
			}
		}
	}
	return nil
}

// validateMetrics are rag_validate's series, resolved once: one per
// refusal code (a fixed set), so the label stays bounded.
type validateMetrics struct {
	allowed, clamped prometheus.Counter
	refused          map[validate.Code]prometheus.Counter
}

func newValidateMetrics() validateMetrics {
	m := validateMetrics{
		allowed: pipelineMetrics.validated.WithLabelValues("allowed", ""),
		clamped: pipelineMetrics.validated.WithLabelValues("clamped", ""),
		refused: make(map[validate.Code]prometheus.Counter, len(validate.Codes)),
	}
	for _, c := range validate.Codes {
		m.refused[c] = pipelineMetrics.validated.WithLabelValues("refused", string(c))
	}
	return m
}
