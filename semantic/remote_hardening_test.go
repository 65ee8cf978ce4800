package semantic

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// strictEmbeddings is an embeddings endpoint that, like TEI or OpenAI,
// rejects a whole call with 400 when any input is longer than limit bytes,
// and records each call's inputs.
func strictEmbeddings(t *testing.T, limit int) (*httptest.Server, func() [][]string) {
	var mu sync.Mutex
	var calls [][]string
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Input []string `json:"input"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		mu.Lock()
		calls = append(calls, req.Input)
		mu.Unlock()
		var out struct {
			Data []map[string]any `json:"data"`
		}
		for i, in := range req.Input {
			if len(in) > limit {
				http.Error(w, `{"error":"input too long"}`, http.StatusBadRequest)
				return
			}
			out.Data = append(out.Data, map[string]any{"index": i, "embedding": []float32{float32(len(in)), 1}})
		}
		json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(s.Close)
	return s, func() [][]string { mu.Lock(); defer mu.Unlock(); return append([][]string(nil), calls...) }
}

// embedAll embeds texts concurrently, so they gather into one batch.
func embedAll(r *Remote, scope string, texts []string) ([][]float32, []error) {
	vecs, errs := make([][]float32, len(texts)), make([]error, len(texts))
	var wg sync.WaitGroup
	for i, text := range texts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vecs[i], errs[i] = r.EmbedOne(context.Background(), scope, text)
		}()
	}
	wg.Wait()
	return vecs, errs
}

// TestRemoteOneBadInputFailsOnlyItself: the endpoint rejects a batch
// because one of its inputs is over its own limit (here shorter than
// MaxInputChars); every other question of the batch still gets its vector.
func TestRemoteOneBadInputFailsOnlyItself(t *testing.T) {
	srv, calls := strictEmbeddings(t, 40)
	r, err := NewRemote(RemoteConfig{URL: srv.URL, BatchWindow: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"first short question", "second short question", strings.Repeat("long ", 20), "third short one", "fourth short one"}
	vecs, errs := embedAll(r, "s", texts)
	for i := range texts {
		if bad := i == 2; (errs[i] != nil) != bad || (vecs[i] == nil) == !bad {
			t.Errorf("text %d: vec %v err %v", i, vecs[i], errs[i])
		}
	}
	if len(calls()) > 1+2*3 {
		t.Errorf("%d calls for one bad input among 5: %v", len(calls()), calls())
	}
}

// TestRemoteOverLongQuestionIsNeverSent: a question over MaxInputChars is
// refused at once, alone, and costs no call.
func TestRemoteOverLongQuestionIsNeverSent(t *testing.T) {
	srv, calls := strictEmbeddings(t, 1<<20)
	r, err := NewRemote(RemoteConfig{URL: srv.URL, BatchWindow: 200 * time.Millisecond, MaxInputChars: 50})
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"a short question", strings.Repeat("é", 51), strings.Repeat("é", 50)}
	vecs, errs := embedAll(r, "s", texts)
	if errs[0] != nil || vecs[0] == nil || errs[2] != nil || vecs[2] == nil {
		t.Errorf("short questions: %v %v", errs[0], errs[2])
	}
	if !errors.Is(errs[1], ErrTooLong) {
		t.Errorf("over-long question: err %v, want ErrTooLong", errs[1])
	}
	for _, c := range calls() {
		for _, in := range c {
			if in == texts[1] {
				t.Errorf("the over-long question was sent")
			}
		}
	}
	if r, _ := NewRemote(RemoteConfig{URL: srv.URL}); r.cfg.MaxInputChars != DefaultMaxInputChars {
		t.Errorf("default MaxInputChars %d", r.cfg.MaxInputChars)
	}
}

// TestRemoteRecentIsPerScope: a vector kept for one scope does not make
// the same question fast for another.
func TestRemoteRecentIsPerScope(t *testing.T) {
	srv, calls := strictEmbeddings(t, 1<<20)
	r, err := NewRemote(RemoteConfig{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, scope := range []string{"alice", "alice", "bob", "bob", "a", "a"} {
		if _, err := r.EmbedOne(ctx, scope, "the same question"); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(calls()); n != 3 {
		t.Errorf("%d calls for three scopes asking the same question twice, want 3", n)
	}
}

// TestRemoteServerErrorFailsTheBatchOnce: an unwell endpoint (5xx) is not
// asked again per input.
func TestRemoteServerErrorFailsTheBatchOnce(t *testing.T) {
	srv, calls := embeddingsServer(t, 503)
	r, _ := NewRemote(RemoteConfig{URL: srv.URL + "/v1", Key: "sk-test", BatchWindow: 200 * time.Millisecond})
	_, errs := embedAll(r, "s", []string{"one question", "two questions", "three questions"})
	for i, err := range errs {
		if err == nil {
			t.Errorf("question %d: no error from a 503", i)
		}
	}
	if n := len(calls()); n != 1 {
		t.Errorf("%d calls to an endpoint answering 503, want 1", n)
	}
}
