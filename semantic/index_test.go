package semantic

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// Synthetic embeddings: clustered unit vectors (random centres, members at
// cosine 0.6–0.9 to theirs), queries that are noisy copies of stored
// vectors (cosine 0.85–0.95: a paraphrase), fresh draws from the same
// clusters (a new question on a known topic) and random vectors.

func idxUnit(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for {
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		if normalizeInto(v, v) {
			return v
		}
	}
}

// idxNear returns a unit vector at cosine cos to the unit vector base.
func idxNear(r *rand.Rand, base []float32, cos float64) []float32 {
	n := idxUnit(r, len(base))
	d := dotUnrolled(n, base)
	for i := range n {
		n[i] -= d * base[i]
	}
	normalizeInto(n, n)
	s := float32(math.Sqrt(1 - cos*cos))
	out := make([]float32, len(base))
	for i := range out {
		out[i] = float32(cos)*base[i] + s*n[i]
	}
	normalizeInto(out, out)
	return out
}

type idxCorpus struct {
	dim     int
	centres [][]float32
	vecs    [][]float32
}

func idxClustered(seed uint64, n, dim, ncentres int) *idxCorpus {
	r := rand.New(rand.NewPCG(seed, 1))
	c := &idxCorpus{dim: dim}
	for range ncentres {
		c.centres = append(c.centres, idxUnit(r, dim))
	}
	for range n {
		c.vecs = append(c.vecs, idxNear(r, c.centres[r.IntN(ncentres)], 0.6+0.3*r.Float64()))
	}
	return c
}

const (
	qParaphrase = iota // noisy copy of a stored vector
	qTopic             // new vector from a known cluster
	qRandom            // unrelated
)

// queries returns nq queries: 70% paraphrases, 15% topic, 15% random.
func (c *idxCorpus) queries(seed uint64, nq int) (qs [][]float32, kinds []int) {
	r := rand.New(rand.NewPCG(seed, 2))
	for i := range nq {
		switch k := i % 20; {
		case k < 14:
			qs = append(qs, idxNear(r, c.vecs[r.IntN(len(c.vecs))], 0.85+0.1*r.Float64()))
			kinds = append(kinds, qParaphrase)
		case k < 17:
			qs = append(qs, idxNear(r, c.centres[r.IntN(len(c.centres))], 0.6+0.3*r.Float64()))
			kinds = append(kinds, qTopic)
		default:
			qs = append(qs, idxUnit(r, c.dim))
			kinds = append(kinds, qRandom)
		}
	}
	return qs, kinds
}

// fill adds the corpus to ix with ids 1..n.
func (c *idxCorpus) fill(ix *Index) {
	for i, v := range c.vecs {
		ix.Add(uint64(i+1), v)
	}
}

// trainNow trains and installs an IVF index in the caller's goroutine.
func (ix *Index) trainNow() {
	ix.builds.Wait()
	ix.mu.Lock()
	b := ix.maybeStartBuild()
	ix.mu.Unlock()
	if b != nil {
		ix.runBuild(b)
	}
}

// exact is the brute-force search, whatever the index's size.
func (ix *Index) exact(q []float32) (uint64, float32, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	s, d := ix.scan(&searchQuery{q: q, cut: sketchBits, out: new(scoreBuf)})
	if s < 0 {
		return 0, 0, false
	}
	return ix.ids[s], d / vecNorm(q), true
}

