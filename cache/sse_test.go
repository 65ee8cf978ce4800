package cache

import (
	"bytes"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestEvents(t *testing.T) {
	stream := "data: a\n\nevent: x\ndata: b\r\n\r\ndata: c\r\rdata: partial"
	got := Events([]byte(stream))
	want := []string{"data: a\n\n", "event: x\ndata: b\r\n\r\n", "data: c\r\r", "data: partial"}
	if len(got) != len(want) {
		t.Fatalf("got %d events %q, want %d", len(got), got, len(want))
	}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Errorf("event %d = %q, want %q", i, got[i], want[i])
		}
	}
	if joined := string(bytes.Join(got, nil)); joined != stream {
		t.Errorf("events lost bytes: %q", joined)
	}
}

func TestRecordingOverflow(t *testing.T) {
	r := NewRecording(10)
	r.Write([]byte("12345"))
	r.Write([]byte("67890"))
	if r.Overflowed() || string(r.Bytes()) != "1234567890" {
		t.Fatalf("within limit: %q overflow=%v", r.Bytes(), r.Overflowed())
	}
	if n, err := r.Write([]byte("x")); n != 1 || err != nil {
		t.Fatalf("Write past the limit = %d, %v", n, err)
	}
	if !r.Overflowed() || len(r.Bytes()) != 0 {
		t.Errorf("past limit: %q overflow=%v", r.Bytes(), r.Overflowed())
	}
}

// flushCounter counts flushes and the writes between them.
type flushCounter struct {
	*httptest.ResponseRecorder
	chunks []string
	cur    strings.Builder
}

func (f *flushCounter) Write(p []byte) (int, error) {
	f.cur.Write(p)
	return f.ResponseRecorder.Write(p)
}

func (f *flushCounter) Flush() {
	f.chunks = append(f.chunks, f.cur.String())
	f.cur.Reset()
}

func TestReplayFlushesEachEvent(t *testing.T) {
	e := &Entry{Status: 200, Stream: true, Body: []byte("data: 1\n\ndata: 2\n\ndata: [DONE]\n\n")}
	w := &flushCounter{ResponseRecorder: httptest.NewRecorder()}
	if err := Replay(w, e); err != nil {
		t.Fatal(err)
	}
	want := []string{"data: 1\n\n", "data: 2\n\n", "data: [DONE]\n\n"}
	if strings.Join(w.chunks, "|") != strings.Join(want, "|") {
		t.Errorf("flushed chunks %q, want %q", w.chunks, want)
	}
}

func TestStorePolicy(t *testing.T) {
	cases := []struct {
		status    int
		header    http.Header
		privateOK bool
		want      SkipReason
	}{
		{200, http.Header{}, false, Storable},
		{204, http.Header{}, false, SkipStatus},
		{206, http.Header{"Content-Range": {"bytes 0-4/100"}}, true, SkipStatus},
		{201, http.Header{}, true, SkipStatus},
		{301, http.Header{}, true, SkipStatus},
		{500, http.Header{}, false, SkipStatus},
		{429, http.Header{}, false, SkipStatus},
		{304, http.Header{}, false, SkipStatus},
		{200, http.Header{"Cache-Control": {"max-age=0, no-store"}}, true, SkipNoStore},
		{200, http.Header{"Cache-Control": {"private"}}, true, Storable},
		{200, http.Header{"Cache-Control": {"private"}}, false, SkipNoStore},
		{200, http.Header{"Cache-Control": {"max-age=60, Private"}}, false, SkipNoStore},
		{200, http.Header{"Set-Cookie": {"a=b"}}, true, SkipCookie},
		{200, http.Header{"Content-Encoding": {"gzip"}}, true, SkipEncoded},
		{200, http.Header{"Vary": {"Accept, *"}}, true, SkipVary},
		{200, http.Header{"Vary": {"Accept", "Accept-Encoding"}}, true, Storable},
	}
	for i, c := range cases {
		if got := StorePolicy(c.status, c.header, c.privateOK); got != c.want {
			t.Errorf("case %d: StorePolicy = %q, want %q", i, got, c.want)
		}
	}
}

func TestConditional(t *testing.T) {
	for _, name := range []string{"Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range"} {
		if !Conditional(http.Header{name: {"x"}}) {
			t.Errorf("%s is not conditional", name)
		}
	}
	if Conditional(http.Header{"Accept": {"x"}, "Cache-Control": {"max-age=0"}}) {
		t.Error("a plain request is conditional")
	}
}

func TestRequestVary(t *testing.T) {
	req := http.Header{"Accept": {"a", "b"}, "X-Tenant": {"t"}}
	vary, star := RequestVary(http.Header{"Vary": {"accept, Accept-Encoding", "x-tenant,x-missing"}}, req)
	if star || len(vary) != 3 || vary["Accept"] == nil || vary["X-Tenant"] == nil || vary["X-Missing"] == nil {
		t.Fatalf("RequestVary = %q %v, want Accept, X-Tenant and X-Missing", vary, star)
	}
	for name, d := range vary {
		if len(d) != 1 || len(d[0]) != sha256.Size {
			t.Errorf("%s: %q is not one digest", name, d)
		}
	}
	// a credential named by Vary is kept as a digest, never as it was sent
	cred, _ := RequestVary(http.Header{"Vary": {"Authorization"}}, http.Header{"Authorization": {"Bearer secret"}})
	if strings.Contains(cred["Authorization"][0], "secret") || len(cred["Authorization"][0]) != sha256.Size {
		t.Errorf("Vary: Authorization kept %q", cred["Authorization"])
	}
	if !VaryMatches(vary, http.Header{"Accept": {"a", "b"}, "X-Tenant": {"t"}, "Other": {"o"}}) {
		t.Error("same values do not match")
	}
	for _, h := range []http.Header{
		{"Accept": {"a"}, "X-Tenant": {"t"}},
		{"Accept": {"a", "b"}, "X-Tenant": {"u"}},
		{"Accept": {"a", "b"}, "X-Tenant": {"t"}, "X-Missing": {""}},
		{"Accept": {"ab"}, "X-Tenant": {"t"}},
		{"Accept": {"a", "b", ""}, "X-Tenant": {"t"}},
	} {
		if VaryMatches(vary, h) {
			t.Errorf("%v matches %v", h, vary)
		}
	}
	if v, _ := RequestVary(http.Header{"Vary": {"Accept-Encoding"}}, req); v != nil {
		t.Errorf("Accept-Encoding alone gave %v", v)
	}
}

func TestClientBypass(t *testing.T) {
	for h, want := range map[string]bool{"no-cache": true, "No-Store": true, "max-age=0": false, "": false} {
		if got := ClientBypass(http.Header{"Cache-Control": {h}}); got != want {
			t.Errorf("ClientBypass(%q) = %v", h, got)
		}
	}
}
