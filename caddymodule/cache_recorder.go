package caddymodule

import (
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/ragproxy/ragproxy/cache"
)

// recordingWriter passes an answer to the client as it is written — every
// flush of an SSE stream still reaches the client at once through Unwrap —
// and records a bounded copy for the cache.
type recordingWriter struct {
	*caddyhttp.ResponseWriterWrapper
	status int
	header http.Header // the answer's headers as they were sent
	length string      // its Content-Length, if it declared one
	body   *cache.Recording
}

func newRecordingWriter(w http.ResponseWriter, limit int) *recordingWriter {
	return &recordingWriter{
		ResponseWriterWrapper: &caddyhttp.ResponseWriterWrapper{ResponseWriter: w},
		body:                  cache.NewRecording(limit),
	}
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
	w.Header().Set("X-Cache", statusMiss)
	w.length = w.Header().Get("Content-Length")
	w.header = cache.StoredHeader(w.Header())
	w.ResponseWriter.WriteHeader(status)
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	_, _ = w.body.Write(p[:n])
	return n, err
}

// ReadFrom makes sure io.Copy goes through Write (the embedded wrapper's
// ReadFrom would hand the body to the client unrecorded).
func (w *recordingWriter) ReadFrom(r io.Reader) (int64, error) {
	return io.Copy(struct{ io.Writer }{w}, r)
}

// entry returns the recorded answer, or why it must not be stored.
func (w *recordingWriter) entry(shared bool) (*cache.Entry, cache.SkipReason) {
	if w.status == 0 {
		return nil, cache.SkipIncomplete
	}
	if reason := cache.StorePolicy(w.status, w.header, shared); reason != cache.Storable {
		return nil, reason
	}
	if w.body.Overflowed() {
		return nil, cache.SkipTooLarge
	}
	body := w.body.Bytes()
	if w.length != "" && w.length != strconv.Itoa(len(body)) {
		return nil, cache.SkipIncomplete
	}
	return &cache.Entry{
		Status:   w.status,
		Header:   w.header,
		Body:     body,
		Stream:   cache.IsEventStream(w.header.Get("Content-Type")),
		StoredAt: time.Now(),
	}, cache.Storable
}
