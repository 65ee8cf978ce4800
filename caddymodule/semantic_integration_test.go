package caddymodule_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/ragproxy/ragproxy/internal/mockupstream"
)

const (
	question   = "How do I reset my password on the website?"
	paraphrase = "How can I reset my password on the website?"
)

func semanticSite(upstream, opts string) string {
	return fmt.Sprintf("http://{SITE} {\n\trag_cache semantic_test {\n\t\tsemantic %s\n\t}\n\treverse_proxy %s\n}\n", opts, upstream)
}

func ask(t *testing.T, client openai.Client, params openai.ChatCompletionNewParams) (*openai.ChatCompletion, *http.Response) {
	t.Helper()
	var resp *http.Response
	c, err := client.Chat.Completions.New(context.Background(), params, option.WithResponseInto(&resp))
	if err != nil {
		t.Fatal(err)
	}
	return c, resp
}

func TestSemanticParaphraseHits(t *testing.T) {
	mock, upstream := startMock(t, mockupstream.Options{})
	p := startCaddy(t, semanticSite(upstream, ""))
	client := newClient(p, "tenant-a")

	first, r1 := ask(t, client, chatParams(question))
	second, r2 := ask(t, client, chatParams(paraphrase))
	if r1.Header.Get("X-Cache") != "MISS" || r2.Header.Get("X-Cache") != "SEMANTIC-HIT" {
		t.Fatalf("X-Cache = %s then %s, want MISS then SEMANTIC-HIT", r1.Header.Get("X-Cache"), r2.Header.Get("X-Cache"))
	}
	if second.ID != first.ID || second.Choices[0].Message.Content != first.Choices[0].Message.Content {
		t.Errorf("semantic hit answered %q, want the cached %q", second.Choices[0].Message.Content, first.Choices[0].Message.Content)
	}
	if s := r2.Header.Get("X-Cache-Similarity"); s == "" || s > "1.00" || s < "0.50" {
		t.Errorf("X-Cache-Similarity = %q", s)
	}
	if mock.Calls() != 1 {
		t.Errorf("upstream calls = %d, want 1", mock.Calls())
	}
}

func TestSemanticNeedsEverythingElseEqual(t *testing.T) {
	mock, upstream := startMock(t, mockupstream.Options{})
	p := startCaddy(t, semanticSite(upstream, ""))
	client := newClient(p, "tenant-a")
	ask(t, client, chatParams(question))

	otherModel := chatParams(paraphrase)
	otherModel.Model = "other-model"
	withSystem := chatParams(paraphrase)
	withSystem.Messages = append([]openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Answer in French.")}, withSystem.Messages...)
	hot := chatParams(paraphrase)
	hot.Temperature = openai.Float(1.5)
	for name, params := range map[string]openai.ChatCompletionNewParams{
		"model": otherModel, "system prompt": withSystem, "temperature": hot,
	} {
		if _, r := ask(t, client, params); r.Header.Get("X-Cache") != "MISS" {
			t.Errorf("different %s: X-Cache = %q, want MISS", name, r.Header.Get("X-Cache"))
		}
	}
	if _, r := ask(t, newClient(p, "tenant-b"), chatParams(paraphrase)); r.Header.Get("X-Cache") != "MISS" {
		t.Errorf("other tenant: X-Cache = %q, want MISS", r.Header.Get("X-Cache"))
	}
	if mock.Calls() != 5 {
		t.Errorf("upstream calls = %d, want 5", mock.Calls())
	}
}

func TestSemanticGuards(t *testing.T) {
	_, upstream := startMock(t, mockupstream.Options{})
	// A low threshold, so every pair is similar enough and only a guard
	// can refuse it.
	p := startCaddy(t, semanticSite(upstream, "{\n\t\t\tthreshold 0.5\n\t\t}"))
	client := newClient(p, "k")
	vetoes := map[string]func() float64{}
	for _, g := range []string{"number", "negation", "identifier", "contrast", "substitution"} {
		vetoes[g] = p.counter("ragproxy_semantic_vetoes_total", `cache="semantic_test"`, `guard="`+g+`"`)
	}
	for _, c := range []struct{ guard, a, b string }{
		{"number", "Show me the top 5 results for cheap flights to Paris", "Show me the top 10 results for cheap flights to Paris"},
		{"negation", "Is it safe to delete the cache folder on my laptop?", "Is it not safe to delete the cache folder on my laptop?"},
		{"number", "What does error code ERR-4012 mean in the billing API?", "What does error code ERR-4013 mean in the billing API?"},
		{"identifier", "Is gpt-4o good at writing SQL queries for reports?", "Is gpt-4 good at writing SQL queries for reports?"},
		{"contrast", "Should I enable two-factor authentication on my account?", "Should I disable two-factor authentication on my account?"},
		{"contrast", "What is the daily request quota of the free plan?", "What is the monthly request quota of the free plan?"},
		{"substitution", "Can I pay for my order with Klarna at checkout?", "Can I pay for my order with Affirm at checkout?"},
	} {
		before := vetoes[c.guard]()
		ask(t, client, chatParams(c.a))
		if _, r := ask(t, client, chatParams(c.b)); r.Header.Get("X-Cache") != "MISS" {
			t.Errorf("%q after %q: X-Cache = %q, want MISS", c.b, c.a, r.Header.Get("X-Cache"))
		}
		if vetoes[c.guard]() != before+1 {
			t.Errorf("%q after %q: ragproxy_semantic_vetoes_total{guard=%q} went from %v to %v, want one more", c.b, c.a, c.guard, before, vetoes[c.guard]())
		}
	}
	// very short questions never match by meaning
	ask(t, client, chatParams("hi"))
	if _, r := ask(t, client, chatParams("hi!")); r.Header.Get("X-Cache") != "MISS" {
		t.Errorf("short question: X-Cache = %q, want MISS", r.Header.Get("X-Cache"))
	}
}

func TestSemanticStreamReplays(t *testing.T) {
	mock, upstream := startMock(t, mockupstream.Options{})
	p := startCaddy(t, semanticSite(upstream, ""))
	_, first := post(t, p.URL+"/v1/chat/completions", chatBody(question, true))
	r, second := post(t, p.URL+"/v1/chat/completions", chatBody(paraphrase, true))
	if r.Header.Get("X-Cache") != "SEMANTIC-HIT" || second != first || !strings.HasSuffix(second, "data: [DONE]\n\n") {
		t.Errorf("X-Cache %q; replay equal %v", r.Header.Get("X-Cache"), second == first)
	}
	if mock.Calls() != 1 {
		t.Errorf("upstream calls = %d, want 1", mock.Calls())
	}
}

// fakeEmbeddings is an OpenAI-compatible /v1/embeddings endpoint that
// records the size of every batch it receives.
func fakeEmbeddings(t *testing.T) (string, func() []int) {
	var mu sync.Mutex
	var batches []int
	addr := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		mu.Lock()
		batches = append(batches, len(req.Input))
		mu.Unlock()
		type item struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		out := struct {
			Data []item `json:"data"`
		}{}
		for i, in := range req.Input {
			v := make([]float32, 8)
			v[len(in)%8] = 1 // questions of the same length are "the same"
			out.Data = append(out.Data, item{Index: i, Embedding: v})
		}
		json.NewEncoder(w).Encode(out)
	})
	return "http://" + addr + "/v1", func() []int { mu.Lock(); defer mu.Unlock(); return append([]int(nil), batches...) }
}

