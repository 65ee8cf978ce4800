package mockupstream

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// newTestServer starts s with opts behind an httptest server.
func newTestServer(t *testing.T, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	s := New(opts)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

// send sends a request with the given header name/value pairs and returns
// the response and its body, or the first error.
func send(ts *httptest.Server, method, path, body string, header ...string) (*http.Response, []byte, error) {
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// do is send that fails the test on error.
func do(t *testing.T, ts *httptest.Server, method, path, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	resp, b, err := send(ts, method, path, body, header...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp, b
}

// decodeInto unmarshals b into v, failing the test on error.
func decodeInto(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decoding %q: %v", b, err)
	}
}

// sseData returns the payloads of the "data:" events in r, and the read
// error that ended the stream, if any.
func sseData(r io.Reader) ([]string, error) {
	var data []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			data = append(data, p)
		}
	}
	return data, sc.Err()
}

// apiErrorBody is the OpenAI error shape.
type apiErrorBody struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Code    *string `json:"code"`
	} `json:"error"`
}

// chatBody is a small chat request asking about text.
func chatBody(text string, stream bool) string {
	b, _ := json.Marshal(map[string]any{
		"model":    "gpt-test",
		"stream":   stream,
		"messages": []map[string]any{{"role": "user", "content": text}},
	})
	return string(b)
}

// decodeIntoErr is decodeInto for goroutines: it returns the error.
func decodeIntoErr(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decoding %q: %v", b, err)
	}
	return nil
}
