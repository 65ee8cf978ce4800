package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/eapache/go-resiliency/retrier"
	"go.uber.org/zap"

	"github.com/ragproxy/ragproxy/breaker"
	"github.com/ragproxy/ragproxy/llm"
)

func init() {
	caddy.RegisterModule(FallbackHandler{})
}

// finishLength is the one finish reason fail_on_finish knows.
const finishLength = "length"

// Defaults of the rag_fallback handler.
const (
	defaultFallbackMaxBody = 10 << 20
	defaultRetryBackoff    = 100 * time.Millisecond
)

// FallbackHandler sends a request to ordered tiers of upstreams, each behind
// its own circuit breaker, and answers with the first tier that answers
// well. A tier whose breaker is open is skipped at no cost; a tier that
// fails (transport error, timeout, a failure status, an empty result) hands
// the request to the next. A successful answer, SSE included, streams
// straight through; only failed answers are held back (and dropped).
// When every tier fails or is open the answer is 503 with an OpenAI-shaped
// JSON error.
//
// Answers carry `X-RAG-Upstream: <tier>`; the placeholder `{rag.upstream}`
// and the request var `rag.upstream` hold the same. An answer from any tier
// but the first sets the request var `rag.fallback` to true, and rag_cache
// does not store it: a stand-in answer must not outlive the outage.
type FallbackHandler struct {
	// The tiers, tried in order.
	Tiers []*Tier `json:"tiers,omitempty"`

	// Largest request body buffered for re-sending to the next tier; a
	// larger one is rejected with 413. Default: 10 MiB.
	MaxBody int64 `json:"max_body,omitempty"`

	logger *zap.Logger
}

// Tier is one way to answer a request: its handler routes (usually one
// reverse_proxy) with a breaker, timeouts, retries and request rewrites.
type Tier struct {
	// Name of the tier, in X-RAG-Upstream, metrics and logs. Required.
	Name string `json:"name"`

	// The handlers that answer for this tier.
	Routes caddyhttp.RouteList `json:"routes,omitempty"`

	// The tier's circuit breaker. Default: a breaker named after the tier
	// with the default settings (5 failures in 10s open it for 10s, one
	// probe at a time, one success closes it).
	Breaker *TierBreaker `json:"breaker,omitempty"`

	// Longest the tier may take for the whole answer. Time spent waiting on
	// the client (writes and flushes to a slow reader blocking) does not
	// count: only the tier's own time does. Default: no limit.
	Timeout caddy.Duration `json:"timeout,omitempty"`

	// Longest the tier may take to start answering (to send its response
	// header), for streams whose whole answer takes long. Default: no limit.
	FirstByteTimeout caddy.Duration `json:"first_byte_timeout,omitempty"`

	// How many times a failed try is repeated on this tier before moving
	// on, with exponential backoff and jitter. Default: 0.
	Retries int `json:"retries,omitempty"`

	// Backoff before the first retry; it doubles on every retry. Default: 100ms.
	RetryBackoff caddy.Duration `json:"retry_backoff,omitempty"`

	// JSON body fields to set for this tier, e.g. {"model": "\"small-model\""}.
	// Field names may be dotted paths into objects. Values are raw JSON.
	SetJSON map[string]json.RawMessage `json:"set_json,omitempty"`

	// Rewrites the request's path (and query, after "?") for this tier.
	// Placeholders are expanded. Default: unchanged.
	URI string `json:"uri,omitempty"`

	// Request headers to set for this tier. Placeholders are expanded.
	Headers map[string]string `json:"headers,omitempty"`

	// Response statuses that count as failure, as codes ("503") or classes
	// ("5xx"). Default: 5xx. 429 is not a failure by default: callers bring
	// their own keys, and one caller's quota must not open the breaker every
	// caller shares; list it (`fail_status 429 5xx`) when the upstream key is
	// the proxy's own.
	FailStatus []string `json:"fail_status,omitempty"`

	// A JSON field of the answer (dotted path, e.g. "documents") that must
	// not be empty: a 2xx answer where it is missing, null or empty counts
	// as failure. Default: none.
	FailOnEmpty string `json:"fail_on_empty,omitempty"`

	// A 2xx answer to a request that asked for JSON (OpenAI chat's
	// response_format, the Responses API's text.format, Anthropic's
	// output_format: json_object or json_schema) fails if its text is not
	// a JSON object, or not valid against the request's own schema.
	// Default: off.
	FailOnInvalidJSON bool `json:"fail_on_invalid_json,omitempty"`

	// Finish reasons that count as failure. Only "length" is known: an
	// answer cut at its token limit (finish_reason length, Anthropic
	// stop_reason max_tokens, a Responses API answer incomplete).
	// Default: none.
	FailOnFinish []string `json:"fail_on_finish,omitempty"`

	// A 2xx answer where the model refused fails (an OpenAI message's
	// refusal, a Responses API refusal part, Anthropic stop_reason
	// refusal). Default: off.
	FailOnRefusal bool `json:"fail_on_refusal,omitempty"`

	handlerTokens []caddyfile.Token // the Caddyfile's handler directives, until FinalizeUnmarshalCaddyfile parses them

	handler     caddyhttp.Handler
	fallback    bool // not the first tier: its answers are stand-ins
	breaker     *breaker.Breaker
	breakerName string
	failStatus  breaker.StatusSet
	retrier     *retrier.Retrier
	metrics     tierMetrics
	setJSON     []jsonField      // SetJSON, paths parsed, in path order
	checks      llm.AnswerChecks // fail_on_empty, fail_on_invalid_json, fail_on_finish, fail_on_refusal
	model       string           // the model set_json sends, if it sets one: what prices the answer

	// The tier's name and model as request var values, boxed once.
	nameVar, modelVar any
}