// checkIndexInvariants verifies the index's internal structure.
func checkIndexInvariants(t testing.TB, ix *Index) {
	t.Helper()
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	n, live := len(ix.ids), len(ix.byID)
	if len(ix.seqs) != n || len(ix.bucketOf) != n || len(ix.posOf) != n {
		t.Fatalf("per-entry lengths: ids %d seqs %d bucketOf %d posOf %d",
			n, len(ix.seqs), len(ix.bucketOf), len(ix.posOf))
	}
	if len(ix.free)+live != n {
		t.Fatalf("free %d, map %d, entries %d", len(ix.free), live, n)
	}
	for _, e := range ix.free {
		if ix.seqs[e] != 0 {
			t.Fatalf("free entry %d has seq %d", e, ix.seqs[e])
		}
	}
	for id, e := range ix.byID {
		if ix.ids[e] != id || ix.seqs[e] == 0 {
			t.Fatalf("map: id %d → entry %d holding id %d seq %d", id, e, ix.ids[e], ix.seqs[e])
		}
	}
	for i := range ix.buckets {
		if bk := &ix.buckets[i]; len(bk.sk) != sketchWords*bk.len() {
			t.Fatalf("bucket %d: %d sketch words for %d vectors", i, len(bk.sk), bk.len())
		}
	}
	if ix.cent == nil && len(ix.buckets) != 1 || ix.cent != nil && len(ix.cent) != len(ix.buckets)*ix.dim {
		t.Fatalf("%d buckets for %d centroid floats", len(ix.buckets), len(ix.cent))
	}
	total := 0
	for b := range ix.buckets {
		bk := &ix.buckets[b]
		m := bk.len()
		total += m
		if ix.quant && (len(bk.codes) != m*ix.dim || len(bk.scales) != m) || !ix.quant && len(bk.vecs) != m*ix.dim {
			t.Fatalf("bucket %d storage length", b)
		}
		for p, e := range bk.ents {
			if ix.bucketOf[e] != int32(b) || ix.posOf[e] != int32(p) || ix.seqs[e] == 0 {
				t.Fatalf("bucket %d position %d holds entry %d, which says bucket %d position %d seq %d",
					b, p, e, ix.bucketOf[e], ix.posOf[e], ix.seqs[e])
			}
		}
	}
	if total != live {
		t.Fatalf("buckets hold %d vectors, want %d", total, live)
	}
}

func TestIndexAddSearchReplaceRemove(t *testing.T) {
	for _, f32 := range []bool{false, true} {
		t.Run(fmt.Sprintf("float32=%v", f32), func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 1))
			ix := NewIndexWithOptions(32, IndexOptions{Float32: f32})
			if _, _, ok := ix.Search(idxUnit(r, 32)); ok {
				t.Fatal("empty index found something")
			}
			a, b, c := idxUnit(r, 32), idxUnit(r, 32), idxUnit(r, 32)
			ix.Add(1, a)
			ix.Add(2, b)
			if ix.Len() != 2 {
				t.Fatalf("Len %d", ix.Len())
			}
			id, score, ok := ix.Search(a)
			if !ok || id != 1 || math.Abs(float64(score)-1) > 0.002 {
				t.Fatalf("Search(a) = %d %v %v", id, score, ok)
			}
			if id, _, _ := ix.Search(idxNear(r, b, 0.9)); id != 2 {
				t.Fatalf("near b found %d", id)
			}
			// A scaled query scores the same: cosine, not dot product.
			scaled := make([]float32, 32)
			for i := range a {
				scaled[i] = 3 * a[i]
			}
			if _, s2, _ := ix.Search(scaled); math.Abs(float64(s2-score)) > 1e-5 {
				t.Fatalf("scaled query scores %v, want %v", s2, score)
			}
			// Replace: id 1 now holds c.
			ix.Add(1, c)
			if ix.Len() != 2 {
				t.Fatalf("Len after replace %d", ix.Len())
			}
			if id, s, _ := ix.Search(c); id != 1 || s < 0.998 {
				t.Fatalf("Search(c) = %d %v", id, s)
			}
			if _, s, _ := ix.Search(a); s > 0.9 {
				t.Fatalf("old vector of id 1 still matches: %v", s)
			}
			if !ix.Remove(1) || ix.Remove(1) || ix.Remove(99) {
				t.Fatal("Remove results")
			}
			if id, _, ok := ix.Search(c); !ok || id != 2 {
				t.Fatalf("after remove: %d %v", id, ok)
			}
			ix.Remove(2)
			if _, _, ok := ix.Search(c); ok || ix.Len() != 0 {
				t.Fatal("index not empty")
			}
			checkIndexInvariants(t, ix)
		})
	}
}

