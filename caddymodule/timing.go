package caddymodule

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/ragproxy/ragproxy/contract"
)

// The outermost ragproxy handler of a request times it as its client sees
// it: time to first byte and total duration (ragproxy_request_*), labelled
// with what the handlers decided (cache status, the tier that answered,
// the variant) as the request vars say when it is over. Inner handlers
// see the request already timed and leave it alone, so each request is
// counted once whichever handlers a route combines.

// timingBuckets have edges at the production targets (first byte < 1 s,
// whole answer < 2 s), so alerts on them need no interpolation.
var timingBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 5, 10, 30, 60}

// ragHandler is a ragproxy handler whose serve is its ServeHTTP untimed.
type ragHandler interface {
	serve(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error
}

// serveTimed runs h, timing the request and metering the answer's cost
// (meterCost) where no outer ragproxy handler does.
func serveTimed[H ragHandler](h H, w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) (err error) {
	if tw := startTiming(w, r); tw != nil {
		defer tw.finish(r, &err) // deferred: an aborted answer (a panic re-raised) is counted too
		w = tw
	}
	w, cm := meterCost(w, r)
	defer finishCost(cm, r)
	return h.serve(w, r, next)
}

// timedWriter notes when the answer's first byte goes to the client.
type timedWriter struct {
	caddyhttp.ResponseWriterWrapper
	start, firstByte time.Time
	status           int
}

var timedWriters = sync.Pool{New: func() any { return new(timedWriter) }}

// startTiming wraps w to time r, or returns nil if r is timed already.
func startTiming(w http.ResponseWriter, r *http.Request) *timedWriter {
	vars, ok := r.Context().Value(caddyhttp.VarsCtxKey).(map[string]any)
	if !ok {
		return nil
	}
	if _, timed := vars[contract.VarTimed]; timed {
		return nil
	}
	vars[contract.VarTimed] = true
	tw := timedWriters.Get().(*timedWriter)
	*tw = timedWriter{ResponseWriterWrapper: caddyhttp.ResponseWriterWrapper{ResponseWriter: w}, start: time.Now()}
	return tw
}

func (w *timedWriter) WriteHeader(status int) {
	if w.status == 0 && status >= 200 {
		w.status, w.firstByte = status, time.Now()
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *timedWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// ReadFrom makes io.Copy go through Write.
func (w *timedWriter) ReadFrom(r io.Reader) (int64, error) {
	return io.Copy(struct{ io.Writer }{w}, r)
}

// finish observes the request once the handler chain has returned. An
// error returned before anything was written is answered by Caddy after
// us: its status is the error's, its first byte is now.
func (w *timedWriter) finish(r *http.Request, err *error) {
	end := time.Now()
	status, first := w.status, w.firstByte
	if status == 0 {
		first, status = end, http.StatusInternalServerError
		var he caddyhttp.HandlerError
		if errors.As(*err, &he) && he.StatusCode != 0 {
			status = he.StatusCode
		}
		if *err == nil {
			status = 0 // nothing answered (a route that fell through)
		}
	}
	vars, _ := r.Context().Value(caddyhttp.VarsCtxKey).(map[string]any)
	cacheStatus := cacheStatusLabel(vars[contract.VarCacheStatus])
	upstream := knownLabel(&knownUpstreams, vars[contract.VarUpstream])
	variant := knownLabel(&knownVariants, vars[contract.VarVariant])
	metrics.requests.WithLabelValues(cacheStatus, upstream, variant, codeClass(status)).Inc()
	metrics.requestFirstByte.WithLabelValues(cacheStatus, upstream, variant).Observe(first.Sub(w.start).Seconds())
	metrics.requestDuration.WithLabelValues(cacheStatus, upstream, variant).Observe(end.Sub(w.start).Seconds())
	traceDecisions(r, vars, status)
	if liveDashboards.Load() > 0 { // else nothing to allocate
		rr := recentRequest{Time: w.start, Method: r.Method, Path: r.URL.Path, Status: status,
			CacheStatus: cacheStatus, Upstream: upstream, Variant: variant, DurationMs: float64(end.Sub(w.start).Microseconds()) / 1000}
		if ac, ok := vars[contract.VarAnswerCost].(answerCost); ok { // finishCost ran before: it is deferred after us
			rr.withCost(ac)
		}
		rememberRequest(rr)
	}
	w.ResponseWriter = nil
	timedWriters.Put(w)
}

// cacheStatusLabel is rag_cache's verdict as a label: hit, semantic_hit,
// miss, bypass, stale, or none (no rag_cache decided).
func cacheStatusLabel(v any) string {
	switch v {
	case contract.CacheHit:
		return "hit"
	case contract.CacheSemanticHit:
		return "semantic_hit"
	case contract.CacheMiss:
		return "miss"
	case contract.CacheBypass:
		return "bypass"
	case contract.CacheStale:
		return "stale"
	}
	return "none"
}

// codeClass is an answer status as a bounded label: 2xx … 5xx, or none.
func codeClass(status int) string {
	switch {
	case status >= 200 && status < 300:
		return "2xx"
	case status >= 300 && status < 400:
		return "3xx"
	case status >= 400 && status < 500:
		return "4xx"
	case status >= 500 && status < 600:
		return "5xx"
	}
	return "none"
}

// Names from the config that may be label values: the tiers and variants
// of every config loaded. A var holding any other value (a user's own
// `vars` directive can set one from a header) is labelled "other", so
// label sets stay bounded by the config.
var knownUpstreams, knownVariants sync.Map

// knownLabel returns v if the config named it, "none" for no value, else
// "other".
func knownLabel(known *sync.Map, v any) string {
	s, ok := v.(string)
	if !ok || s == "" {
		return "none"
	}
	if _, ok := known.Load(s); ok {
		return s
	}
	return "other"
}
