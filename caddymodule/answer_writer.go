package caddymodule

import (
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/ragproxy/ragproxy/contract"
	"github.com/ragproxy/ragproxy/llm"
)

// answerWriter watches an answer on its way to the client for what
// rag_rate_limit and rag_split measure: its status, the cache's verdict
// and the LLM tokens its usage reports. Writes and flushes pass straight
// through (an SSE stream is not delayed).
//
// The cache's verdict is rag_cache's own request var (rag.cache.status)
// as the answer starts, never the answer's X-Cache header, which an
// upstream (or anything behind the proxy) can set.
type answerWriter struct {
	caddyhttp.ResponseWriterWrapper
	req         *http.Request // whose vars hold rag_cache's verdict
	status      int
	cacheStatus string
	clientGone  bool  // writing to the client failed
	written     int64 // answer bytes written, before any stripping
	meter       *llm.UsageMeter
	holders     int // the handlers watching the answer through w (release)

	// Set by the outermost ragproxy handler (serveTimed), which times the
	// request through its watcher: the request vars, found once, and when
	// the request started and its answer's status line went out.
	vars             map[string]any
	timed            bool
	start, firstByte time.Time

	// With stripUsage, the usage-only chunks of a streamed chat
	// completion (asked for by rag_rate_limit, not by the client) are
	// metered but not passed on.
	stripUsage bool
	stripper   llm.UsageChunkStripper
}

var answerWriters = sync.Pool{New: func() any { return new(answerWriter) }}

// watchAnswer returns a watcher of r's answer, written through w. If w is
// one already (an outer ragproxy handler watches r and nothing between
// changes the answer), that one serves: every handler sees the same
// bytes, and the answer is scanned for its usage once, however many
// handlers watch it. Else it wraps w. Release it with release once the
// handler chain has returned.
func watchAnswer(w http.ResponseWriter, r *http.Request) *answerWriter {
	if aw, ok := w.(*answerWriter); ok && aw.req == r {
		aw.holders++
		return aw
	}
	aw := answerWriters.Get().(*answerWriter)
	*aw = answerWriter{ResponseWriterWrapper: caddyhttp.ResponseWriterWrapper{ResponseWriter: w},
		req: r, meter: aw.meter, stripper: aw.stripper, holders: 1}
	if aw.meter == nil {
		aw.meter = llm.NewUsageMeter("", "")
	}
	return aw
}

// release lets go of w; the last of its holders puts it back in the pool.
func (w *answerWriter) release() {
	if w.holders--; w.holders > 0 {
		return
	}
	w.ResponseWriter, w.req, w.vars = nil, nil, nil
	answerWriters.Put(w)
}

func (w *answerWriter) WriteHeader(status int) {
	if w.status == 0 && status >= 200 {
		w.status = status
		if w.timed {
			w.firstByte = time.Now()
		}
		h := w.Header()
		w.cacheStatus, _ = w.requestVar(contract.VarCacheStatus).(string)
		w.meter.Reset(h.Get("Content-Type"), h.Get("Content-Encoding"))
		switch {
		case w.stripUsage && !w.meter.Streaming():
			w.stripUsage = false // not a stream after all (an error, say)
		case w.stripUsage:
			h.Del("Content-Length") // the stream may come out shorter
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *answerWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.stripUsage {
		return w.writeStripped(p)
	}
	n, err := w.ResponseWriter.Write(p)
	w.clientGone = w.clientGone || err != nil
	w.written += int64(n)
	_, _ = w.meter.Write(p[:n])
	return n, err
}

// stripUsageChunks makes w drop the usage-only chunks of a streamed chat
// completion on their way to the client (still metering them).
func (w *answerWriter) stripUsageChunks() {
	w.stripper.Reset()
	w.stripUsage = true
}

// writeStripped is Write for a stream whose usage-only chunks are
// dropped: the meter sees all of p, the client what the stripper passes.
func (w *answerWriter) writeStripped(p []byte) (int, error) {
	w.written += int64(len(p))
	_, _ = w.meter.Write(p)
	if out := w.stripper.Strip(p); len(out) > 0 {
		if _, err := w.ResponseWriter.Write(out); err != nil {
			w.clientGone = true
			return 0, err
		}
	}
	return len(p), nil
}

// finish writes what the stripper still holds (a stream that ended in the
// middle of a line). Call it once the handler chain has returned.
func (w *answerWriter) finish() {
	if w.stripUsage {
		if rest := w.stripper.Rest(); len(rest) > 0 && !w.clientGone {
			_, _ = w.ResponseWriter.Write(rest)
		}
		w.stripUsage = false
	}
}

// ReadFrom makes io.Copy go through Write (the embedded wrapper's ReadFrom
// would hand the body over unseen).
func (w *answerWriter) ReadFrom(r io.Reader) (int64, error) {
	return io.Copy(struct{ io.Writer }{w}, r)
}

// requestVar is the request var name: from the vars the outermost handler
// found, else (a watcher of its own) from the request's context.
func (w *answerWriter) requestVar(name string) any {
	if w.vars != nil {
		return w.vars[name]
	}
	return caddyhttp.GetVar(w.req.Context(), name)
}

// Status is the answer's status; 0 if nothing was written.
func (w *answerWriter) Status() int { return w.status }

// fromCache reports whether rag_cache answered (a hit, a semantic hit, a
// stale entry standing in for an error): no upstream spent tokens on it.
func (w *answerWriter) fromCache() bool { return contract.FromCache(w.cacheStatus) }

// upstreamTokens returns the tokens an upstream spent on this answer, as
// its usage reports them: none for an answer from the cache, no answer at
// all, or one without a readable usage.
func (w *answerWriter) upstreamTokens() int64 {
	if w.status == 0 || w.fromCache() {
		return 0 // nothing written: the meter still holds an earlier answer
	}
	u, ok := w.meter.Usage()
	if !ok {
		return 0
	}
	return u.Total
}

// cost returns what the answer costs a token budget: nothing from the
// cache, else the usage it reports, else (no answer, no usage, usage cut
// off or compressed) an estimate from the sizes, never zero: prompt (the
// request's estimated tokens) plus a token per 4 answer bytes. estimated
// says which.
func (w *answerWriter) cost(prompt int64) (tokens int64, estimated bool) {
	if w.status != 0 {
		if w.fromCache() {
			return 0, false
		}
		if u, ok := w.meter.Usage(); ok {
			return u.Total, false
		}
	}
	return max(prompt+(w.written+3)/4, 1), true
}
