package mockupstream

import (
	"net/http"
	"testing"
)

func TestQuery(t *testing.T) {
	_, ts := newTestServer(t, Options{})
	for i, body := range []string{`{"query":"what is RAG"}`, `{"question":"what is RAG"}`, `{"q":"what is RAG"}`} {
		resp, b := do(t, ts, http.MethodPost, "/query", body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d: %s", body, resp.StatusCode, b)
		}
		var a queryResponse
		decodeInto(t, b, &a)
		if a.Answer != "Mock answer to: what is RAG" || a.RequestSeq != int64(i+1) {
			t.Errorf("%s: %s", body, b)
		}
		want := []document{
			{"doc-1", "Mock document 1 about: what is RAG", 0.9},
			{"doc-2", "Mock document 2 about: what is RAG", 0.8},
			{"doc-3", "Mock document 3 about: what is RAG", 0.7},
		}
		if len(a.Documents) != len(want) {
			t.Fatalf("%s: documents %s", body, b)
		}
		for j := range want {
			if a.Documents[j] != want[j] {
				t.Errorf("document %d: %+v, want %+v", j, a.Documents[j], want[j])
			}
		}
	}
}

func TestQueryEmptyResults(t *testing.T) {
	s, ts := newTestServer(t, Options{EmptyResults: true})
	check := func(want int, header ...string) {
		t.Helper()
		_, b := do(t, ts, http.MethodPost, "/query", `{"query":"x"}`, header...)
		var raw struct {
			Documents []document `json:"documents"`
		}
		decodeInto(t, b, &raw)
		if raw.Documents == nil || len(raw.Documents) != want {
			t.Errorf("%v: documents %s, want %d", header, b, want)
		}
	}
	check(0)
	check(3, HeaderEmpty, "0")
	s.SetOptions(Options{})
	check(3)
	check(0, HeaderEmpty, "1")
	check(3, HeaderEmpty, "maybe")
}

func TestQueryValidation(t *testing.T) {
	_, ts := newTestServer(t, Options{})
	for _, body := range []string{`{"query":`, `{}`, `{"query":""}`, `{"query":7}`} {
		if resp, b := do(t, ts, http.MethodPost, "/query", body); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d: %s", body, resp.StatusCode, b)
		}
	}
}
