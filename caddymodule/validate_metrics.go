package caddymodule

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ragproxy/ragproxy/validate"
)

// validated counts rag_validate's judgements.
var validated = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "ragproxy_validate_requests_total",
	Help: "Requests rag_validate judged, by result (allowed, clamped, refused) and reason (the refusal's code; \"\" when allowed).",
}, []string{"result", "reason"})

func init() { addCollectors(validated) }

// validateMetrics are rag_validate's series, resolved once: one per
// refusal code (a fixed set), so the label stays bounded.
type validateMetrics struct {
	allowed, clamped prometheus.Counter
	refused          map[validate.Code]prometheus.Counter
}

func newValidateMetrics() validateMetrics {
	m := validateMetrics{
		allowed: validated.WithLabelValues("allowed", ""),
		clamped: validated.WithLabelValues("clamped", ""),
		refused: make(map[validate.Code]prometheus.Counter, len(validate.Codes)),
	}
	for _, c := range validate.Codes {
		m.refused[c] = validated.WithLabelValues("refused", string(c))
	}
	return m
}
