package caddymodule

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestReadBodyOnce(t *testing.T) {
	r, _ := http.NewRequest(http.MethodPost, "/", strings.NewReader(`{"q":1}`))
	first, err := readBody(r, 100)
	if err != nil || string(first) != `{"q":1}` {
		t.Fatalf("first read %q, %v", first, err)
	}
	again, err := readBody(r, 100) // a later handler: takes the same bytes
	if err != nil || &again[0] != &first[0] {
		t.Errorf("second read copied the body (%v)", err)
	}
	if _, err := readBody(r, 3); err != errBodyTooLarge {
		t.Errorf("a later, smaller limit: %v, want errBodyTooLarge", err)
	}
	// what the next handler reads is the whole body, and so is GetBody's
	b, _ := io.ReadAll(r.Body)
	g, _ := r.GetBody()
	gb, _ := io.ReadAll(g)
	if string(b) != `{"q":1}` || string(gb) != `{"q":1}` {
		t.Errorf("body %q, GetBody %q", b, gb)
	}
	// once read, it is read for real again
	if body, err := readBody(r, 100); err != nil || len(body) != 0 {
		t.Errorf("drained body: %q, %v", body, err)
	}
}

// TestReadBodyLeavesItWhole: a body within the limit is returned and
// stays readable; a longer one is refused but reaches the next handler
// whole, with or without a declared length.
func TestReadBodyLeavesItWhole(t *testing.T) {
	for _, length := range []int64{-1, 0} { // unknown, or as declared
		for _, body := range []string{`{"stream":true}`, strings.Repeat("x", 100)} {
			r, _ := http.NewRequest(http.MethodPost, "/", io.NopCloser(strings.NewReader(body)))
			r.ContentLength = length
			if length == 0 {
				r.ContentLength = int64(len(body))
			}
			got, err := readBody(r, 50)
			if fits := len(body) <= 50; (err == nil) != fits || (fits && string(got) != body) || (!fits && err != errBodyTooLarge) {
				t.Errorf("length %d, body %d bytes: read %q, %v", length, len(body), got, err)
			}
			if rest, err := io.ReadAll(r.Body); err != nil || string(rest) != body {
				t.Errorf("length %d: next handler reads %q, %v", length, rest, err)
			}
		}
	}
}
