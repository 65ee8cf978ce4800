package caddymodule

import (
	"io"
	"net/http"
	"sync"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/ragproxy/ragproxy/llm"
)

// answerWriter watches an answer on its way to the client for what
// rag_rate_limit and rag_split measure: its status, the cache's verdict
// and the LLM tokens its usage reports. Writes and flushes pass straight
// through (an SSE stream is not delayed).
type answerWriter struct {
	caddyhttp.ResponseWriterWrapper
	status      int
	cacheStatus string
	clientGone  bool // writing to the client failed
	meter       *llm.UsageMeter

	// With stripUsage, the usage-only chunks of a streamed chat
	// completion (asked for by rag_rate_limit, not by the client) are
	// metered but not passed on.
	stripUsage bool
	stripper   llm.UsageChunkStripper
}

var answerWriters = sync.Pool{New: func() any { return new(answerWriter) }}

// watchAnswer wraps w. Release it with release once the handler chain
// has returned (and nothing holds it any more).
func watchAnswer(w http.ResponseWriter) *answerWriter {
	aw := answerWriters.Get().(*answerWriter)
	*aw = answerWriter{ResponseWriterWrapper: caddyhttp.ResponseWriterWrapper{ResponseWriter: w},
		meter: aw.meter, stripper: aw.stripper}
	if aw.meter == nil {
		aw.meter = llm.NewUsageMeter("", "")
	}
	return aw
}

func (w *answerWriter) release() {
	w.ResponseWriter = nil
	answerWriters.Put(w)
}

func (w *answerWriter) WriteHeader(status int) {
	if w.status == 0 && status >= 200 {
		w.status = status
		h := w.Header()
		w.cacheStatus = h.Get("X-Cache")
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

// Status is the answer's status; 0 if nothing was written.
func (w *answerWriter) Status() int { return w.status }

// upstreamTokens returns the tokens an upstream spent on this answer: none
// for an answer from the cache or no answer at all.
func (w *answerWriter) upstreamTokens() int64 {
	if w.status == 0 {
		return 0 // nothing written: the meter still holds an earlier answer
	}
	switch w.cacheStatus {
	case statusHit, statusSemHit, statusStale:
		return 0
	}
	u, ok := w.meter.Usage()
	if !ok {
		return 0
	}
	return u.Total
}
