package semantic

import (
	"context"
	"time"

	"github.com/eapache/go-resiliency/batcher"
	lru "github.com/hashicorp/golang-lru/v2"
)

// EmbedFunc embeds texts into vecs (unit vectors), or sets errs: each text
// succeeds or fails on its own.
type EmbedFunc func(texts []string, vecs [][]float32, errs []error)

// Batched puts a micro-batcher and an LRU of recent vectors in front of an
// EmbedFunc: concurrent questions gather for up to a window into one call
// (go-resiliency's batcher), and a repeated question costs nothing. Remote
// embedders and the built-in transformer both sit behind one.
//
// The LRU is keyed by scope and text: a question is fast only for the
// scope that asked it before, so one tenant cannot learn from timings
// what another asked.
type Batched struct {
	embed  EmbedFunc
	batch  *batcher.Batcher
	recent *lru.Cache[recentKey, []float32]
}

// recentKey is an LRU key: a struct, so no scope and text can be joined
// into another pair's key.
type recentKey struct{ scope, text string }

type embedJob struct {
	text string
	vec  []float32
	err  error
}

// NewBatched returns embed behind a batcher gathering questions for window
// and an LRU of cacheSize recent vectors, over all scopes.
func NewBatched(window time.Duration, cacheSize int, embed EmbedFunc) (*Batched, error) {
	recent, err := lru.New[recentKey, []float32](cacheSize)
	if err != nil {
		return nil, err
	}
	b := &Batched{embed: embed, recent: recent}
	b.batch = batcher.New(window, b.run)
	return b, nil
}

// EmbedOne returns the unit vector of text, asked for in scope (the
// tenant's cache scope: recent vectors are kept per scope).
func (b *Batched) EmbedOne(ctx context.Context, scope, text string) ([]float32, error) {
	key := recentKey{scope, text}
	if v, ok := b.recent.Get(key); ok {
		return v, nil
	}
	job := &embedJob{text: text}
	done := make(chan error, 1)
	go func() { done <- b.batch.Run(job) }() // Run has no context: wait for it aside
	select {
	case err := <-done:
		if err == nil {
			err = job.err
		}
		if err != nil {
			return nil, err
		}
		b.recent.Add(key, job.vec)
		return job.vec, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run embeds every distinct question of a batch once and gives each its
// own vector or error; it fails no question for another's sake, so it
// returns nil.
func (b *Batched) run(params []any) error {
	jobs := make([]*embedJob, len(params))
	inputs := make([]string, 0, len(params))
	index := map[string]int{}
	for i, p := range params {
		jobs[i] = p.(*embedJob)
		if _, ok := index[jobs[i].text]; !ok {
			index[jobs[i].text] = len(inputs)
			inputs = append(inputs, jobs[i].text)
		}
	}
	vecs, errs := make([][]float32, len(inputs)), make([]error, len(inputs))
	b.embed(inputs, vecs, errs)
	for _, j := range jobs {
		i := index[j.text]
		j.vec, j.err = vecs[i], errs[i]
	}
	return nil
}
