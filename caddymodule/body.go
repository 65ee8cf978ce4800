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

// exactRead bounds the buffer allocated up front for a body of declared
// length: a length a client declares but never sends costs no more.
const exactRead = 64 << 10

// readBody returns the request body if it is at most limit bytes, and
// errBodyTooLarge or the read error if not. Either way the body stays
// whole on the request for the handlers that follow: once read, as a
// buffer a later readBody takes without copying; when too large or
// broken, as the bytes read so far, then the rest.
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
	if r.ContentLength > limit {
		return nil, errBodyTooLarge
	}
	rest := r.Body
	var body []byte
	var err error
	if n := r.ContentLength; n >= 0 && n <= exactRead {
		// One buffer of the right size; the server's body reader stops at
		// the declared length.
		body = make([]byte, n)
		var read int
		read, err = io.ReadFull(rest, body)
		body = body[:read]
		if err == io.EOF {
			err = nil // nothing left (a body already drained); a cut-short one is io.ErrUnexpectedEOF
		}
	} else {
		body, err = io.ReadAll(io.LimitReader(rest, limit+1))
	}
	if err == nil && int64(len(body)) > limit {
		err = errBodyTooLarge
	}
	if err != nil {
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), rest), rest}
		return nil, err
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
