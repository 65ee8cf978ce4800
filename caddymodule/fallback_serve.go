package caddymodule

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/eapache/go-resiliency/retrier"
	"go.opentelemetry.io/otel/attribute"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ragproxy/ragproxy/breaker"
	"github.com/ragproxy/ragproxy/contract"
	"github.com/ragproxy/ragproxy/llm"
)

// Why a try failed, in metrics (fallbacks_total reason) and logs.
const (
	reasonOpen             = "open"
	reasonStatus           = "status"
	reasonTimeout          = "timeout"
	reasonFirstByteTimeout = "first_byte_timeout"
	reasonTransport        = "transport"
	reasonNoAnswer         = "no_answer"
	reasonBroken           = "broken" // upstream_errors_total only: failed after the answer started
)

// outcomeNames name breaker outcomes in metrics and spans.
var outcomeNames = [...]string{breaker.Success: "success", breaker.Failure: "failure", breaker.Ignored: "ignored"}

// errorClasses are the classes of ragproxy_upstream_errors_total.
var errorClasses = []string{reasonStatus, reasonTimeout, reasonFirstByteTimeout, reasonTransport, reasonNoAnswer, reasonBroken,
	llm.FailEmpty, llm.FailInvalidJSON, llm.FailTruncated, llm.FailRefusal}

var (
	errTierTimeout      = errors.New("tier timeout")
	errFirstByteTimeout = errors.New("tier first-byte timeout")
	errRetry            = errors.New("retry")
)

// retryClassifier retries exactly the tries that failed before anything
// reached the client.
type retryClassifier struct{}

func (retryClassifier) Classify(err error) retrier.Action {
	switch {
	case err == nil:
		return retrier.Succeed
	case errors.Is(err, errRetry):
		return retrier.Retry
	}
	return retrier.Fail
}

// try is what one try of a tier came to.
type try struct {
	served bool   // the answer went to the client (whole, or cut by a panic re-raised)
	reason string // why it failed, when not served
	err    error  // the handler's error to return, when served
}

// ServeHTTP tries the tiers in order.
func (h *FallbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	return serveTimed(h, w, r, next)
}

func (h *FallbackHandler) serve(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	body, err := readBody(r, h.MaxBody)
	if errors.Is(err, errBodyTooLarge) {
		return writeBodyTooLarge(w, h.MaxBody)
	}
	if err != nil {
		return caddyhttp.Error(http.StatusBadRequest, fmt.Errorf("reading request body: %w", err))
	}
	for i, t := range h.Tiers {
		res := h.tryTier(t, w, r, body)
		if res.served {
			return res.err
		}
		if r.Context().Err() != nil {
			return caddyhttp.Error(499, r.Context().Err()) // the client went away
		}
		to := "none"
		if i+1 < len(h.Tiers) {
			to = h.Tiers[i+1].Name
		}
		tierVecs.fallbacks.WithLabelValues(t.Name, to, res.reason).Inc()
		traceEvent(r, "rag_fallback: tier failed", attribute.String("rag.tier", t.Name),
			attribute.String("rag.reason", res.reason), attribute.String("rag.next", to))
		if c := h.logger.Check(zapcore.DebugLevel, "tier failed"); c != nil {
			c.Write(zap.String("tier", t.Name), zap.String("reason", res.reason), zap.String("next", to))
		}
	}
	writeError(w, http.StatusServiceUnavailable, "server_error", "upstream_unavailable",
		"every upstream is failing or unavailable; retry later")
	return nil
}

// tryTier tries one tier, retrying failures that reached no client.
func (h *FallbackHandler) tryTier(t *Tier, w http.ResponseWriter, r *http.Request, body []byte) try {
	body = t.rewriteBody(body)
	if t.retrier == nil {
		return h.attempt(t, w, r, body)
	}
	var last try
	_ = t.retrier.RunCtx(r.Context(), func(context.Context) error {
		last = h.attempt(t, w, r, body)
		if last.served || last.reason == reasonOpen {
			return nil
		}
		return errRetry
	})
	return last
}

