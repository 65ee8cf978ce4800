package main

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/ragproxy/ragproxy/semantic"
	"github.com/ragproxy/ragproxy/semantic/use"
)

// evalEmbedderNames are the embedders -embedders can name.
var evalEmbedderNames = []string{"local", "use", "use-static", "local+use"}

// evalEmbedder is an embedder under evaluation, with its vectors of the
// evaluation's texts computed once (memoize) so every table reads the same.
type evalEmbedder struct {
	name, about string
	threshold   float32 // its default
	dim         int
	one         func(string) []float32
	batch       func([]string) [][]float32 // nil: one at a time

	memo map[string][]float32
}

func (e *evalEmbedder) Dim() int { return e.dim }

// EmbedOne returns text's vector, from the memo when it is there.
func (e *evalEmbedder) EmbedOne(text string) []float32 {
	if v, ok := e.memo[text]; ok {
		return v
	}
	return e.one(text)
}

// memoize embeds texts on every core, in batches where the embedder takes them.
func (e *evalEmbedder) memoize(texts []string) {
	vecs := make([][]float32, len(texts))
	if e.batch == nil {
		evalParallel(len(texts), func(i int) { vecs[i] = e.one(texts[i]) })
	} else {
		const size = 64
		chunks := (len(texts) + size - 1) / size
		evalParallel(chunks, func(c int) {
			lo, hi := c*size, min((c+1)*size, len(texts))
			copy(vecs[lo:hi], e.batch(texts[lo:hi]))
		})
	}
	e.memo = make(map[string][]float32, len(texts))
	for i, t := range texts {
		e.memo[t] = vecs[i]
	}
}

func evalOpenEmbedder(name string) (*evalEmbedder, error) {
	switch name {
	case "local":
		l := semantic.NewLocal(0)
		return &evalEmbedder{name: name, about: "Built-in lexical embedder (hashed character n-grams)",
			threshold: semantic.DefaultLocalThreshold, dim: l.Dim(), one: l.EmbedOne}, nil
	case "use":
		m, err := use.Load()
		if err != nil {
			return nil, err
		}
		return &evalEmbedder{name: name, about: fmt.Sprintf("Universal Sentence Encoder lite, in Go (weights %s)", m.Storage()),
			threshold: use.DefaultThreshold, dim: m.Dim(), one: m.EmbedOne, batch: m.Embed}, nil
	case "use-static":
		st, err := use.LoadStatic()
		if err != nil {
			return nil, err
		}
		return &evalEmbedder{name: name, about: "Static distillation of USE lite (int8 table, PCA 128, SIF weights)",
			threshold: use.DefaultStaticThreshold, dim: st.Dim(), one: st.EmbedOne, batch: st.Embed}, nil
	case "local+use":
		l := semantic.NewLocal(0)
		m, err := use.Load()
		if err != nil {
			return nil, err
		}
		join := func(a, b []float32) []float32 {
			v := make([]float32, 0, len(a)+len(b))
			v = append(v, a...)
			v = append(v, b...)
			for i := range v {
				v[i] *= math.Sqrt2 / 2 // unit length again: cosine is the mean of the two cosines
			}
			return v
		}
		return &evalEmbedder{name: name, about: "Both, vectors joined (the cosine is the mean of the two cosines)",
			threshold: (semantic.DefaultLocalThreshold + use.DefaultThreshold) / 2, dim: l.Dim() + m.Dim(),
			one: func(s string) []float32 { return join(l.EmbedOne(s), m.EmbedOne(s)) },
			batch: func(ss []string) [][]float32 {
				vs := m.Embed(ss)
				for i, s := range ss {
					vs[i] = join(l.EmbedOne(s), vs[i])
				}
				return vs
			}}, nil
	}
	return nil, fmt.Errorf("unknown embedder %q (want one of %v)", name, evalEmbedderNames)
}

// evalSpeed measures the embedder on questions: one question at a time on
// one goroutine (wall time a question), and batched on every core (CPU time
// a question: wall time × cores / questions).
func evalSpeed(e *evalEmbedder, questions []string) (one, batched time.Duration) {
	n := min(len(questions), 500)
	for _, q := range questions[:50] { // warm up
		e.one(q)
	}
	t0 := time.Now()
	for _, q := range questions[:n] {
		e.one(q)
	}
	one = time.Since(t0) / time.Duration(n)
	if e.batch == nil {
		return one, one
	}
	const size = 32
	chunks := (len(questions) + size - 1) / size
	var wg sync.WaitGroup
	t0 = time.Now()
	procs := runtime.GOMAXPROCS(0)
	for k := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := k; c < chunks; c += procs {
				e.batch(questions[c*size : min((c+1)*size, len(questions))])
			}
		}()
	}
	wg.Wait()
	batched = time.Since(t0) * time.Duration(procs) / time.Duration(len(questions))
	return one, batched
}
