package mockupstream

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
)

func TestRouting(t *testing.T) {
	_, ts := newTestServer(t, Options{})
	resp, b := do(t, ts, http.MethodPost, "/v1/nope", "{}")
	var e apiErrorBody
	decodeInto(t, b, &e)
	if resp.StatusCode != http.StatusNotFound || e.Error.Type != "invalid_request_error" || e.Error.Message == "" {
		t.Errorf("unknown path: %d %s", resp.StatusCode, b)
	}
	resp, b = do(t, ts, http.MethodGet, "/v1/chat/completions", "")
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodPost {
		t.Errorf("wrong method: %d %s (Allow %q)", resp.StatusCode, b, resp.Header.Get("Allow"))
	}
	decodeInto(t, b, &e)

	resp, b = do(t, ts, http.MethodGet, "/healthz", "")
	if resp.StatusCode != http.StatusOK || string(b) != "ok" {
		t.Errorf("healthz: %d %q", resp.StatusCode, b)
	}
	resp, b = do(t, ts, http.MethodGet, "/v1/models", "")
	if resp.StatusCode != http.StatusOK || string(b) != `{"object":"list","data":[{"id":"mock-model","object":"model"}]}` {
		t.Errorf("models: %d %s", resp.StatusCode, b)
	}
}

func TestMalformedJSON(t *testing.T) {
	_, ts := newTestServer(t, Options{})
	for _, path := range []string{"/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/query"} {
		resp, b := do(t, ts, http.MethodPost, path, `{"oops`)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d", path, resp.StatusCode)
		}
		if want := `"type":"invalid_request_error","code":null}}`; len(b) < len(want) || string(b[len(b)-len(want):]) != want {
			t.Errorf("%s: body %s", path, b)
		}
	}
}

func TestCalls(t *testing.T) {
	s, ts := newTestServer(t, Options{})
	do(t, ts, http.MethodPost, "/v1/chat/completions", chatBody("x", false))
	do(t, ts, http.MethodPost, "/v1/chat/completions", `not json`)
	do(t, ts, http.MethodGet, "/healthz", "")
	do(t, ts, http.MethodGet, "/missing", "")
	if s.Calls() != 4 || s.CallsTo("/v1/chat/completions") != 2 || s.CallsTo("/healthz") != 1 ||
		s.CallsTo("/missing") != 1 || s.CallsTo("/query") != 0 {
		t.Errorf("calls %d, chat %d, healthz %d, missing %d", s.Calls(),
			s.CallsTo("/v1/chat/completions"), s.CallsTo("/healthz"), s.CallsTo("/missing"))
	}
	s.ResetCalls()
	if s.Calls() != 0 || s.CallsTo("/v1/chat/completions") != 0 {
		t.Errorf("after reset: calls %d, chat %d", s.Calls(), s.CallsTo("/v1/chat/completions"))
	}
	_, b := do(t, ts, http.MethodPost, "/v1/chat/completions", chatBody("x", false))
	var a chatAnswer
	decodeInto(t, b, &a)
	if a.ID != "chatcmpl-mock-2" || s.Calls() != 1 {
		t.Errorf("after reset: id %q (sequence must continue), calls %d", a.ID, s.Calls())
	}
}

func TestOptions(t *testing.T) {
	opts := Options{Latency: 5, FailStatus: 500, Drop: DropMid, EmptyResults: true}
	s := New(opts)
	if s.Options() != opts {
		t.Errorf("Options() = %+v, want %+v", s.Options(), opts)
	}
	s.SetOptions(Options{})
	if s.Options() != (Options{}) {
		t.Errorf("after SetOptions: %+v", s.Options())
	}
	if (&Server{}).Options() != (Options{}) {
		t.Error("zero Server has options")
	}
}

func TestConcurrentRequests(t *testing.T) {
	s, ts := newTestServer(t, Options{})
	const n = 40
	var wg sync.WaitGroup
	ids := make([]string, n)
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Go(func() {
			resp, b, err := send(ts, http.MethodPost, "/v1/chat/completions", chatBody(fmt.Sprint("question ", i), i%2 == 0))
			if err != nil || resp.StatusCode != http.StatusOK {
				errs <- fmt.Errorf("chat %d: %v %s", i, err, b)
				return
			}
			if i%2 == 1 {
				var a chatAnswer
				if err := decodeIntoErr(b, &a); err != nil {
					errs <- err
					return
				}
				ids[i] = a.ID
			}
		})
		wg.Go(func() {
			s.SetOptions(Options{EmptyResults: i%2 == 0})
			_ = s.Options()
			if _, _, err := send(ts, http.MethodPost, "/query", `{"q":"x"}`); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	seen := map[string]bool{}
	for i := 1; i < n; i += 2 {
		if seen[ids[i]] {
			t.Errorf("duplicate id %q", ids[i])
		}
		seen[ids[i]] = true
	}
	if s.Calls() != 2*n || s.CallsTo("/query") != n {
		t.Errorf("calls %d, query calls %d", s.Calls(), s.CallsTo("/query"))
	}
	if got := s.seq.Load(); got != 2*n {
		t.Errorf("sequence at %d, want %d", got, 2*n)
	}
}
