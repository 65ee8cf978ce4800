package caddymodule

import (
	"context"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/ragproxy/ragproxy/contract"
)

// With Caddy's `tracing` directive on a route, the request has a span;
// ragproxy's handlers put their decisions on it (attributes named as the
// placeholders: rag.cache.status, rag.variant …, and events for what
// happened along the way), and each try of a rag_fallback tier is a child
// span. Without tracing the span does not record and all of this is
// skipped.

const tracerName = "github.com/ragproxy/ragproxy"

// recordingSpan returns the request's span if it records.
func recordingSpan(r *http.Request) (trace.Span, bool) {
	s := trace.SpanFromContext(r.Context())
	return s, s.IsRecording()
}

// traceDecisions puts on the request's span what the handlers decided,
// as the request vars and placeholders say once the answer is over: the
// same names the access log and the metrics use.
func traceDecisions(r *http.Request, vars map[string]any, status int) {
	span, ok := recordingSpan(r)
	if !ok {
		return
	}
	attrs := make([]attribute.KeyValue, 0, 6)
	for _, name := range []string{contract.VarCacheStatus, contract.VarUpstream, contract.VarVariant} {
		if v, ok := vars[name].(string); ok && v != "" {
			attrs = append(attrs, attribute.String(name, v))
		}
	}
	if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
		for _, name := range []string{contract.VarCacheSimilarity, contract.VarRequestID, contract.PlaceholderRateLimitZone} {
			if v, ok := repl.GetString(name); ok && v != "" {
				attrs = append(attrs, attribute.String(name, v))
			}
		}
	}
	if status != 0 {
		attrs = append(attrs, attribute.Int("rag.status", status))
	}
	span.SetAttributes(attrs...)
}

// traceEvent adds an event to the request's span, if it records.
func traceEvent(r *http.Request, name string, attrs ...attribute.KeyValue) {
	if span, ok := recordingSpan(r); ok {
		span.AddEvent(name, trace.WithAttributes(attrs...))
	}
}

// startTierSpan starts the child span of one try of a tier, if the
// request's span records; end closes it with the try's outcome.
func startTierSpan(ctx context.Context, t *Tier) (_ context.Context, end func(outcome, reason string, status int)) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return ctx, func(string, string, int) {}
	}
	ctx, span := parent.TracerProvider().Tracer(tracerName).Start(ctx, "rag_fallback tier "+t.Name,
		trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attribute.String("rag.tier", t.Name), attribute.String("rag.breaker", t.breakerName),
			attribute.String("rag.breaker.state", t.breaker.State().String())))
	return ctx, func(outcome, reason string, status int) {
		span.SetAttributes(attribute.String("rag.outcome", outcome))
		if status != 0 {
			span.SetAttributes(attribute.Int("http.response.status_code", status))
		}
		if reason != "" {
			span.SetAttributes(attribute.String("rag.reason", reason))
			span.SetStatus(codes.Error, reason)
		}
		span.End()
	}
}
