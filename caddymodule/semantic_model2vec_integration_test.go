package caddymodule_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/ragproxy/ragproxy/internal/mockupstream"
	"github.com/ragproxy/ragproxy/semantic/model2vec/model2vectest"
)

// writeParaphraseModel writes a model2vec model in which "do" and "can"
// have the same vector and every other word its own, so question and
// paraphrase embed the same and any other question differs.
func writeParaphraseModel(t *testing.T) string {
	t.Helper()
	tokens := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
		"how", "do", "can", "i", "reset", "my", "password", "on", "the", "website", "?", "delete", "account"}
	vectors := make([][]float32, len(tokens))
	for i := range vectors {
		vectors[i] = make([]float32, len(tokens))
		vectors[i][i] = 1
	}
	vectors[7] = vectors[6] // can = do
	dir := t.TempDir()
	if err := model2vectest.Write(dir, model2vectest.Spec{Tokens: tokens, Vectors: vectors}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestModel2VecParaphraseHits(t *testing.T) {
	mock, upstream := startMock(t, mockupstream.Options{})
	dir := writeParaphraseModel(t)
	p := startCaddy(t, semanticSite(upstream, fmt.Sprintf("{\n\t\t\tembedder model2vec {\n\t\t\t\tpath %s\n\t\t\t}\n\t\t}", dir)))
	client := newClient(p, "tenant-a")

	first, r1 := ask(t, client, chatParams(question))
	// a reload loads the model again; same files, same identity: the store and its questions stay
	p.reload()
	// the same key on fresh connections: the old server closes the ones it served
	client = openai.NewClient(option.WithBaseURL(p.URL+"/v1/"), option.WithAPIKey("tenant-a"), option.WithMaxRetries(0),
		option.WithHTTPClient(&http.Client{Transport: &http.Transport{}}))
	second, r2 := ask(t, client, chatParams(paraphrase))
	if r1.Header.Get("X-Cache") != "MISS" || r2.Header.Get("X-Cache") != "SEMANTIC-HIT" {
		t.Fatalf("X-Cache = %s then %s, want MISS then SEMANTIC-HIT", r1.Header.Get("X-Cache"), r2.Header.Get("X-Cache"))
	}
	if second.ID != first.ID || r2.Header.Get("X-Cache-Similarity") != "1.00" {
		t.Errorf("semantic hit: id %q (want %q), similarity %q (want 1.00)", second.ID, first.ID, r2.Header.Get("X-Cache-Similarity"))
	}
	// two of ten tokens differ: cosine 0.8, under the model2vec default threshold 0.85
	if _, r := ask(t, client, chatParams("How do I delete my account on the website?")); r.Header.Get("X-Cache") != "MISS" {
		t.Errorf("another question: X-Cache = %q, want MISS", r.Header.Get("X-Cache"))
	}
	// a question longer than the model reads is not matched by its start
	long := question + strings.Repeat(" ?", 600)
	ask(t, client, chatParams(long))
	if _, r := ask(t, client, chatParams(long+" delete")); r.Header.Get("X-Cache") != "MISS" {
		t.Errorf("a question differing past the model's 512 tokens: X-Cache = %q, want MISS", r.Header.Get("X-Cache"))
	}
	if mock.Calls() != 4 {
		t.Errorf("upstream calls = %d, want 4", mock.Calls())
	}
}

func TestModel2VecBadConfigRefused(t *testing.T) {
	dir := writeParaphraseModel(t)
	for _, c := range []struct{ semantic, want string }{
		{"{\n embedder model2vec {\n path " + filepath.Join(dir, "missing") + "\n }\n}", "no such file"},
		{"{\n embedder model2vec {\n path " + t.TempDir() + "\n }\n}", "config.json"},
	} {
		cf := fmt.Sprintf("{\n\tadmin off\n\tauto_https off\n\tpersist_config off\n\tlog {\n\t\toutput discard\n\t}\n}\nhttp://%s {\n\trag_cache m2v_bad {\n\t\tsemantic %s\n\t}\n\trespond ok\n}\n", freeAddr(t), c.semantic)
		cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cf), nil)
		if err != nil {
			t.Fatalf("adapting: %v", err)
		}
		err = caddy.Load(cfg, true)
		if err == nil {
			caddy.Stop()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: load error %v, want one mentioning %q", c.semantic, err, c.want)
		}
	}
	// JSON configs get the same checks
	for _, c := range []struct{ semantic, want string }{
		{`{"embedder": "model2vec"}`, "needs a model_path"},
		{`{"embedder": "local", "model_path": "/x"}`, "model_path is for the model2vec embedder"},
	} {
		cfg := fmt.Sprintf(`{"admin": {"disabled": true}, "logging": {"logs": {"default": {"writer": {"output": "discard"}}}}, "apps": {"http": {"servers": {"s": {"listen": [%q], "automatic_https": {"disable": true},
			"routes": [{"handle": [{"handler": "rag_cache", "name": "m2v_json", "semantic": %s}, {"handler": "static_response", "body": "ok"}]}]}}}}}`,
			freeAddr(t), c.semantic)
		err := caddy.Load([]byte(cfg), true)
		if err == nil {
			caddy.Stop()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: load error %v, want one mentioning %q", c.semantic, err, c.want)
		}
	}
}

func TestModel2VecCaddyfileErrors(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{"embedder model2vec", "needs a block with path"},
		{"embedder model2vec {\n }", "needs a block with path"},
		{"embedder model2vec {\n path\n }", "wrong argument count"},
		{"embedder model2vec {\n colour red\n }", "unrecognized model2vec option"},
		{"embedder model2vec /models/potion", "wrong argument count"},
		{"embedder local {\n path /x\n }", "takes no block"},
		{"embedder magic", "want local, use, use-static, model2vec or openai"},
	} {
		cf := ":8080 {\n rag_cache {\n semantic {\n " + c.body + "\n }\n }\n}\n"
		_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cf), nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one mentioning %q", c.body, err, c.want)
		}
	}
	cf := ":8080 {\n rag_cache {\n semantic {\n embedder model2vec {\n path /models/potion\n }\n threshold 0.9\n }\n }\n}\n"
	cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cf), nil)
	if err != nil || !strings.Contains(string(cfg), `"embedder":"model2vec"`) || !strings.Contains(string(cfg), `"threshold":0.9`) || !strings.Contains(string(cfg), `"model_path":"/models/potion"`) {
		t.Errorf("adapted %s, error %v: want embedder model2vec, threshold 0.9, model_path", cfg, err)
	}
}