func TestIndexIgnoresBadVectors(t *testing.T) {
	ix := NewIndex(4)
	ix.Add(1, []float32{1, 0, 0})
	ix.Add(2, []float32{0, 0, 0, 0})
	ix.Add(3, []float32{float32(math.NaN()), 0, 0, 0})
	if ix.Len() != 0 {
		t.Fatalf("Len %d", ix.Len())
	}
	ix.Add(4, []float32{2, 0, 0, 0}) // normalised on the way in
	if id, s, ok := ix.Search([]float32{1, 0, 0, 0}); !ok || id != 4 || math.Abs(float64(s)-1) > 1e-3 {
		t.Fatalf("Search = %d %v %v", id, s, ok)
	}
	for _, q := range [][]float32{{1, 0, 0}, {0, 0, 0, 0}, {float32(math.NaN()), 0, 0, 0}} {
		if _, _, ok := ix.Search(q); ok {
			t.Fatalf("Search(%v) found something", q)
		}
	}
}

func TestIndexMemoryBytes(t *testing.T) {
	const n, dim = 5000, 256
	c := idxClustered(4, n, dim, 50)
	for _, f32 := range []bool{false, true} {
		ix := NewIndexWithOptions(dim, IndexOptions{Float32: f32, ANNMinEntries: -1})
		empty := ix.MemoryBytes()
		c.fill(ix)
		per := float64(ix.MemoryBytes()-empty) / n
		const other = 60 + 8*sketchWords // bookkeeping and the sketch
		lo, hi := float64(dim+other), float64(dim+other)*1.6
		if f32 {
			lo, hi = float64(4*dim+other), float64(4*dim+other)*1.6
		}
		if per < lo || per > hi {
			t.Errorf("float32=%v: %.0f bytes/entry, want %.0f..%.0f", f32, per, lo, hi)
		}
		for i := range n {
			ix.Remove(uint64(i + 1))
		}
		if m := ix.MemoryBytes(); m > empty+64*(dim*4+64) {
			t.Errorf("float32=%v: %d bytes after removing everything", f32, m)
		}
		checkIndexInvariants(t, ix)
	}
}

func TestDotKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	t.Logf("SIMD kernels: %v", simdOn)
	for n := range 300 {
		a, b, c := make([]float32, n), make([]float32, n+3), make([]int8, n+5)
		var want, wantI float64
		for i := range a {
			a[i], b[i], c[i] = float32(r.NormFloat64()), float32(r.NormFloat64()), int8(r.IntN(255)-127)
			want += float64(a[i]) * float64(b[i])
			wantI += float64(a[i]) * float64(c[i])
		}
		for name, got := range map[string]float32{"dotF32": dotF32(a, b), "dotUnrolled": dotUnrolled(a, b)} {
			if math.Abs(float64(got)-want) > 1e-4*(1+math.Sqrt(float64(n))) {
				t.Fatalf("n=%d %s = %v, want %v", n, name, got, want)
			}
		}
		for name, got := range map[string]float32{"dotI8": dotI8(a, c), "dotI8Unrolled": dotI8Unrolled(a, c)} {
			if math.Abs(float64(got)-wantI) > 1e-2*(1+math.Sqrt(float64(n))) {
				t.Fatalf("n=%d %s = %v, want %v", n, name, got, wantI)
			}
		}
	}
	// The batched kernels agree with the single ones, for both sets.
	for _, dim := range []int{1, 7, 8, 31, 64, 100, 256} {
		rows := 1 + r.IntN(300)
		q, data, codes := make([]float32, dim), make([]float32, rows*dim), make([]int8, rows*dim)
		for i := range q {
			q[i] = float32(r.NormFloat64())
		}
		for i := range data {
			data[i], codes[i] = float32(r.NormFloat64()), int8(r.IntN(256)-128)
		}
		outs := map[string][]float32{}
		for name, f := range map[string]func(q, data, out []float32){"dotsF32": dotsF32, "dotsUnrolled": dotsUnrolled} {
			outs[name] = make([]float32, rows)
			f(q, data, outs[name])
		}
		for name, f := range map[string]func(q []float32, c []int8, out []float32){"dotsI8": dotsI8, "dotsI8Unrolled": dotsI8Unrolled} {
			outs[name] = make([]float32, rows)
			f(q, codes, outs[name])
		}
		for i := range rows {
			wf, wi := dotUnrolled(q, data[i*dim:]), dotI8Unrolled(q, codes[i*dim:])
			for name, want := range map[string]float32{"dotsF32": wf, "dotsUnrolled": wf, "dotsI8": wi, "dotsI8Unrolled": wi} {
				if got := outs[name][i]; math.Abs(float64(got-want)) > 1e-3*(1+math.Abs(float64(want))) {
					t.Fatalf("dim=%d row %d: %s = %v, want %v", dim, i, name, got, want)
				}
			}
		}
	}
	for name, f := range map[string]func(){
		"dotF32":  func() { dotF32(make([]float32, 9), make([]float32, 8)) },
		"dotI8":   func() { dotI8(make([]float32, 9), make([]int8, 8)) },
		"dotsF32": func() { dotsF32(make([]float32, 4), make([]float32, 7), make([]float32, 2)) },
		"dotsI8":  func() { dotsI8(make([]float32, 4), make([]int8, 7), make([]float32, 2)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s with a short operand did not panic", name)
				}
			}()
			f()
		}()
	}
}

