package caddymodule

import (
	"bytes"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/ragproxy/ragproxy/cache"
	"github.com/ragproxy/ragproxy/contract"
	"github.com/ragproxy/ragproxy/llm"
)

// maxHeldBack bounds an answer held back for its tier's checks
// (fail_on_empty, fail_on_invalid_json, fail_on_finish, fail_on_refusal);
// a larger one is sent on unjudged.
const maxHeldBack = 1 << 20

// tierWriter is the response writer of one try of a tier. The decision is
// made at WriteHeader: a failure status is dropped (the next tier answers);
// a 2xx that fail_on_empty must inspect is held back; anything else is
// committed — its headers replace the try's start state on the client's
// writer and the body streams straight through. A 2xx stream the checks
// apply to streams through a judge that gives its verdict at the end. Until it commits, a try
// works on its own copy of the headers, so a failed try leaves no trace.
type tierWriter struct {
	caddyhttp.ResponseWriterWrapper
	req    *http.Request   // the client's request
	vars   map[string]any  // the client's request vars (nil outside Caddy)
	repl   *caddy.Replacer // the client's request replacer (nil outside Caddy)
	tier   *Tier
	header http.Header // this try's headers until it commits
	start  time.Time   // of the try, for its time to first byte

	started   atomic.Bool // the tier began to answer (for the first-byte timeout)
	status    int
	failed    bool // a failure status: dropped
	heldBack  bool // held back in buf for the tier's checks
	committed bool // headers went to the client
	buf       bytes.Buffer

	format *llm.Format      // the JSON the request asked for; nil: none (or not checked)
	judge  *llm.StreamJudge // reads a committed 2xx stream the checks apply to; nil: none

	clock     *tierClock  // the tier's timeout, paused while the client blocks a write; nil: none
	clientErr atomic.Bool // a write or flush to the client failed: the client's doing, not the tier's
}

func newTierWriter(w http.ResponseWriter, r *http.Request, vars map[string]any, t *Tier) *tierWriter {
	repl, _ := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	return &tierWriter{
		ResponseWriterWrapper: caddyhttp.ResponseWriterWrapper{ResponseWriter: w},
		req:                   r,
		vars:                  vars,
		repl:                  repl,
		tier:                  t,
		header:                w.Header().Clone(),
	}
}

func (w *tierWriter) Header() http.Header {
	if w.committed {
		return w.ResponseWriter.Header()
	}
	return w.header
}

func (w *tierWriter) WriteHeader(status int) {
	if w.status != 0 || status < 200 { // informational answers are not forwarded
		return
	}
	w.status = status
	w.started.Store(true)
	w.tier.metrics.firstByte.Observe(time.Since(w.start).Seconds())
	switch {
	case w.tier.failStatus.Contains(status):
		w.failed = true
	case status >= 300 || !w.tier.checks.Any():
		w.commit()
	case !cache.IsEventStream(w.header.Get("Content-Type")):
		w.heldBack = true
	default: // a stream: judged at its end
		if w.tier.checks.OnStreams() {
			w.judge = new(llm.StreamJudge)
		}
		w.commit()
	}
}

// commit sends this try's headers to the client.
func (w *tierWriter) commit() {
	dst := w.ResponseWriter.Header()
	clear(dst)
	for k, v := range w.header {
		dst[k] = v
	}
	dst.Set(contract.HeaderUpstream, w.tier.Name) // canonical: Set need not allocate
	publishTo(w.vars, w.repl, contract.VarUpstream, w.tier.nameVar)
	if w.vars != nil {
		w.vars[contract.VarFallback] = w.tier.fallback
		if w.tier.modelVar != nil {
			w.vars[contract.VarModel] = w.tier.modelVar
		}
	}
	w.committed = true
	w.ResponseWriter.WriteHeader(w.status)
}

func (w *tierWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	switch {
	case w.failed:
		return len(p), nil
	case w.heldBack:
		w.buf.Write(p)
		if w.buf.Len() > maxHeldBack {
			if err := w.release(); err != nil {
				return 0, err
			}
		}
		return len(p), nil
	}
	if w.judge != nil {
		_, _ = w.judge.Write(p)
	}
	return w.writeClient(p)
}

// judgeStream returns why a judged stream failed its tier's checks, or "".
func (w *tierWriter) judgeStream() string {
	if w.judge == nil {
		return ""
	}
	return w.tier.checks.Judge(w.judge.Answer(), w.format)
}

// writeClient writes to the client, with the time it blocks paused out of
// the tier's timeout and its failure put down to the client.
func (w *tierWriter) writeClient(p []byte) (int, error) {
	w.clock.pause()
	n, err := w.ResponseWriter.Write(p)
	w.clock.resume()
	if err != nil {
		w.clientErr.Store(true)
	}
	return n, err
}

// release commits a held-back answer and sends what was held.
func (w *tierWriter) release() error {
	w.heldBack = false
	w.commit()
	_, err := w.writeClient(w.buf.Bytes())
	w.buf.Reset()
	return err
}

// FlushError flushes only a committed answer: flushing the client's writer
// before that would send its headers with an implicit 200.
func (w *tierWriter) FlushError() error {
	if !w.committed || w.heldBack {
		return nil
	}
	w.clock.pause()
	err := http.NewResponseController(w.ResponseWriter).Flush()
	w.clock.resume()
	if err != nil {
		w.clientErr.Store(true)
	}
	return err
}

// ReadFrom makes sure io.Copy goes through Write.
func (w *tierWriter) ReadFrom(r io.Reader) (int64, error) {
	return io.Copy(struct{ io.Writer }{w}, r)
}