// jsonField is a set_json rewrite: the value is decoded for every request,
// so no request's body can share (and change) another's.
type jsonField struct {
	path  llm.Path
	value json.RawMessage
}

// TierBreaker configures a tier's circuit breaker.
type TierBreaker struct {
	// Name of the breaker; tiers and handlers naming the same breaker share
	// it. Default: the tier's name.
	Name string `json:"name,omitempty"`
	// Failures within Window that open the breaker. Default: 5.
	Failures int `json:"failures,omitempty"`
	// How far back failures count. Default: 10s.
	Window caddy.Duration `json:"window,omitempty"`
	// How long the breaker stays open before letting probes through. Default: 10s.
	Open caddy.Duration `json:"open,omitempty"`
	// Requests let through at once while half-open. Default: 1.
	HalfOpenProbes int `json:"half_open_probes,omitempty"`
	// Successful probes in a row that close the breaker. Default: 1.
	Successes int `json:"successes,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (FallbackHandler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.rag_fallback",
		New: func() caddy.Module { return new(FallbackHandler) },
	}
}

// terminal ends a tier's routes: a tier that did not answer has failed.
var terminal = caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil })

// Provision sets up the tiers' routes and attaches their breakers.
func (h *FallbackHandler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	if h.MaxBody == 0 {
		h.MaxBody = defaultFallbackMaxBody
	}
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	for i, t := range h.Tiers {
		t.fallback = i > 0
		if err := t.provision(ctx); err != nil {
			return fmt.Errorf("rag_fallback tier %q: %w", t.Name, err)
		}
	}
	return nil
}

func (t *Tier) provision(ctx caddy.Context) error {
	if err := t.Routes.Provision(ctx); err != nil {
		return err
	}
	t.handler = t.Routes.Compile(terminal)
	t.checks = llm.AnswerChecks{
		InvalidJSON: t.FailOnInvalidJSON,
		Truncated:   slices.Contains(t.FailOnFinish, finishLength),
		Refusal:     t.FailOnRefusal,
	}
	if t.FailOnEmpty != "" {
		t.checks.Empty = llm.ParsePath(t.FailOnEmpty)
	}
	t.model = ""
	if raw, ok := t.SetJSON["model"]; ok {
		_ = json.Unmarshal(raw, &t.model)
	}
	t.nameVar, t.modelVar = t.Name, nil
	if t.model != "" {
		t.modelVar = t.model
	}
	t.setJSON = t.setJSON[:0]
	for _, path := range slices.Sorted(maps.Keys(t.SetJSON)) {
		t.setJSON = append(t.setJSON, jsonField{llm.ParsePath(path), t.SetJSON[path]})
	}

	t.failStatus = breaker.DefaultFailStatuses
	if len(t.FailStatus) > 0 {
		set, err := breaker.ParseStatuses(t.FailStatus)
		if err != nil {
			return err
		}
		t.failStatus = set
	}
	backoff := time.Duration(t.RetryBackoff)
	if backoff == 0 {
		backoff = defaultRetryBackoff
	}
	if t.Retries > 0 {
		t.retrier = retrier.New(retrier.ExponentialBackoff(t.Retries, backoff), retryClassifier{})
		t.retrier.SetJitter(0.25)
	}

	cfg, name := breaker.Config{}, t.Name
	if b := t.Breaker; b != nil {
		cfg = breaker.Config{
			Failures:       b.Failures,
			Window:         time.Duration(b.Window),
			Open:           time.Duration(b.Open),
			HalfOpenProbes: b.HalfOpenProbes,
			Successes:      b.Successes,
		}
		if b.Name != "" {
			name = b.Name
		}
	}
	br, err := acquireBreaker(name, cfg)
	if err != nil {
		return err
	}
	t.breaker, t.breakerName = br, name
	t.metrics = newTierMetrics(t.Name)
	return nil
}

// Validate checks the configuration.
func (h *FallbackHandler) Validate() error {
	if len(h.Tiers) == 0 {
		return errors.New("rag_fallback: at least one tier is required")
	}
	if h.MaxBody < 0 {
		return errors.New("rag_fallback: max_body must not be negative")
	}
	seen := map[string]bool{}
	for _, t := range h.Tiers {
		switch {
		case t.Name == "":
			return errors.New("rag_fallback: every tier needs a name")
		case seen[t.Name]:
			return fmt.Errorf("rag_fallback: tier name %q used twice", t.Name)
		case t.Retries < 0 || t.Timeout < 0 || t.FirstByteTimeout < 0 || t.RetryBackoff < 0:
			return fmt.Errorf("rag_fallback tier %q: retries and durations must not be negative", t.Name)
		case len(t.Routes) == 0:
			return fmt.Errorf("rag_fallback tier %q: no handlers", t.Name)
		}
		if b := t.Breaker; b != nil && (b.Failures < 0 || b.HalfOpenProbes < 0 || b.Successes < 0 || b.Window < 0 || b.Open < 0) {
			return fmt.Errorf("rag_fallback tier %q: breaker settings must not be negative", t.Name)
		}
		for _, f := range t.FailOnFinish {
			if f != finishLength {
				return fmt.Errorf("rag_fallback tier %q: fail_on_finish: only %q is known, got %q", t.Name, finishLength, f)
			}
		}
		if _, err := breaker.ParseStatuses(t.FailStatus); err != nil {
			return fmt.Errorf("rag_fallback tier %q: fail_status: %w", t.Name, err)
		}
		seen[t.Name] = true
	}
	return nil
}

// Cleanup lets go of the tiers' breakers.
func (h *FallbackHandler) Cleanup() error {
	for _, t := range h.Tiers {
		if t.breaker != nil {
			_, _ = breakers.Delete(t.breakerName)
		}
	}
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner           = (*FallbackHandler)(nil)
	_ caddy.Validator             = (*FallbackHandler)(nil)
	_ caddy.CleanerUpper          = (*FallbackHandler)(nil)
	_ caddyhttp.MiddlewareHandler = (*FallbackHandler)(nil)
)