// TestIndexQuantizedRecall: int8 storage finds the same best entry as
// float32 storage (recall@1 ≥ 0.99 over all query kinds), with scores
// within 0.005.
func TestIndexQuantizedRecall(t *testing.T) {
	const n, dim, nq = 10000, 128, 1000
	c := idxClustered(6, n, dim, 200)
	qs, kinds := c.queries(7, nq)
	q8 := NewIndexWithOptions(dim, IndexOptions{ANNMinEntries: -1})
	f32 := NewIndexWithOptions(dim, IndexOptions{ANNMinEntries: -1, Float32: true})
	c.fill(q8)
	c.fill(f32)
	same, byKind, countKind := 0, [3]int{}, [3]int{}
	maxErr := 0.0
	for i, q := range qs {
		id8, s8, _ := q8.Search(q)
		idf, sf, _ := f32.Search(q)
		countKind[kinds[i]]++
		if id8 == idf {
			same++
			byKind[kinds[i]]++
			maxErr = max(maxErr, math.Abs(float64(s8-sf)))
		}
	}
	t.Logf("int8 vs float32 recall@1 %.4f (paraphrase %d/%d, topic %d/%d, random %d/%d), max score error %.5f",
		float64(same)/nq, byKind[0], countKind[0], byKind[1], countKind[1], byKind[2], countKind[2], maxErr)
	if float64(same)/nq < 0.99 || byKind[qParaphrase] != countKind[qParaphrase] {
		t.Errorf("int8 recall@1 %.4f", float64(same)/nq)
	}
	if maxErr > 0.005 {
		t.Errorf("int8 score error %v", maxErr)
	}
}

// ivfRecall compares ix's searches (through its IVF index) with exact
// scans: per query kind, the fraction that found the same best entry, and
// over all queries the fraction whose hit/miss decision at threshold
// agrees (a miss or the same hit).
func ivfRecall(ix *Index, qs [][]float32, kinds []int, threshold float32) (recall [3]float64, agree float64) {
	var hit, cnt [3]int
	agreeN := 0
	for i, q := range qs {
		ida, sa, _ := ix.Search(q)
		ide, se, _ := ix.exact(q)
		cnt[kinds[i]]++
		if ida == ide || sa >= se {
			hit[kinds[i]]++
		}
		if (se >= threshold) == (sa >= threshold) && (se < threshold || ida == ide) {
			agreeN++
		}
	}
	for k := range recall {
		recall[k] = float64(hit[k]) / float64(max(cnt[k], 1))
	}
	return recall, float64(agreeN) / float64(len(qs))
}

