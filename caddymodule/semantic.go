package caddymodule

import (
	"context"
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/ragproxy/ragproxy/semantic"
	"github.com/ragproxy/ragproxy/semantic/model2vec"
	"github.com/ragproxy/ragproxy/semantic/use"
)

// Defaults of rag_cache's semantic layer.
const (
	defaultSemanticMaxEntries = 100_000
	defaultRemoteThreshold    = 0.90
	defaultEmbedTimeout       = 500 * time.Millisecond
	// defaultModel2VecThreshold is a choice, not a measurement: no real
	// model2vec weights were at hand to measure one. It leans to precision
	// (a false hit is worse than a miss); measure your model's with
	// labelled pairs and set threshold.
	defaultModel2VecThreshold = 0.85
	// defaultUseBatchWindow gathers concurrent questions for the built-in
	// transformer: a batch costs less per question (BENCHMARKS.md), and
	// the wait is short next to the model's own millisecond.
	defaultUseBatchWindow = 500 * time.Microsecond
)

// SemanticCache answers a question from the cached answer to the same
// question asked in other words ("How can I reset my password?" ↔ "How do
// I reset my password?"). Only the question text is compared by meaning;
// everything else about the request (tenant scope, model, system prompt,
// earlier turns, tools, parameters) must be identical. Very short questions
// never match, nor do two questions that differ in a number, an identifier
// or a negation. If the embedder fails or is slow, the semantic step is
// skipped and the exact cache works as before.
//
// Answers carry `X-Cache: SEMANTIC-HIT` and `X-Cache-Similarity`; the
// placeholder `{rag.cache.similarity}` holds the same.
type SemanticCache struct {
	// "local" (built in: hashed character n-grams, no files, no network,
	// microseconds per question), "use" (built in: Google's Universal
	// Sentence Encoder lite, a transformer run in process, about a CPU
	// millisecond per question), "use-static" (built in: a static
	// distillation of use, microseconds per question), "openai" (any
	// OpenAI-compatible /v1/embeddings endpoint) or "model2vec" (a static
	// embedding model on disk, such as minishlab/potion-base-8M, at
	// model_path). README's table says which to choose when.
	// Default: local.
	Embedder string `json:"embedder,omitempty"`

	// Least cosine similarity of a hit. Default: the local embedder's
	// threshold measured on labelled data for precision ≥ 0.9 (see
	// BENCHMARKS.md), 0.90 for the openai embedder, 0.85 for model2vec
	// (chosen, not measured: tune it for your model).
	Threshold float64 `json:"threshold,omitempty"`

	// Most questions remembered, over all scopes; the oldest go first.
	// Default: 100000.
	MaxEntries int `json:"max_entries,omitempty"`

	// JSON field (dotted path) holding the question, instead of finding it
	// where the request's API keeps it. Default: found by the path — the
	// last user message of …/chat/completions and Anthropic …/messages,
	// `prompt` of legacy …/completions, `input` of …/responses, and
	// `query`/`question`/`q` of any other path (RAG and search APIs).
	// Requests to exact-input APIs (…/embeddings, …/moderations, …/files,
	// …/audio, …/images, …/uploads, …/batches, …/threads) are never matched
	// by meaning, with or without field; nor is any method but POST.
	Field string `json:"field,omitempty"`

	// The embeddings endpoint of the openai embedder, as a base URL
	// ("http://localhost:11434/v1") or the full …/embeddings URL.
	// Required with the openai embedder; no default.
	URL string `json:"url,omitempty"`
	// The embeddings model of the openai embedder. Default: none (the
	// field is sent empty; servers with one model accept that).
	Model string `json:"model,omitempty"`
	// API key of the openai embedder, sent as a bearer token. Default: none.
	Key string `json:"key,omitempty"`
	// Vector length to ask the openai embedder for. Default: the model's.
	Dimensions int `json:"dimensions,omitempty"`
	// Longest wait for an embedding before the semantic step is skipped.
	// Default: 500ms.
	Timeout caddy.Duration `json:"timeout,omitempty"`
	// How long concurrent questions gather into one embeddings call
	// (openai) or one batch of the transformer (use). Default: 2ms for
	// openai, 500µs for use.
	BatchWindow caddy.Duration `json:"batch_window,omitempty"`
	// Longest question, in characters, sent to the openai embedder; a
	// longer one skips the semantic step (it is not truncated: two long
	// questions differing only past the cut would match). Default: 2048.
	MaxInputChars int `json:"max_input_chars,omitempty"`

	// The directory of the model2vec embedder's model: model.safetensors,
	// tokenizer.json and config.json, as a model2vec model is published
	// (minishlab/potion-base-8M and the like; WordPiece or Unigram
	// tokenizers). Read once per config load. Required with the model2vec
	// embedder; no default. Caddyfile: `embedder model2vec { path <dir> }`.
	// A question longer than the model reads (512 tokens) skips the
	// semantic step rather than being cut.
	ModelPath string `json:"model_path,omitempty"`

	// embed returns the vector of a question asked in a cache scope.
	embed     func(ctx context.Context, scope, question string) ([]float32, error)
	threshold float32
	store     *sharedSemantic
	poolKey   string
}

