package caddymodule

import (
	"fmt"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ragproxy/ragproxy/split"
)

func init() {
	caddy.RegisterModule(SplitHandler{})
}

// SplitHandler assigns each request to a variant of an A/B experiment and
// measures every variant: requests, errors, latency, cache statuses, LLM
// tokens and, through rag_feedback, users' scores. Routing is left to
// Caddy: the variant is the placeholder and request var `{rag.variant}`,
// so `@treatment vars {rag.variant} treatment` picks the treatment's
// upstream.
//
// Assignment is by weight: sticky on the `sticky` placeholder (a stable
// hash, so a user lands on the same variant on every instance and after
// restarts, and changing weights moves as few users as possible), random
// when it is empty, and, only when `override_header` names one, forced by
// a request header for testing. Answers carry `X-RAG-Variant` and
// `X-Request-ID`, always a new unguessable id that rag_feedback accepts
// once (a client's own X-Request-ID is not trusted: it only reaches the
// access log, as `rag_client_request_id`); the access log gets
// `rag_variant` and `rag_request_id`.
//
// Experiments live in this process by name and outlive config reloads;
// the admin API reports them at /rag/experiments.
type SplitHandler struct {
	// Name of the experiment, shared with rag_feedback and the report.
	// Required.
	Experiment string `json:"experiment"`

	// Placeholder whose value keeps a caller on one variant, e.g.
	// "{http.request.header.X-User-ID}". Default: none (every request is
	// assigned at random by weight).
	Sticky string `json:"sticky,omitempty"`

	// The variants, in order; the first is the control the others are
	// compared with. At least one; weights are relative and positive.
	Variants []SplitVariant `json:"variants,omitempty"`

	// Request header that forces a variant by name (unknown names are
	// ignored), e.g. "X-RAG-Variant". Any client can then pick its
	// variant, and skew the experiment's counts and feedback, so enable
	// it for testing or behind a proxy that strips the header from
	// untrusted callers. Default: empty, off ("off" is off too).
	OverrideHeader string `json:"override_header,omitempty"`

	// How long rag_feedback can attribute a score to a request. Default:
	// 24h.
	FeedbackWindow caddy.Duration `json:"feedback_window,omitempty"`

	// Most recent requests remembered for feedback; older ones are
	// forgotten first. About 75 bytes each, whatever the id's length.
	// Default: 100000 (7.3 MiB when full).
	FeedbackRequests int `json:"feedback_requests,omitempty"`

	sticky         placeholder
	overrideHeader string // canonical; empty when off
	assigner       *split.Assigner
	experiment     *split.Experiment
	variants       []splitVariant // by assigner index
}

// SplitVariant is one arm of an experiment.
type SplitVariant struct {
	// Name, as {rag.variant} and X-RAG-Variant carry it. Required.
	Name string `json:"name"`
	// Relative share of traffic. Required, positive.
	Weight float64 `json:"weight"`
}

// splitVariant is a variant with its hot-path handles.
type splitVariant struct {
	name     string
	stats    *split.VariantStats
	duration prometheus.Observer
}

// CaddyModule returns the Caddy module information.
func (SplitHandler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.rag_split",
		New: func() caddy.Module { return new(SplitHandler) },
	}
}

// Provision builds the assigner and attaches the experiment. Caddy calls
// Validate after it.
func (h *SplitHandler) Provision(ctx caddy.Context) error {
	h.sticky = newPlaceholder(h.Sticky)
	variants := make([]split.Variant, len(h.Variants))
	names := make([]string, len(h.Variants))
	for i, v := range h.Variants {
		variants[i] = split.Variant{Name: v.Name, Weight: v.Weight}
		names[i] = v.Name
	}
	a, err := split.NewAssigner(h.Experiment, variants)
	if err != nil {
		return fmt.Errorf("rag_split %q: %w", h.Experiment, err)
	}
	if h.OverrideHeader != "" && h.OverrideHeader != "off" {
		h.overrideHeader = http.CanonicalHeaderKey(h.OverrideHeader)
	}
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	h.assigner = a
	h.experiment = acquireExperiment(h.Experiment)
	h.experiment.SetVariants(names)
	h.experiment.SetMemory(h.FeedbackRequests, time.Duration(h.FeedbackWindow))
	for _, name := range names {
		knownVariants.Store(name, true)
		h.variants = append(h.variants, splitVariant{
			name:     name,
			stats:    h.experiment.Variant(name),
			duration: splitDuration.WithLabelValues(h.Experiment, name),
		})
	}
	return nil
}

// maxVariantWeight bounds a weight, so that the sum of a few cannot
// lose the small ones to rounding.
const maxVariantWeight = 1e9

// Validate checks the configuration, JSON or Caddyfile alike.
func (h *SplitHandler) Validate() error {
	switch {
	case h.Experiment == "":
		return fmt.Errorf("rag_split: experiment name is required")
	case len(h.Variants) == 0:
		return fmt.Errorf("rag_split %q: at least one variant is required", h.Experiment)
	case h.FeedbackWindow < 0 || h.FeedbackRequests < 0:
		return fmt.Errorf("rag_split %q: feedback_window and feedback_requests must not be negative", h.Experiment)
	}
	for _, v := range h.Variants {
		if !(v.Weight > 0 && v.Weight <= maxVariantWeight) { // NaN fails too
			return fmt.Errorf("rag_split %q: variant %s: weight must be a positive number up to %g, got %v", h.Experiment, v.Name, maxVariantWeight, v.Weight)
		}
	}
	return nil
}

// Cleanup lets go of the experiment; its counts are freed when no config
// uses it.
func (h *SplitHandler) Cleanup() error {
	if h.experiment != nil {
		_, _ = experiments.Delete(h.Experiment)
	}
	return nil
}

// variantFor picks the request's variant: the override header, else the
// sticky key's hash, else at random.
func (h *SplitHandler) variantFor(r *http.Request, repl *caddy.Replacer) int {
	if h.overrideHeader != "" {
		if forced := r.Header.Get(h.overrideHeader); forced != "" {
			if i, ok := h.assigner.Index(forced); ok {
				return i
			}
		}
	}
	if h.Sticky != "" {
		if key := h.sticky.render(r, repl); key != "" {
			return h.assigner.Sticky(key)
		}
	}
	return h.assigner.Random()
}

// Interface guards
var (
	_ caddy.Provisioner           = (*SplitHandler)(nil)
	_ caddy.Validator             = (*SplitHandler)(nil)
	_ caddy.CleanerUpper          = (*SplitHandler)(nil)
	_ caddyhttp.MiddlewareHandler = (*SplitHandler)(nil)
)