func TestSemanticRemoteEmbedderBatches(t *testing.T) {
	embedURL, batches := fakeEmbeddings(t)
	release := make(chan struct{})
	upstream, _ := newBlockingUpstream(t, release, http.StatusOK)
	p := startCaddy(t, semanticSite(upstream, `{
			embedder openai
			url `+embedURL+`
			model fake
			batch_window 1s
			timeout 5s
		}`))
	close(release)
	const n = 8
	var wg sync.WaitGroup
	var errs atomic.Int64
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _ := post(t, p.URL+"/query", fmt.Sprintf(`{"query":"distinct question number %c about batching"}`, 'a'+i))
			if r.StatusCode != 200 {
				errs.Add(1)
			}
		}()
	}
	wg.Wait()
	got := batches()
	total := 0
	for _, b := range got {
		total += b
	}
	if errs.Load() != 0 || total != n || len(got) >= n {
		t.Errorf("batches %v for %d concurrent questions (errors %d): want fewer calls than questions", got, n, errs.Load())
	}
	// the same question again is served from the embeddings LRU: no new call
	post(t, p.URL+"/query", `{"query":"distinct question number a about batching"}`)
	if len(batches()) != len(got) {
		t.Errorf("a repeated question called the embedder again")
	}
}

func TestSemanticEmbedderDownKeepsExactCache(t *testing.T) {
	mock, upstream := startMock(t, mockupstream.Options{})
	p := startCaddy(t, semanticSite(upstream, `{
			embedder openai
			url http://`+freeAddr(t)+`/v1
			model fake
			timeout 200ms
		}`))
	skipped := p.counter("ragproxy_semantic_lookups_total", `cache="semantic_test"`, `result="error"`)
	r1, _ := post(t, p.URL+"/v1/chat/completions", chatBody(question, false))
	r2, _ := post(t, p.URL+"/v1/chat/completions", chatBody(question, false))
	r3, _ := post(t, p.URL+"/v1/chat/completions", chatBody(paraphrase, false))
	if r1.StatusCode != 200 || r2.StatusCode != 200 || r3.StatusCode != 200 {
		t.Fatalf("statuses %d %d %d, want 200s", r1.StatusCode, r2.StatusCode, r3.StatusCode)
	}
	if r1.Header.Get("X-Cache") != "MISS" || r2.Header.Get("X-Cache") != "HIT" || r3.Header.Get("X-Cache") != "MISS" {
		t.Errorf("X-Cache %s %s %s, want MISS HIT MISS", r1.Header.Get("X-Cache"), r2.Header.Get("X-Cache"), r3.Header.Get("X-Cache"))
	}
	if mock.Calls() != 2 || skipped() != 2 {
		t.Errorf("upstream calls %d (want 2), embedder errors %v (want 2)", mock.Calls(), skipped())
	}
}