func (sc *SemanticCache) provision(cacheName string, ttl time.Duration) error {
	if sc.MaxEntries == 0 {
		sc.MaxEntries = defaultSemanticMaxEntries
	}
	if sc.Timeout == 0 {
		sc.Timeout = caddy.Duration(defaultEmbedTimeout)
	}
	setup, ok := embedders[sc.Embedder]
	if !ok {
		return fmt.Errorf("unknown embedder %q: want local, use, use-static, model2vec or openai", sc.Embedder)
	}
	e, err := setup(sc)
	if err != nil {
		return err
	}
	sc.embed = e.embed
	if sc.Threshold == 0 {
		sc.Threshold = e.threshold
	}
	identity := e.identity
	sc.threshold = float32(sc.Threshold)
	cfg := semantic.StoreConfig{MaxEntries: sc.MaxEntries, TTL: ttl}
	store, key, err := acquireSemantic(cacheName, identity, cfg)
	if err != nil {
		return err
	}
	sc.store, sc.poolKey = store, key
	// The guards' lexicon takes about 0.2 s to read, once per process:
	// read it now, beside the config load, not in the first lookup.
	go semantic.PrepareGuards()
	return nil
}

// validate checks the semantic configuration, JSON or Caddyfile alike
// (CacheHandler.Validate, and the Caddyfile parser so the adapter reports
// it); it holds before Provision's defaults as after.
func (sc *SemanticCache) validate() error {
	timeout := sc.Timeout
	if timeout == 0 {
		timeout = caddy.Duration(defaultEmbedTimeout)
	}
	if _, ok := embedders[sc.Embedder]; !ok {
		return fmt.Errorf("unknown embedder %q: want local, use, use-static, model2vec or openai", sc.Embedder)
	}
	switch {
	case !(sc.Threshold >= 0 && sc.Threshold <= 1): // NaN fails too; 0 is the embedder's default
		return fmt.Errorf("threshold must be in (0, 1], got %v", sc.Threshold)
	case sc.MaxEntries < 0 || sc.Dimensions < 0 || sc.MaxInputChars < 0:
		return fmt.Errorf("max_entries, dimensions and max_input_chars must not be negative")
	case sc.Timeout < 0 || sc.BatchWindow < 0:
		return fmt.Errorf("timeout and batch_window must not be negative")
	case sc.ModelPath != "" && sc.Embedder != "model2vec":
		return fmt.Errorf("model_path is for the model2vec embedder, not %q", sc.Embedder)
	case sc.Embedder == "model2vec" && sc.ModelPath == "":
		return fmt.Errorf("the model2vec embedder needs a model_path (Caddyfile: embedder model2vec { path <dir> })")
	case sc.Embedder == "openai" && sc.URL == "":
		return fmt.Errorf("the openai embedder needs a url")
	case (sc.Embedder == "openai" || sc.Embedder == "use") && sc.BatchWindow >= timeout:
		return fmt.Errorf("batch_window (%v) must be shorter than timeout (%v)", time.Duration(sc.BatchWindow), time.Duration(timeout))
	}
	return nil
}

// embedder is what one kind of embedder gives the semantic layer: how to
// embed, its default threshold, and a name for the vectors it makes
// (stores are shared only between configs whose identities are equal).
type embedder struct {
	embed     func(ctx context.Context, scope, question string) ([]float32, error)
	threshold float64
	identity  string
}

// embedders builds each kind of embedder from the semantic config,
// checking its options; "" is local.
var embedders = map[string]func(*SemanticCache) (embedder, error){
	"":           localEmbedder,
	"local":      localEmbedder,
	"openai":     openaiEmbedder,
	"model2vec":  model2vecEmbedder,
	"use":        useEmbedder,
	"use-static": useStaticEmbedder,
}

func localEmbedder(sc *SemanticCache) (embedder, error) {
	sc.Embedder = "local"
	local := semantic.NewLocal(0)
	return embedder{
		embed:     func(_ context.Context, _, q string) ([]float32, error) { return local.EmbedOne(q), nil },
		threshold: semantic.DefaultLocalThreshold,
		identity:  fmt.Sprintf("local/%d", local.Dim()),
	}, nil
}

