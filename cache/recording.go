package cache

import "bytes"

// Recording captures a response body as it is written to the client, up to
// a limit. Past the limit it drops what it holds and records nothing more:
// the answer still reaches the client, it just is not cached.
type Recording struct {
	buf      bytes.Buffer
	limit    int
	overflow bool
}

// NewRecording returns a recording that holds at most limit bytes.
func NewRecording(limit int) *Recording { return &Recording{limit: limit} }

// Write records p. It never fails, so it can sit in an io.MultiWriter.
func (r *Recording) Write(p []byte) (int, error) {
	if r.overflow {
		return len(p), nil
	}
	if r.buf.Len()+len(p) > r.limit {
		r.overflow = true
		r.buf = bytes.Buffer{}
		return len(p), nil
	}
	return r.buf.Write(p)
}

// Overflowed reports whether the body outgrew the limit.
func (r *Recording) Overflowed() bool { return r.overflow }

// Bytes returns what was recorded.
func (r *Recording) Bytes() []byte { return r.buf.Bytes() }
