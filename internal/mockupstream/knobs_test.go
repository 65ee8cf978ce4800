package mockupstream

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestResolveKnobs(t *testing.T) {
	base := Options{Latency: time.Second, StreamInterval: time.Millisecond, FailStatus: 502, Drop: DropMid, EmptyResults: true}
	baseKnobs := knobs{time.Second, time.Millisecond, 502, DropMid, true}
	tests := []struct {
		name   string
		opts   Options
		header []string
		want   knobs
	}{
		{"options only", base, nil, baseKnobs},
		{"zero", Options{}, nil, knobs{}},
		{"overrides", base, []string{
			HeaderLatency, "50ms", HeaderStreamInterval, "10ms", HeaderStatus, "503", HeaderDrop, DropBefore, HeaderEmpty, "0",
		}, knobs{50 * time.Millisecond, 10 * time.Millisecond, 503, DropBefore, false}},
		{"switch off", base, []string{HeaderStatus, "0", HeaderDrop, "off", HeaderLatency, "0s"},
			knobs{0, time.Millisecond, 0, "", true}},
		{"invalid headers ignored", base, []string{
			HeaderLatency, "soon", HeaderStreamInterval, "-1s", HeaderStatus, "abc", HeaderDrop, "sideways", HeaderEmpty, "maybe",
		}, baseKnobs},
		{"out of range status ignored", Options{}, []string{HeaderStatus, "1000"}, knobs{}},
		{"invalid options dropped", Options{Latency: -time.Second, FailStatus: 42, Drop: "never"}, nil, knobs{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for i := 0; i+1 < len(tt.header); i += 2 {
				h.Set(tt.header[i], tt.header[i+1])
			}
			if got := resolveKnobs(tt.opts, h); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestFailStatus(t *testing.T) {
	s, ts := newTestServer(t, Options{FailStatus: http.StatusServiceUnavailable})
	resp, b := do(t, ts, http.MethodPost, "/v1/chat/completions", chatBody("hi", false))
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	var e apiErrorBody
	decodeInto(t, b, &e)
	if e.Error.Message != "mock failure" || e.Error.Type != "server_error" || e.Error.Code == nil || *e.Error.Code != "mock_failure" {
		t.Errorf("error body %s", b)
	}

	resp, _ = do(t, ts, http.MethodPost, "/query", `{"query":"x"}`, HeaderStatus, "500")
	if resp.StatusCode != http.StatusInternalServerError || resp.Header.Get("Retry-After") != "" {
		t.Errorf("header override: status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	resp, _ = do(t, ts, http.MethodGet, "/healthz", "")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("healthz status %d", resp.StatusCode)
	}

	// A per-request "0" switches the failure off; failures took no sequence number.
	_, b = do(t, ts, http.MethodPost, "/v1/chat/completions", chatBody("hi", false), HeaderStatus, "0")
	var a chatAnswer
	decodeInto(t, b, &a)
	if a.ID != "chatcmpl-mock-1" {
		t.Errorf("id after failures %q, want chatcmpl-mock-1", a.ID)
	}
	if s.Calls() != 4 || s.CallsTo("/v1/chat/completions") != 2 {
		t.Errorf("calls %d, chat calls %d", s.Calls(), s.CallsTo("/v1/chat/completions"))
	}

	s.SetOptions(Options{})
	resp, _ = do(t, ts, http.MethodPost, "/v1/chat/completions", chatBody("hi", false), HeaderStatus, "429")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("429 override: status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func TestLatency(t *testing.T) {
	_, ts := newTestServer(t, Options{})
	start := time.Now()
	do(t, ts, http.MethodGet, "/healthz", "", HeaderLatency, "50ms")
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("answered after %v, want at least 50ms", d)
	}

	start = time.Now()
	resp, b := do(t, ts, http.MethodPost, "/v1/chat/completions", chatBody("one two three", true), HeaderStreamInterval, "10ms")
	data, _ := sseData(strings.NewReader(string(b)))
	if want := time.Duration(len(data)-1) * 10 * time.Millisecond; time.Since(start) < want {
		t.Errorf("stream of %d events took %v, want at least %v", len(data), time.Since(start), want)
	}
	if resp.StatusCode != http.StatusOK || data[len(data)-1] != "[DONE]" {
		t.Errorf("stream with interval: status %d, %q", resp.StatusCode, data)
	}
}

func TestLatencyHonoursCancellation(t *testing.T) {
	_, ts := newTestServer(t, Options{Latency: time.Hour})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/v1/chat/completions", strings.NewReader(chatBody("x", false)))
	start := time.Now()
	if _, err := ts.Client().Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
	// ts.Close in the cleanup blocks until the handler has given up waiting.
}

func TestDropBefore(t *testing.T) {
	s, ts := newTestServer(t, Options{Drop: DropBefore})
	if _, _, err := send(ts, http.MethodPost, "/v1/chat/completions", chatBody("x", false)); err == nil {
		t.Error("drop before: no client error")
	}
	if _, _, err := send(ts, http.MethodPost, "/query", `{"q":"x"}`, HeaderDrop, "off"); err != nil {
		t.Errorf("drop switched off per request: %v", err)
	}
	s.SetOptions(Options{})
	if _, _, err := send(ts, http.MethodPost, "/v1/embeddings", `{"input":"x"}`, HeaderDrop, DropBefore); err == nil {
		t.Error("drop before by header: no client error")
	}
	if s.Calls() != 3 {
		t.Errorf("calls %d, want 3", s.Calls())
	}
	_, b := do(t, ts, http.MethodPost, "/v1/chat/completions", chatBody("x", false))
	var a chatAnswer
	decodeInto(t, b, &a)
	if a.ID != "chatcmpl-mock-2" { // 1 went to the /query answer
		t.Errorf("id %q, want chatcmpl-mock-2", a.ID)
	}
}

func TestDropMidJSON(t *testing.T) {
	_, ts := newTestServer(t, Options{Drop: DropMid})
	resp, b, err := send(ts, http.MethodPost, "/v1/chat/completions", chatBody("a fairly long question", false))
	if err == nil {
		t.Fatalf("no client error; body %s", b)
	}
	if resp == nil || resp.StatusCode != http.StatusOK || len(b) == 0 {
		t.Fatalf("want headers and a partial body before the cut, got %v, %q", resp, b)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("err %v, want unexpected EOF", err)
	}
}

func TestDropMidStream(t *testing.T) {
	_, ts := newTestServer(t, Options{})
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/v1/chat/completions", strings.NewReader(chatBody("one two three four", true)))
	req.Header.Set(HeaderDrop, DropMid)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := sseData(resp.Body)
	if err == nil {
		t.Error("stream ended cleanly, want an error")
	}
	// 7 words + finish + usage + [DONE] = 10 events, half of them sent.
	if len(data) != 5 {
		t.Errorf("%d events before the cut, want 5: %q", len(data), data)
	}
}

func TestDropMidHTTP2(t *testing.T) {
	ts := httptest.NewUnstartedServer(New(Options{Drop: DropMid}))
	ts.EnableHTTP2 = true
	ts.StartTLS()
	defer ts.Close()
	for _, stream := range []bool{false, true} {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/v1/chat/completions", strings.NewReader(chatBody("x y", stream)))
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.ProtoMajor != 2 {
			t.Fatalf("protocol %s, want HTTP/2", resp.Proto)
		}
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Errorf("stream=%v: body ended cleanly, want an error", stream)
		}
	}
}