func openaiEmbedder(sc *SemanticCache) (embedder, error) {
	remote, err := semantic.NewRemote(semantic.RemoteConfig{
		URL:           sc.URL,
		Model:         sc.Model,
		Key:           sc.Key,
		Dimensions:    sc.Dimensions,
		Timeout:       time.Duration(sc.Timeout),
		BatchWindow:   time.Duration(sc.BatchWindow),
		MaxInputChars: sc.MaxInputChars,
	})
	if err != nil {
		return embedder{}, err
	}
	return embedder{
		embed:     remote.EmbedOne,
		threshold: defaultRemoteThreshold,
		identity:  fmt.Sprintf("openai/%s/%s/%d", sc.URL, sc.Model, sc.Dimensions),
	}, nil
}

// errModelCut is the model2vec embedder's error for a question longer
// than the model reads: embedding only its start could match another
// question that differs past the cut.
var errModelCut = fmt.Errorf("question longer than the model's %d tokens", model2vec.MaxTokens)

func model2vecEmbedder(sc *SemanticCache) (embedder, error) {
	if sc.ModelPath == "" {
		return embedder{}, fmt.Errorf("the model2vec embedder needs a model_path (Caddyfile: embedder model2vec { path <dir> })")
	}
	m, err := model2vec.Load(sc.ModelPath)
	if err != nil {
		return embedder{}, err
	}
	return embedder{
		embed: func(_ context.Context, _, q string) ([]float32, error) {
			vec, whole := m.EmbedWhole(q)
			if !whole {
				return nil, errModelCut
			}
			return vec, nil
		},
		threshold: defaultModel2VecThreshold,
		identity:  m.Identity(),
	}, nil
}

// useRecentVectors is how many recent question vectors the use embedder
// keeps, over all scopes (about 2 KiB each).
const useRecentVectors = 10_000

// errUseTooLong is the use embedder's error for a question longer than the
// model reads: two such questions that differ only past the cut would
// match.
var errUseTooLong = fmt.Errorf("question longer than the model's %d tokens", use.MaxTokens)

func useEmbedder(sc *SemanticCache) (embedder, error) {
	m, err := use.Load()
	if err != nil {
		return embedder{}, err
	}
	window := time.Duration(sc.BatchWindow)
	if window == 0 {
		window = defaultUseBatchWindow
	}
	batched, err := semantic.NewBatched(window, useRecentVectors, func(texts []string, vecs [][]float32, _ []error) {
		copy(vecs, m.Embed(texts))
	})
	if err != nil {
		return embedder{}, err
	}
	return embedder{
		embed: func(ctx context.Context, scope, q string) ([]float32, error) {
			if !m.Fits(q) {
				return nil, errUseTooLong
			}
			return batched.EmbedOne(ctx, scope, q)
		},
		threshold: use.DefaultThreshold,
		identity:  "use/" + m.Storage(),
	}, nil
}

func useStaticEmbedder(sc *SemanticCache) (embedder, error) {
	s, err := use.LoadStatic()
	if err != nil {
		return embedder{}, err
	}
	return embedder{
		embed:     func(_ context.Context, _, q string) ([]float32, error) { return s.EmbedOne(q), nil },
		threshold: use.DefaultStaticThreshold,
		identity:  fmt.Sprintf("use-static/%d", s.Dim()),
	}, nil
}

func (sc *SemanticCache) cleanup() {
	if sc.poolKey != "" {
		_, _ = semanticStores.Delete(sc.poolKey)
	}
}

// semanticStores holds the semantic stores by cache name, embedder and
// sizes, reference counted across config loads like the exact stores.
var semanticStores = newPool("semantic store", (*sharedSemantic).stopSweeping)

// sharedSemantic is a semantic store with the goroutine that sweeps it.
type sharedSemantic struct {
	name     string
	identity string // the embedder's: vectors of different embedders never mix
	*semantic.Store
	stop chan struct{}
}

// stopSweeping stops the sweeper when the last user lets go.
func (s *sharedSemantic) stopSweeping() error {
	close(s.stop)
	return nil
}

func acquireSemantic(name, embedder string, cfg semantic.StoreConfig) (*sharedSemantic, string, error) {
	key := fmt.Sprintf("%s\x00%s\x00%d\x00%d", name, embedder, cfg.MaxEntries, cfg.TTL)
	s, _, err := semanticStores.acquire(key, func() (*sharedSemantic, error) {
		s := &sharedSemantic{name: name, identity: embedder, Store: semantic.NewStore(cfg), stop: make(chan struct{})}
		go s.sweep(min(max(cfg.TTL/2, time.Second), time.Minute))
		return s, nil
	})
	if err != nil {
		return nil, "", err
	}
	return s, key, nil
}

func (s *sharedSemantic) sweep(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			s.Sweep(now)
		}
	}
}

// eachSemantic calls f for every live semantic store.
func eachSemantic(f func(*sharedSemantic)) { semanticStores.each(f) }