func TestIndexIVFRecall(t *testing.T) {
	const n, dim, nq = 30000, 64, 2000
	c := idxClustered(8, n, dim, 1000)
	qs, kinds := c.queries(9, nq)
	ix := NewIndexWithOptions(dim, IndexOptions{ANNMinEntries: -1})
	c.fill(ix)
	ix.annMin = DefaultANNMinEntries
	ix.trainNow()
	if ix.cent == nil {
		t.Fatal("no IVF index after training")
	}
	checkIndexInvariants(t, ix)
	recall, agree := ivfRecall(ix, qs, kinds, 0.8)
	t.Logf("n=%d dim=%d nlist=%d nprobe=%d: recall@1 paraphrase %.4f topic %.4f random %.4f; hit/miss agreement at 0.8: %.4f",
		n, dim, len(ix.buckets), ix.probes(len(ix.buckets)), recall[qParaphrase], recall[qTopic], recall[qRandom], agree)
	if recall[qParaphrase] < 0.95 {
		t.Errorf("paraphrase recall@1 %.4f < 0.95", recall[qParaphrase])
	}
	if agree < 0.95 {
		t.Errorf("hit/miss agreement %.4f < 0.95", agree)
	}

	// Entries added, replaced and removed after training stay findable.
	r := rand.New(rand.NewPCG(10, 10))
	for i := range 2000 {
		id := uint64(r.IntN(n) + 1)
		switch i % 3 {
		case 0:
			ix.Remove(id)
		default:
			v := idxNear(r, c.centres[r.IntN(len(c.centres))], 0.75)
			ix.Add(id, v)
			if got, s, _ := ix.Search(v); got != id || s < 0.99 {
				t.Fatalf("entry %d just added not found: %d %v", id, got, s)
			}
		}
	}
	checkIndexInvariants(t, ix)

	// Shrinking below half the threshold drops the IVF index.
	for id := range uint64(n + 1) {
		ix.Remove(id)
	}
	if ix.cent != nil || ix.Len() != 0 {
		t.Fatalf("IVF index kept after emptying (Len %d)", ix.Len())
	}
}

// TestIndexBackgroundBuild: an index growing past the threshold trains its
// IVF index in the background while Adds and Searches go on, and retrains
// when it doubles.
func TestIndexBackgroundBuild(t *testing.T) {
	const n, dim = 9000, 32
	c := idxClustered(11, n, dim, 100)
	ix := NewIndexWithOptions(dim, IndexOptions{ANNMinEntries: 2000})
	for i, v := range c.vecs {
		ix.Add(uint64(i+1), v)
		if i%50 == 0 {
			if id, _, ok := ix.Search(v); !ok || id != uint64(i+1) {
				t.Fatalf("entry %d not found during build: %d", i+1, id)
			}
		}
	}
	ix.builds.Wait()
	checkIndexInvariants(t, ix)
	if ix.cent == nil || ix.trainedN < 4000 {
		t.Fatalf("no retrained IVF index (trained for %d)", ix.trainedN)
	}
	for i, v := range c.vecs {
		if id, _, _ := ix.Search(v); id != uint64(i+1) {
			t.Fatalf("entry %d not found by its own vector: %d", i+1, id)
		}
	}
}

