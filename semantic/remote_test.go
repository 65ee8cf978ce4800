package semantic

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// embeddingsServer answers like /v1/embeddings with unnormalised vectors
// and records each call's inputs.
func embeddingsServer(t *testing.T, status int) (*httptest.Server, func() [][]string) {
	var mu sync.Mutex
	var calls [][]string
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/embeddings" || r.Header.Get("Authorization") != "Bearer sk-test" {
			http.Error(w, "bad request", 400)
			return
		}
		var req struct {
			Input []string `json:"input"`
			Model string   `json:"model"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		mu.Lock()
		calls = append(calls, req.Input)
		mu.Unlock()
		if status != 200 {
			http.Error(w, "down", status)
			return
		}
		var out struct {
			Data []map[string]any `json:"data"`
		}
		for i, in := range req.Input {
			out.Data = append(out.Data, map[string]any{"index": i, "embedding": []float32{float32(len(in)), 3, 4}})
		}
		json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(s.Close)
	return s, func() [][]string { mu.Lock(); defer mu.Unlock(); return calls }
}

func TestRemoteBatchesAndCaches(t *testing.T) {
	srv, calls := embeddingsServer(t, 200)
	r, err := NewRemote(RemoteConfig{URL: srv.URL + "/v1", Model: "m", Key: "sk-test", BatchWindow: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"a", "bb", "ccc", "a"}
	vecs := make([][]float32, len(texts))
	var wg sync.WaitGroup
	for i, text := range texts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := r.EmbedOne(context.Background(), "scope", text)
			if err != nil {
				t.Error(err)
			}
			vecs[i] = v
		}()
	}
	wg.Wait()
	if got := calls(); len(got) != 1 || len(got[0]) != 3 {
		t.Fatalf("calls %v, want one batch of the 3 distinct texts", got)
	}
	for i, v := range vecs {
		var norm float64
		for _, x := range v {
			norm += float64(x) * float64(x)
		}
		if math.Abs(norm-1) > 1e-5 {
			t.Errorf("vector %d not unit length: %v", i, v)
		}
	}
	if _, err := r.EmbedOne(context.Background(), "scope", "bb"); err != nil || len(calls()) != 1 {
		t.Errorf("a recent text called the endpoint again (%v)", err)
	}
}

func TestRemoteFailuresAreErrors(t *testing.T) {
	srv, _ := embeddingsServer(t, 503)
	r, _ := NewRemote(RemoteConfig{URL: srv.URL + "/v1/embeddings", Model: "m", Key: "sk-test"})
	if _, err := r.EmbedOne(context.Background(), "", "q"); err == nil {
		t.Error("a 503 gave no error")
	}
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer slow.Close()
	defer close(release)
	r, _ = NewRemote(RemoteConfig{URL: slow.URL, Timeout: 50 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := r.EmbedOne(ctx, "", "q"); err == nil {
		t.Error("a slow endpoint gave no error")
	}
	if _, err := NewRemote(RemoteConfig{}); err == nil {
		t.Error("no url accepted")
	}
}

// TestRemoteTimeout: a hanging endpoint costs at most the timeout, even
// when the caller itself has no deadline.
func TestRemoteTimeout(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hang.Close()
	defer close(release)
	r, _ := NewRemote(RemoteConfig{URL: hang.URL, Timeout: 50 * time.Millisecond})
	if _, err := r.EmbedOne(context.Background(), "", "q"); err == nil {
		t.Error("a hanging endpoint gave no error")
	}
}
