package caddymodule

import (
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/ragproxy/ragproxy/cache"
	"github.com/ragproxy/ragproxy/contract"
)

// recordingWriter passes an answer to the client as it is written — every
// flush of an SSE stream still reaches the client at once through Unwrap —
// and copies it into the flight, which records it for the cache and hands
// it to coalesced followers.
type recordingWriter struct {
	*caddyhttp.ResponseWriterWrapper
	flight    *cache.Flight
	req       *http.Request
	privateOK bool        // a Cache-Control: private answer may be stored
	vary      http.Header // the request's values of the headers the answer's Vary names
	status    int         // 0 until the answer's header is written
	length    string      // the answer's Content-Length, if it declared one

	holdErrors bool // hold a server error back (a stale entry will answer instead)
	held       bool // a server error was held back
	clientGone bool // writing to the client failed
}

func (w *recordingWriter) WriteHeader(status int) {
	if w.status != 0 {
		return
	}
	if status < 200 { // informational (103 Early Hints): not the answer
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.status = status
	h := w.Header()
	h.Set(contract.HeaderCache, contract.CacheMiss)
	w.length = h.Get("Content-Length")
	storable := w.policy(status, h) == cache.Storable
	if storable && len(h["Vary"]) > 0 {
		w.vary, _ = cache.RequestVary(h, w.req.Header)
	}
	w.flight.WriteHeader(status, cache.StoredHeader(h), w.vary, storable)
	if w.holdErrors && status >= 500 {
		w.held = true
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.held || w.clientGone {
		_, _ = w.flight.Write(p)
		return len(p), nil
	}
	n, err := w.ResponseWriter.Write(p)
	if err != nil {
		// The client is gone. Keep reading the answer for the followers
		// tailing it and for the cache; the upstream call ends when no
		// follower is left (see Flight.Detach).
		w.clientGone = true
		_, _ = w.flight.Write(p)
		return len(p), nil
	}
	_, _ = w.flight.Write(p)
	return n, nil
}

// FlushError flushes only an answer that is not held back (flushing the
// client's writer first would send its headers with an implicit 200), and
// like Write it treats a client that is gone as no error.
func (w *recordingWriter) FlushError() error {
	if w.held || w.clientGone {
		return nil
	}
	if err := http.NewResponseController(w.ResponseWriter).Flush(); err != nil {
		w.clientGone = true
	}
	return nil
}

// ReadFrom makes sure io.Copy goes through Write (the embedded wrapper's
// ReadFrom would hand the body to the client unrecorded).
func (w *recordingWriter) ReadFrom(r io.Reader) (int64, error) {
	return io.Copy(struct{ io.Writer }{w}, r)
}

// policy says whether an answer may be stored (and shared with coalesced
// requests): the HTTP rules, and never a fallback tier's stand-in.
func (w *recordingWriter) policy(status int, h http.Header) cache.SkipReason {
	if fb, _ := caddyhttp.GetVar(w.req.Context(), contract.VarFallback).(bool); fb {
		return cache.SkipFallback
	}
	return cache.StorePolicy(status, h, w.privateOK)
}

// entry returns the recorded answer of a handler that returned without
// error, or why it must not be stored.
func (w *recordingWriter) entry() (*cache.Entry, cache.SkipReason) {
	status, header, body, overflowed := w.flight.Recorded()
	switch {
	case status == 0:
		return nil, cache.SkipIncomplete
	case overflowed:
		return nil, cache.SkipTooLarge
	case w.length != "" && w.length != strconv.Itoa(len(body)):
		return nil, cache.SkipIncomplete
	}
	if reason := w.policy(status, w.Header()); reason != cache.Storable {
		return nil, reason
	}
	stream := cache.IsEventStream(header.Get("Content-Type"))
	if stream {
		// replayed to the whole scope: only a stream that ended as its API
		// ends one, without an error event
		if reason := cache.StreamEnd(body); reason != cache.Storable {
			return nil, reason
		}
	}
	return &cache.Entry{
		Status:   status,
		Header:   header,
		Body:     body,
		Stream:   stream,
		StoredAt: time.Now(),
		Vary:     w.vary,
	}, cache.Storable
}