// TestIndexBuildWithChanges changes the index between every round of an
// IVF build (adds, replacements, removals, the owner's evictions) and checks
// that the installed index holds exactly the entries and vectors there are.
func TestIndexBuildWithChanges(t *testing.T) {
	for _, f32 := range []bool{false, true} {
		const dim, n = 16, 3000
		r := rand.New(rand.NewPCG(14, 14))
		ix := NewIndexWithOptions(dim, IndexOptions{ANNMinEntries: -1, Float32: f32})
		model := map[uint64][]float32{}
		add := func(id uint64) {
			v := idxUnit(r, dim)
			ix.Add(id, v)
			model[id] = v
		}
		for id := range uint64(n) {
			add(id)
		}
		ix.annMin = 1000
		calls, rounds, evicted := 0, 0, 0
		ix.buildHook = func() {
			calls++
			for id := range model { // churn an entry the build may hold
				for range 2 {
					add(id)
					ix.Remove(id)
					delete(model, id)
				}
				break
			}
			for range max(300-60*calls, 10) {
				id := uint64(r.IntN(n + 1000))
				switch r.IntN(10) {
				case 0, 1, 2, 3:
					add(id) // a new entry or a replacement
				case 4, 5, 6:
					ix.Remove(id)
					delete(model, id)
				case 7: // the owner evicts or expires a few entries
					for id := range model {
						ix.Remove(id)
						delete(model, id)
						if evicted++; evicted%3 == 0 {
							break
						}
					}
				case 8: // churn: the same entry number freed and reused
					for range 2 {
						add(id)
						ix.Remove(id)
						delete(model, id)
					}
				default:
					ix.Search(idxUnit(r, dim))
				}
			}
			rounds++
		}
		ix.trainNow()
		if ix.cent == nil {
			t.Fatal("no IVF index installed")
		}
		t.Logf("float32=%v: %d rounds of changes during the build, %d entries evicted", f32, rounds, evicted)
		ix.buildHook = nil
		checkIndexInvariants(t, ix)
		if ix.Len() != len(model) {
			t.Fatalf("Len %d, model %d", ix.Len(), len(model))
		}
		for id, v := range model {
			if got, s, _ := ix.exact(v); got != id || s < 0.99 {
				t.Fatalf("entry %d: exact search found %d (%v)", id, got, s)
			}
		}
	}
}

// TestIndexConcurrent runs Add, Search, SearchAtLeast and Remove from several
// goroutines (run it with -race), in phases that grow the index past the
// IVF threshold (background builds), shrink it below half of it (a build
// dropped, the IVF index merged back, the entry arrays compacted) and grow
// it again.
func TestIndexConcurrent(t *testing.T) {
	const dim, ids, workers, ops = 32, 1000, 4, 4500
	ix := NewIndexWithOptions(dim, IndexOptions{ANNMinEntries: 400})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 12))
			for i := range ops {
				id := uint64(r.IntN(ids))
				adds, removes := 9, 2 // of 20
				if i >= ops/3 && i < 2*ops/3 {
					adds, removes = 0, 15
				}
				switch op := r.IntN(20); {
				case op < adds:
					ix.Add(id, idxUnit(r, dim))
				case op < adds+removes:
					ix.Remove(id)
				case op < 19:
					if id, s, ok := ix.Search(idxUnit(r, dim)); ok && (s < -1.01 || s > 1.01) {
						t.Errorf("search: %d %v", id, s)
					}
				default:
					ix.SearchAtLeast(idxUnit(r, dim), 0.5)
					ix.Len()
					ix.MemoryBytes()
				}
			}
		}()
	}
	wg.Wait()
	ix.builds.Wait()
	checkIndexInvariants(t, ix)
}

// FuzzIndexOps applies a sequence of operations to an index and to a
// simple model (a map), checking Len, Remove and, on the exact path, that
// Search returns the model's best entry, and SearchAtLeast too when that
// scores its minimum; on the IVF path (tiny threshold, inline training)
// that they return an entry with its true score.
func FuzzIndexOps(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 2, 1, 3, 0, 7, 2, 1, 3, 200, 4, 0})
	f.Add([]byte{2, 0, 5, 0, 6, 0, 7, 0, 8, 0, 9, 0, 10, 0, 11, 0, 12, 0, 13, 1, 5, 2, 6, 1, 9})
	f.Add([]byte{3, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8, 0, 9, 0, 10, 0, 11, 0, 12, 1, 1, 3, 9, 4, 0, 0, 13, 1, 2})
	f.Fuzz(fuzzIndexOpsOnce)
}

