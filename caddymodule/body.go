package caddymodule

import (
	"bytes"
	"errors"
	"io"
	"net/http"
)

var errBodyTooLarge = errors.New("request body too large")

// bufferedBody is a request body already held in memory, so a later
// handler (rag_fallback behind rag_cache) takes the bytes instead of
// reading and copying them again.
type bufferedBody struct {
	bytes.Reader
	data []byte
}

func newBufferedBody(data []byte) *bufferedBody {
	b := &bufferedBody{data: data}
	b.Reset(data)
	return b
}

func (*bufferedBody) Close() error { return nil }

// whole reports whether b has not been read from yet.
func (b *bufferedBody) whole() bool { return b.Len() == len(b.data) }

// peekBody returns the request body if it is at most limit bytes. Either
// way the body stays whole on the request for the handlers that follow:
// a longer one is put back as the bytes read so far, then the rest.
func peekBody(r *http.Request, limit int64) ([]byte, bool) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength > limit {
		return nil, false
	}
	if b, ok := r.Body.(*bufferedBody); ok && b.whole() {
		return b.data, int64(len(b.data)) <= limit
	}
	rest := r.Body
	var head []byte
	var err error
	if r.ContentLength >= 0 {
		// The server's body reader stops at the declared length.
		head = make([]byte, r.ContentLength)
		var n int
		n, err = io.ReadFull(rest, head)
		head = head[:n]
	} else {
		head, err = io.ReadAll(io.LimitReader(rest, limit+1))
	}
	if err != nil || int64(len(head)) > limit {
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), rest), rest}
		return nil, false
	}
	setBody(r, head)
	return head, true
}

// readBody reads at most limit bytes of the body and puts a fresh reader
// over them back on the request for the handlers that follow.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if b, ok := r.Body.(*bufferedBody); ok && b.whole() {
		if int64(len(b.data)) > limit {
			return nil, errBodyTooLarge
		}
		return b.data, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, errBodyTooLarge
	}
	setBody(r, body)
	return body, nil
}

// setBody gives the request a fresh reader over body.
func setBody(r *http.Request, body []byte) {
	r.Body = newBufferedBody(body)
	r.ContentLength = int64(len(body))
	r.GetBody = func() (io.ReadCloser, error) { return newBufferedBody(body), nil }
}
