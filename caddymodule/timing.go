package caddymodule

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/prometheus/client_golang/prometheus"

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

// serveTimed runs h. As the request's outermost ragproxy handler it also
// times the request and meters the answer's cost, through one answer
// watcher (the handlers inside share it); an inner one finds the request
// timed already and only serves it.
func serveTimed[H ragHandler](h H, w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) (err error) {
	vars, _ := r.Context().Value(caddyhttp.VarsCtxKey).(map[string]any)
	if vars[contract.VarTimed] != nil {
		return h.serve(w, r, next)
	}
	if vars != nil {
		vars[contract.VarTimed] = true
	}
	aw := watchAnswer(w, r)
	aw.vars, aw.timed, aw.start = vars, vars != nil, time.Now()
	// deferred: an aborted answer (a panic re-raised) is counted too
	defer finishTimed(aw, r, &err)
	return h.serve(aw, r, next)
}

// finishTimed records what the outermost handler measured, once the
// handler chain has returned: the answer's cost, then the request's
// timing (which the status page shows with that cost).
func finishTimed(aw *answerWriter, r *http.Request, err *error) {
	defer aw.release()
	finishCost(aw, r)
	if aw.timed {
		finishTiming(aw, r, *err)
	}
}

// finishTiming observes the request. An error returned before anything
// was written is answered by Caddy after us: its status is the error's,
// its first byte is now.
func finishTiming(aw *answerWriter, r *http.Request, err error) {
	end := time.Now()
	status, first := aw.status, aw.firstByte
	if status == 0 {
		first, status = end, http.StatusInternalServerError
		var he caddyhttp.HandlerError
		if errors.As(err, &he) && he.StatusCode != 0 {
			status = he.StatusCode
		}
		if err == nil {
			status = 0 // nothing answered (a route that fell through)
		}
	}
	vars := aw.vars
	labels := requestLabels{
		cacheStatus: cacheStatusLabel(vars[contract.VarCacheStatus]),
		upstream:    knownLabel(&knownUpstreams, vars[contract.VarUpstream]),
		variant:     knownLabel(&knownVariants, vars[contract.VarVariant]),
		code:        codeClass(status),
	}
	s := requestSeriesOf.get(labels)
	s.count.Inc()
	s.firstByte.Observe(first.Sub(aw.start).Seconds())
	s.duration.Observe(end.Sub(aw.start).Seconds())
	traceDecisions(r, vars, status)
	if liveDashboards.Load() > 0 { // else nothing to allocate
		rr := recentRequest{Time: aw.start, Method: r.Method, Path: r.URL.Path, Status: status,
			CacheStatus: labels.cacheStatus, Upstream: labels.upstream, Variant: labels.variant,
			DurationMs: float64(end.Sub(aw.start).Microseconds()) / 1000}
		if ac, ok := vars[contract.VarAnswerCost].(answerCost); ok {
			rr.withCost(ac)
		}
		rememberRequest(rr)
	}
}

// requestLabels are the labels of a request's series.
type requestLabels struct{ cacheStatus, upstream, variant, code string }

// requestSeries are the series of one label set: the counter and both
// histograms of metrics.
type requestSeries struct {
	count               prometheus.Counter
	firstByte, duration prometheus.Observer
}

var requestSeriesOf = seriesCache[requestLabels, requestSeries]{series: func(l requestLabels) requestSeries {
	return requestSeries{
		count:     metrics.requests.WithLabelValues(l.cacheStatus, l.upstream, l.variant, l.code),
		firstByte: metrics.requestFirstByte.WithLabelValues(l.cacheStatus, l.upstream, l.variant),
		duration:  metrics.requestDuration.WithLabelValues(l.cacheStatus, l.upstream, l.variant),
	}
}}

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
