package mockupstream

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// Options are the server's knobs; every request also honours per-request
// header overrides (see [HeaderLatency] and the other header constants).
type Options struct {
	Latency        time.Duration // wait before the first byte of every answer (default 0)
	StreamInterval time.Duration // wait between SSE events of a streamed answer (default 0)
	FailStatus     int           // when non-zero, every request answers this status with an OpenAI-shaped JSON error
	Drop           string        // "" (off), "before": close the connection without answering, "mid": for streams, send half the events then cut the connection (for JSON answers: send half the body then cut)
	EmptyResults   bool          // /query answers with an empty documents array
}

// Values of [Options.Drop] and of the [HeaderDrop] header.
const (
	DropBefore = "before" // close the connection without answering
	DropMid    = "mid"    // send half of the answer, then cut the connection
)

// Per-request override headers. They take precedence over [Options];
// invalid values are ignored.
const (
	HeaderLatency        = "X-Mock-Latency"         // a time.ParseDuration value, e.g. "50ms"
	HeaderStatus         = "X-Mock-Status"          // a failure status (200–599), or "0" for none
	HeaderDrop           = "X-Mock-Drop"            // "before", "mid", or "off"
	HeaderEmpty          = "X-Mock-Empty"           // a strconv.ParseBool value, e.g. "1"
	HeaderStreamInterval = "X-Mock-Stream-Interval" // a time.ParseDuration value, e.g. "10ms"
)

// knobs are the effective settings for one request: the server's Options
// overridden by the request's headers, with invalid values dropped.
type knobs struct {
	latency        time.Duration
	streamInterval time.Duration
	failStatus     int
	drop           string
	empty          bool
}

// resolveKnobs merges o with the override headers in h.
func resolveKnobs(o Options, h http.Header) knobs {
	k := knobs{
		latency:        max(o.Latency, 0),
		streamInterval: max(o.StreamInterval, 0),
		failStatus:     o.FailStatus,
		drop:           o.Drop,
		empty:          o.EmptyResults,
	}
	if d, ok := parseDuration(h.Get(HeaderLatency)); ok {
		k.latency = d
	}
	if d, ok := parseDuration(h.Get(HeaderStreamInterval)); ok {
		k.streamInterval = d
	}
	if n, err := strconv.Atoi(h.Get(HeaderStatus)); err == nil && (n == 0 || validFailStatus(n)) {
		k.failStatus = n
	}
	switch v := h.Get(HeaderDrop); v {
	case DropBefore, DropMid:
		k.drop = v
	case "off":
		k.drop = ""
	}
	if b, err := strconv.ParseBool(h.Get(HeaderEmpty)); err == nil {
		k.empty = b
	}
	if !validFailStatus(k.failStatus) {
		k.failStatus = 0
	}
	if k.drop != DropBefore && k.drop != DropMid {
		k.drop = ""
	}
	return k
}

// validFailStatus reports whether n can be sent as a final status code.
func validFailStatus(n int) bool { return n >= 200 && n <= 599 }

// parseDuration parses a non-negative duration header value.
func parseDuration(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	d, err := time.ParseDuration(v)
	return d, err == nil && d >= 0
}

// pause waits for d, or until ctx is done; it reports whether the full
// duration elapsed.
func pause(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