func fuzzIndexOpsOnce(t *testing.T, data []byte) {
	if len(data) == 0 {
		return
	}
	const dim, nIDs = 8, 16
	cfg := data[0]
	data = data[1:]
	f32, ivfMode := cfg&1 != 0, cfg&2 != 0
	o := IndexOptions{Float32: f32, ANNMinEntries: -1}
	if ivfMode {
		o.ANNMinEntries, o.NProbe = 6, 1+int(cfg>>2)%4
	}
	ix := NewIndexWithOptions(dim, o)
	ix.syncBuild = true

	model := map[uint64][]float32{}
	vecFor := func(arg byte, i int) []float32 {
		r := rand.New(rand.NewPCG(uint64(arg), uint64(i)))
		v := idxUnit(r, dim)
		if arg%4 == 0 { // some exact duplicates, to exercise ties
			v = idxUnit(rand.New(rand.NewPCG(uint64(arg), 0)), dim)
		}
		return v
	}
	// The model's score: what the stored representation gives.
	score := func(q, v []float32) float32 {
		if f32 {
			return dotUnrolled(q, v)
		}
		c := make([]int8, dim)
		s := quantizeI8(c, v)
		d := make([]float32, dim)
		dequantizeI8(d, c, s)
		return dotUnrolled(q, d)
	}

	for i := 0; i+1 < len(data); i += 2 {
		op, arg := data[i]%5, data[i+1]
		switch op {
		case 0, 3: // Add
			id := uint64(arg % nIDs)
			v := vecFor(arg, i)
			ix.Add(id, v)
			model[id] = v
		case 1, 4: // Search, or SearchAtLeast a minimum from arg
			q := vecFor(arg, i+1)
			minScore := float32(math.Inf(-1))
			id, s, ok := ix.Search(q)
			if op == 4 {
				minScore = float32(arg%8) / 8
				id, s, ok = ix.SearchAtLeast(q, minScore)
			}
			best := float32(-2)
			for _, v := range model {
				best = max(best, score(q, v))
			}
			if op == 1 && ok != (len(model) > 0) {
				t.Fatalf("op %d: Search ok=%v with %d entries", i, ok, len(model))
			}
			if !ok {
				if !ivfMode && best >= minScore+0.01 {
					t.Fatalf("op %d: nothing found, the best scores %v ≥ %v", i, best, minScore)
				}
				break
			}
			v, in := model[id]
			if !in {
				t.Fatalf("op %d: found %d, not an entry", i, id)
			}
			if d := score(q, v); math.Abs(float64(d-s)) > 1e-4 {
				t.Fatalf("op %d: score %v, entry's true score %v", i, s, d)
			}
			if !ivfMode && s < best-1e-4 && (op == 1 || best >= minScore+0.01) {
				t.Fatalf("op %d: score %v below the best %v (minimum %v)", i, s, best, minScore)
			}
		case 2: // Remove
			id := uint64(arg % nIDs)
			_, want := model[id]
			if got := ix.Remove(id); got != want {
				t.Fatalf("op %d: Remove(%d) = %v, want %v", i, id, got, want)
			}
			delete(model, id)
		}
		if ix.Len() != len(model) {
			t.Fatalf("op %d: Len %d, model %d", i, ix.Len(), len(model))
		}
		checkIndexInvariants(t, ix)
	}
}

// A seed corpus entry built from a long random sequence, so plain
// `go test` covers IVF training, replacement and removal together.
func TestIndexOpsLongSequence(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 13))
	for cfg := range byte(8) {
		data := []byte{cfg}
		for range 2000 {
			data = binary.LittleEndian.AppendUint16(data, uint16(r.Uint32()))
		}
		t.Run(fmt.Sprint(cfg), func(t *testing.T) {
			fuzzIndexOpsOnce(t, data)
		})
	}
}