// attempt sends the request to the tier once.
func (h *FallbackHandler) attempt(t *Tier, w http.ResponseWriter, r *http.Request, body []byte) (res try) {
	done, err := t.breaker.Allow()
	if err != nil {
		t.metrics.rejected.Inc()
		return try{reason: reasonOpen}
	}
	start := time.Now()
	ctx, endSpan := startTierSpan(r.Context(), t)
	var cancel context.CancelCauseFunc
	if t.Timeout > 0 || t.FirstByteTimeout > 0 { // else nothing ends a try but its client
		ctx, cancel = context.WithCancelCause(ctx)
		defer cancel(nil)
	}
	// Each try gets its own copy of the request vars: an abandoned try's
	// dial may still read them in the background while a later try's
	// answer writes rag.upstream into the client's.
	vars, _ := r.Context().Value(caddyhttp.VarsCtxKey).(map[string]any)
	if vars != nil {
		ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, maps.Clone(vars))
	}
	req := t.request(r.Clone(ctx), body)
	tw := newTierWriter(w, r, vars, t)
	if t.checks.InvalidJSON {
		tw.format = llm.RequestedFormat(body)
	}
	tw.start = start
	if t.Timeout > 0 {
		tw.clock = startTierClock(time.Duration(t.Timeout), cancel)
		defer tw.clock.stop()
	}
	if t.FirstByteTimeout > 0 {
		timer := time.AfterFunc(time.Duration(t.FirstByteTimeout), func() {
			if !tw.started.Load() {
				cancel(errFirstByteTimeout)
			}
		})
		defer timer.Stop()
	}

	// Record the outcome however the try ends, a re-raised panic included.
	outcome := breaker.Failure
	defer func() {
		done(outcome)
		t.metrics.observe(outcome, time.Since(start))
		class := ""
		if outcome == breaker.Failure {
			class = res.reason
			if class == "" {
				class = reasonBroken
			}
			t.metrics.errors[class].Inc()
		}
		endSpan(outcomeNames[outcome], class, tw.status)
	}()
	handlerErr, panicked := serveRecovering(t.handler, tw, req)

	clientGone := r.Context().Err() != nil
	if clientGone || tw.clientErr.Load() { // no verdict on the upstream
		outcome = breaker.Ignored
	}
	switch {
	case panicked != nil && tw.committed:
		panic(panicked) // the answer broke after it started: as reverse_proxy does, abort
	case clientGone:
		return try{served: tw.committed, err: caddyhttp.Error(499, r.Context().Err())}
	case panicked != nil:
		return try{reason: reasonTransport} // broke while held back: try the next tier
	case tw.committed:
		if handlerErr == nil {
			outcome = breaker.Success
			if reason := tw.judgeStream(); reason != "" {
				outcome = breaker.Failure
				h.streamFailed(t, r, reason)
			}
		}
		return try{served: true, err: handlerErr}
	}
	reason := failureReason(ctx, handlerErr, tw)
	if reason == "" { // a held-back answer that turned out fine
		outcome = breaker.Success
		return try{served: true, err: tw.release()}
	}
	return try{reason: reason}
}

// streamFailed records a streamed answer that failed its tier's checks
// at its end: too late for the next tier, it is counted and marked so
// rag_cache does not store it.
func (h *FallbackHandler) streamFailed(t *Tier, r *http.Request, reason string) {
	caddyhttp.SetVar(r.Context(), contract.VarFallback, true)
	tierVecs.streamFailures.WithLabelValues(t.Name, reason).Inc()
	if c := h.logger.Check(zapcore.DebugLevel, "streamed answer failed its checks"); c != nil {
		c.Write(zap.String("tier", t.Name), zap.String("reason", reason))
	}
}

// serveRecovering runs the tier's handlers, turning an aborted answer's
// panic into a value so the caller can decide whether to re-raise it.
func serveRecovering(h caddyhttp.Handler, w http.ResponseWriter, r *http.Request) (err error, panicked any) {
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				panic(p) // not ours to handle
			}
			panicked = p
		}
	}()
	return h.ServeHTTP(w, r), nil
}

// failureReason says why a try that sent nothing to the client failed, or
// "" if its held-back answer is good.
func failureReason(ctx context.Context, handlerErr error, tw *tierWriter) string {
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errFirstByteTimeout):
		return reasonFirstByteTimeout
	case errors.Is(cause, errTierTimeout):
		return reasonTimeout
	}
	switch {
	case handlerErr != nil:
		var he caddyhttp.HandlerError
		if errors.As(handlerErr, &he) && he.StatusCode == http.StatusGatewayTimeout {
			return reasonTimeout
		}
		return reasonTransport
	case tw.status == 0:
		return reasonNoAnswer
	case tw.failed:
		return reasonStatus
	case tw.heldBack:
		return tw.tier.checks.JudgeJSON(tw.buf.Bytes(), tw.format) // llm.FailEmpty, FailInvalidJSON…
	}
	return ""
}

// rewriteBody applies set_json to a JSON object body; any other body is
// sent as it came.
func (t *Tier) rewriteBody(body []byte) []byte {
	if len(t.setJSON) == 0 {
		return body
	}
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&obj) != nil || obj == nil {
		return body
	}
	for _, f := range t.setJSON {
		var v any
		if json.Unmarshal(f.value, &v) != nil {
			continue // validated at provision
		}
		f.path.Set(obj, v)
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return body
	}
	return out
}

// request prepares a clone of the request for this tier: a fresh body and
// the tier's URI and header rewrites.
func (t *Tier) request(req *http.Request, body []byte) *http.Request {
	setBody(req, body)
	if t.URI == "" && len(t.Headers) == 0 {
		return req
	}
	repl, _ := req.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	expand := func(s string) string {
		if repl == nil {
			return s
		}
		return repl.ReplaceAll(s, "")
	}
	if t.URI != "" {
		path, query, hasQuery := strings.Cut(expand(t.URI), "?")
		req.URL.Path, req.URL.RawPath = path, ""
		if hasQuery {
			req.URL.RawQuery = query
		}
		req.RequestURI = req.URL.RequestURI()
	}
	for k, v := range t.Headers {
		req.Header.Set(k, expand(v))
	}
	return req
}
