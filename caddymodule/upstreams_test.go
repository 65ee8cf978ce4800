package caddymodule_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// startUpstream serves h on loopback and returns its host:port.
func startUpstream(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

// gatedStream is an SSE upstream that sends one event, then waits for
// release before the rest; it counts its calls and the calls cancelled
// while waiting.
type gatedStream struct {
	addr             string
	calls, cancelled atomic.Int64
}

func newGatedStream(t *testing.T, release <-chan struct{}) *gatedStream {
	g := new(gatedStream)
	g.addr = startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		g.calls.Add(1)
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
			io.WriteString(w, "data: second\n\ndata: [DONE]\n\n")
		case <-r.Context().Done():
			g.cancelled.Add(1)
		}
	})
	return g
}

// newBlockingUpstream answers status only once release is closed, counting calls.
func newBlockingUpstream(t *testing.T, release <-chan struct{}, status int) (string, func() int64) {
	var calls atomic.Int64
	addr := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		io.Copy(io.Discard, r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, `{"answer":"shared","call":`+strconv.FormatInt(n, 10)+`}`)
	})
	return addr, calls.Load
}

// newNoStoreUpstream marks every answer Cache-Control: no-store.
func newNoStoreUpstream(t *testing.T) (string, func() int64) {
	var calls atomic.Int64
	addr := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"private":true}`)
	})
	return addr, calls.Load
}

// newHeaderEchoUpstream remembers the first value it saw of one request header.
func newHeaderEchoUpstream(t *testing.T, header string) (string, func() string) {
	var mu sync.Mutex
	seen := ""
	addr := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if seen == "" {
			seen = r.Header.Get(header)
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	})
	return addr, func() string { mu.Lock(); defer mu.Unlock(); return seen }
}

func readFull(r io.Reader, buf []byte) (int, error) { return io.ReadFull(r, buf) }

func readAll(r io.Reader) (string, error) {
	b, err := io.ReadAll(r)
	return string(b), err
}

// newFailFirstUpstream answers 503 to its first n calls, then 200.
func newFailFirstUpstream(t *testing.T, n int64) (string, func() int64) {
	var calls atomic.Int64
	addr := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if calls.Add(1) <= n {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":{"message":"busy"}}`)
			return
		}
		io.WriteString(w, `{"ok":true,"documents":[{"id":1}]}`)
	})
	return addr, calls.Load
}
