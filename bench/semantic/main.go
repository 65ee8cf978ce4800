// Command semantic evaluates the built-in Local embedder and the guards of
// package semantic on real data, and prints markdown tables.
//
//	go run ./bench/semantic [-data ../shared/data/semantic] [-threshold X] [-dim N] [-seed S]
//
// The data (see ../shared/data/README.md):
//   - qqp_pairs.jsonl.gz: 80,854 labelled Quora question pairs (the subset
//     GPTCache benchmarks with), {"a", "b", "duplicate"};
//   - llm_paraphrases.jsonl: 999 {"origin", "similar"} pairs, similar being
//     an LLM's paraphrase of origin.
//
// It reports:
//   - pair classification on all QQP pairs: ROC AUC of cos(a, b), and
//     precision/recall at the threshold with and without the guards;
//   - the LLM paraphrases: AUC of cos(origin, its similar) against
//     cos(origin, every other row's similar), the share of each above the
//     threshold, and a cache of all origins queried with the similars;
//   - the GPTCache cache simulation: cache the a side of N duplicate pairs,
//     query with their b sides (should hit their own a) and M questions
//     from non-duplicate pairs (should miss); a hit is the best cached
//     cosine ≥ threshold and, with guards, TooShort false for both and
//     Compatible true. Run at 300 cached / 1,000 queries and 5,000 cached /
//     15,000 queries, with and without guards, and swept over thresholds.
//
// Precision is given twice. "raw" counts a hit as right only when it
// returns the query's own labelled pair. Quora's duplicates form chains and
// a large cache holds many unlabelled rephrasings of popular questions, so
// "chains" also counts a hit as right when Quora's labels join the two
// questions through a chain of duplicate pairs, or the two differ only in
// case and punctuation. Recall is always raw: the share of duplicate
// queries that get their own pair back.
//
// The suggested default threshold is the smallest in steps of 0.01 at which
// chain precision with guards reaches 0.9 in both simulations.
package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/ragproxy/ragproxy/semantic"
)

func main() {
	data := flag.String("data", "../shared/data/semantic", "folder with qqp_pairs.jsonl.gz and llm_paraphrases.jsonl")
	threshold := flag.Float64("threshold", semantic.DefaultLocalThreshold, "cosine threshold to report at")
	dim := flag.Int("dim", 0, "Local embedder dimensions (0: the default)")
	seed := flag.Uint64("seed", 1, "random seed of the cache simulations")
	flag.Parse()
	if err := run(*data, float32(*threshold), *dim, *seed, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench/semantic:", err)
		os.Exit(1)
	}
}

type evalPair struct {
	A   string `json:"a"`
	B   string `json:"b"`
	Dup bool   `json:"duplicate"`
}

type evalPara struct {
	Origin  string `json:"origin"`
	Similar string `json:"similar"`
}

func run(dir string, threshold float32, dim int, seed uint64, w io.Writer) error {
	start := time.Now()
	pairs, err := evalReadJSONL[evalPair](filepath.Join(dir, "qqp_pairs.jsonl.gz"))
	if err != nil {
		return err
	}
	paras, err := evalReadJSONL[evalPara](filepath.Join(dir, "llm_paraphrases.jsonl"))
	if err != nil {
		return err
	}
	emb := semantic.NewLocal(dim)
	fmt.Fprintf(w, "# Semantic cache evaluation: Local embedder\n\n")
	fmt.Fprintf(w, "Local embedder, %d dimensions (%d bytes a cached vector); threshold %.2f; seed %d; data %s: %d QQP pairs, %d LLM paraphrases.\n\n",
		emb.Dim(), 4*emb.Dim(), threshold, seed, dir, len(pairs), len(paras))

	clusters := evalBuildClusters(pairs)

	// Pair classification.
	pc := evalPairs(emb, pairs)
	fmt.Fprintf(w, "## Pair classification (all %d QQP pairs: %d duplicates)\n\n", len(pairs), pc.dups)
	n := min(len(pairs), 20000)
	t0 := time.Now()
	var chars int
	for _, p := range pairs[:n] {
		emb.EmbedOne(p.A)
		chars += len([]rune(p.A))
	}
	per := time.Since(t0) / time.Duration(n)
	fmt.Fprintf(w, "EmbedOne on one core: %v a question (%d questions of %d characters on average).\n\n", per, n, chars/n)
	fmt.Fprintf(w, "ROC AUC of cos(a, b): **%.4f**\n\n", evalAUC(pc.pos, pc.neg))
	fmt.Fprintln(w, "| threshold | guards | predicted duplicate | precision | recall | F1 |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|")
	for _, t := range evalUnique([]float32{0.5, 0.6, 0.7, threshold, 0.9}) {
		for _, g := range []bool{false, true} {
			tp, fp := pc.at(t, g)
			p, r := evalRatio(tp, tp+fp), evalRatio(tp, pc.dups)
			fmt.Fprintf(w, "| %s | %s | %d | %.3f | %.3f | %.3f |\n", evalMark(t, threshold), evalOnOff(g), tp+fp, p, r, evalF1(p, r))
		}
	}
	fmt.Fprintln(w)

	// LLM paraphrases.
	evalParaphrases(w, emb, paras, threshold)

	// Cache simulations.
	sims := []*evalSim{
		evalBuildSim(pairs, 300, 700, seed),
		evalBuildSim(pairs, 5000, 10000, seed),
	}
	for _, s := range sims {
		s.run(emb, clusters)
	}
	fmt.Fprintf(w, "## Cache simulation (GPTCache protocol, seed %d)\n\n", seed)
	fmt.Fprintln(w, "Cache the `a` of N duplicate pairs; query with their `b` (should hit their own `a`) and with M questions from non-duplicate pairs (should miss).")
	fmt.Fprintln(w, "Precision \"raw\": the hit returned the query's own labelled pair; \"chains\": or a question Quora's duplicate labels join to it through a chain of pairs, or one equal up to case and punctuation. Recall is raw.")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "At threshold %.2f:\n\n", threshold)
	fmt.Fprintln(w, "| simulation | guards | hits | precision (raw) | precision (chains) | recall | F1 (raw) | F1 (chains) | vetoed right / wrong (chains) |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, s := range sims {
		for _, g := range []bool{false, true} {
			m := s.at(threshold, g)
			veto := ""
			if g {
				off := s.at(threshold, false)
				veto = fmt.Sprintf("%d / %d", off.chain-m.chain, (off.hits-off.chain)-(m.hits-m.chain))
			}
			fmt.Fprintf(w, "| %s | %s | %d | %.3f | %.3f | %.3f | %.3f | %.3f | %s |\n",
				s.name, evalOnOff(g), m.hits, m.pRaw(), m.pChain(), m.recall(s.dups), evalF1(m.pRaw(), m.recall(s.dups)), evalF1(m.pChain(), m.recall(s.dups)), veto)
		}
	}
	fmt.Fprintln(w)

	// Sweep.
	var grid []float32
	for t := 50; t <= 95; t += 5 {
		grid = append(grid, float32(t)/100)
	}
	for t := 71; t <= 89; t++ {
		if t%5 != 0 {
			grid = append(grid, float32(t)/100)
		}
	}
	grid = append(grid, threshold)
	slices.Sort(grid)
	grid = evalUnique(grid)
	for _, s := range sims {
		fmt.Fprintf(w, "### Threshold sweep: %s\n\n", s.name)
		fmt.Fprintln(w, "| threshold | hits | precision (raw) | precision (chains) | recall | F1 (chains) | no guards: hits | precision (chains) | recall |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, t := range grid {
			m, o := s.at(t, true), s.at(t, false)
			fmt.Fprintf(w, "| %s | %d | %.3f | %.3f | %.3f | %.3f | %d | %.3f | %.3f |\n",
				evalMark(t, threshold), m.hits, m.pRaw(), m.pChain(), m.recall(s.dups), evalF1(m.pChain(), m.recall(s.dups)), o.hits, o.pChain(), o.recall(s.dups))
		}
		fmt.Fprintln(w)
	}

	// The rule for the default threshold.
	fmt.Fprintln(w, "## Default threshold")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Smallest threshold (steps of 0.01) at which precision with guards reaches 0.9:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| simulation | raw labels | chains |")
	fmt.Fprintln(w, "|---|---:|---:|")
	var suggest float32
	for _, s := range sims {
		raw, chain := s.smallest(0.9, false), s.smallest(0.9, true)
		suggest = max(suggest, chain)
		fmt.Fprintf(w, "| %s | %s | %s |\n", s.name, evalThr(raw), evalThr(chain))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Suggested default (chains, both simulations, guards on): **%s**; shipped DefaultLocalThreshold: %.2f.\n\n", evalThr(suggest), semantic.DefaultLocalThreshold)
	fmt.Fprintf(w, "Total time %v.\n", time.Since(start).Round(100*time.Millisecond))
	return nil
}

// evalReadJSONL reads one T a line from a .jsonl or .jsonl.gz file.
func evalReadJSONL[T any](path string) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		z, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer z.Close()
		r = z
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var out []T
	for line := 1; sc.Scan(); line++ {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no records", path)
	}
	return out, nil
}

// evalParallel calls f(i) for i in [0, n) on every core.
func evalParallel(n int, f func(i int)) {
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for k := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := k; i < n; i += workers {
				f(i)
			}
		}()
	}
	wg.Wait()
}

func evalEmbedAll(emb *semantic.Local, texts []string) [][]float32 {
	out := make([][]float32, len(texts))
	evalParallel(len(texts), func(i int) { out[i] = emb.EmbedOne(texts[i]) })
	return out
}

// evalGuards reports whether the guards let a and b match.
func evalGuards(a, b string) bool {
	return !semantic.TooShort(a) && !semantic.TooShort(b) && semantic.Compatible(a, b)
}

type evalPairScores struct {
	cos   []float32
	dup   []bool
	guard []bool
	pos   []float32
	neg   []float32
	dups  int
}

func evalPairs(emb *semantic.Local, pairs []evalPair) *evalPairScores {
	pc := &evalPairScores{cos: make([]float32, len(pairs)), dup: make([]bool, len(pairs)), guard: make([]bool, len(pairs))}
	evalParallel(len(pairs), func(i int) {
		p := pairs[i]
		pc.cos[i] = semantic.Dot(emb.EmbedOne(p.A), emb.EmbedOne(p.B))
		pc.dup[i] = p.Dup
		pc.guard[i] = evalGuards(p.A, p.B)
	})
	for i, c := range pc.cos {
		if pc.dup[i] {
			pc.pos = append(pc.pos, c)
			pc.dups++
		} else {
			pc.neg = append(pc.neg, c)
		}
	}
	return pc
}

func (pc *evalPairScores) at(t float32, guards bool) (tp, fp int) {
	for i, c := range pc.cos {
		if c < t || guards && !pc.guard[i] {
			continue
		}
		if pc.dup[i] {
			tp++
		} else {
			fp++
		}
	}
	return tp, fp
}

func evalParaphrases(w io.Writer, emb *semantic.Local, paras []evalPara, threshold float32) {
	origins := make([]string, len(paras))
	similars := make([]string, len(paras))
	for i, p := range paras {
		origins[i], similars[i] = p.Origin, p.Similar
	}
	eo, es := evalEmbedAll(emb, origins), evalEmbedAll(emb, similars)
	n := len(paras)
	scores := make([][]float32, n) // scores[i][j] = cos(origin i, similar j)
	evalParallel(n, func(i int) {
		row := make([]float32, n)
		for j := range row {
			row[j] = semantic.Dot(eo[i], es[j])
		}
		scores[i] = row
	})
	var pos, neg []float32
	for i := range scores {
		for j, s := range scores[i] {
			if i == j {
				pos = append(pos, s)
			} else {
				neg = append(neg, s)
			}
		}
	}
	fmt.Fprintf(w, "## LLM paraphrases (%d origin/similar pairs)\n\n", n)
	fmt.Fprintf(w, "ROC AUC, cos(origin, its similar) against cos(origin, another row's similar) (%d negatives): **%.4f**\n\n", len(neg), evalAUC(pos, neg))
	fmt.Fprintln(w, "Pairs above the threshold; cache: all origins cached, each similar queried, right when it hits its own origin.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| threshold | guards | positive pairs above (hit rate) | negative pairs above | cache hits | cache precision | cache recall |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|")
	for _, t := range evalUnique([]float32{0.5, 0.7, threshold, 0.9}) {
		for _, g := range []bool{false, true} {
			var posAbove, negAbove int
			for i := range scores {
				for j, s := range scores[i] {
					if s < t || g && !evalGuards(origins[i], similars[j]) {
						continue
					}
					if i == j {
						posAbove++
					} else {
						negAbove++
					}
				}
			}
			hits, right := 0, 0
			for j := range similars {
				best, bs := -1, float32(math.Inf(-1))
				for i := range origins {
					if s := scores[i][j]; s > bs {
						best, bs = i, s
					}
				}
				if bs < t || g && !evalGuards(similars[j], origins[best]) {
					continue
				}
				hits++
				if best == j {
					right++
				}
			}
			fmt.Fprintf(w, "| %s | %s | %d (%.3f) | %d (%.5f) | %d | %.3f | %.3f |\n", evalMark(t, threshold), evalOnOff(g),
				posAbove, evalRatio(posAbove, len(pos)), negAbove, evalRatio(negAbove, len(neg)), hits, evalRatio(right, hits), evalRatio(right, n))
		}
	}
	fmt.Fprintln(w)
}

// evalSim is one cache simulation.
type evalSim struct {
	name    string
	cached  []string
	queries []string
	want    []int // the cached index a query should hit, or -1
	dups    int

	best  []int     // each query's nearest cached question
	score []float32 // and its cosine
	guard []bool    // whether the guards let them match
	chain []bool    // whether they are one question by Quora's labels
}

// evalBuildSim samples nDup duplicate pairs (distinct questions, none
// appearing twice anywhere in the simulation) and nNeg questions from
// non-duplicate pairs (none equal to a cached one or another query).
func evalBuildSim(pairs []evalPair, nDup, nNeg int, seed uint64) *evalSim {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	var dups, nons []int
	for i, p := range pairs {
		if p.Dup {
			dups = append(dups, i)
		} else {
			nons = append(nons, i)
		}
	}
	r.Shuffle(len(dups), func(i, j int) { dups[i], dups[j] = dups[j], dups[i] })
	r.Shuffle(len(nons), func(i, j int) { nons[i], nons[j] = nons[j], nons[i] })
	s := &evalSim{name: fmt.Sprintf("%d cached / %d queries", nDup, nDup+nNeg)}
	used := map[string]bool{}
	for _, i := range dups {
		if len(s.cached) == nDup {
			break
		}
		p := pairs[i]
		if p.A == p.B || used[p.A] || used[p.B] {
			continue
		}
		used[p.A], used[p.B] = true, true
		s.cached = append(s.cached, p.A)
		s.queries = append(s.queries, p.B)
		s.want = append(s.want, len(s.cached)-1)
	}
	s.dups = len(s.cached)
	k := 0
	for _, i := range nons {
		if k == nNeg {
			break
		}
		q := pairs[i].A
		if r.IntN(2) == 1 {
			q = pairs[i].B
		}
		if used[q] {
			continue
		}
		used[q] = true
		s.queries = append(s.queries, q)
		s.want = append(s.want, -1)
		k++
	}
	return s
}

// run finds each query's nearest cached question by exhaustive search.
func (s *evalSim) run(emb *semantic.Local, clusters *evalUnionFind) {
	cv, qv := evalEmbedAll(emb, s.cached), evalEmbedAll(emb, s.queries)
	n, dim := len(cv), emb.Dim()
	// Column-major copy of the cached vectors: a query adds x·column for
	// each of its nonzero coordinates x, skipping the zeros.
	cols := make([]float32, dim*n)
	for i, v := range cv {
		for j, x := range v {
			cols[j*n+i] = x
		}
	}
	s.best = make([]int, len(qv))
	s.score = make([]float32, len(qv))
	s.guard = make([]bool, len(qv))
	s.chain = make([]bool, len(qv))
	scratch := sync.Pool{New: func() any { return make([]float32, n) }}
	evalParallel(len(qv), func(qi int) {
		acc := scratch.Get().([]float32)
		clear(acc)
		for j, x := range qv[qi] {
			if x == 0 {
				continue
			}
			col := cols[j*n : j*n+n]
			for k := range acc {
				acc[k] += x * col[k]
			}
		}
		best, bs := 0, float32(math.Inf(-1))
		for k, v := range acc {
			if v > bs {
				best, bs = k, v
			}
		}
		scratch.Put(acc)
		s.best[qi], s.score[qi] = best, bs
		q, c := s.queries[qi], s.cached[best]
		s.guard[qi] = evalGuards(q, c)
		s.chain[qi] = best == s.want[qi] || clusters.same(q, c)
	})
}

type evalCounts struct {
	hits, raw, chain int // hits; right by the raw labels; right by chains
}

func (m evalCounts) pRaw() float64           { return evalRatio(m.raw, m.hits) }
func (m evalCounts) pChain() float64         { return evalRatio(m.chain, m.hits) }
func (m evalCounts) recall(dups int) float64 { return evalRatio(m.raw, dups) }

func (s *evalSim) at(t float32, guards bool) evalCounts {
	var m evalCounts
	for qi := range s.queries {
		if s.score[qi] < t || guards && !s.guard[qi] {
			continue
		}
		m.hits++
		if s.best[qi] == s.want[qi] {
			m.raw++
		}
		if s.chain[qi] {
			m.chain++
		}
	}
	return m
}

// smallest is the smallest threshold in [0.30, 1] in steps of 0.01 at which
// precision with guards reaches p, or +Inf.
func (s *evalSim) smallest(p float64, chains bool) float32 {
	for k := 30; k <= 100; k++ {
		t := float32(k) / 100
		m := s.at(t, true)
		prec := m.pRaw()
		if chains {
			prec = m.pChain()
		}
		if m.hits > 0 && prec >= p {
			return t
		}
	}
	return float32(math.Inf(1))
}

// evalUnionFind joins questions that Quora labels duplicates, directly or
// through chains, and questions equal up to case and punctuation.
type evalUnionFind struct{ parent map[string]string }

func (u *evalUnionFind) find(x string) string {
	root := x
	for {
		p, ok := u.parent[root]
		if !ok || p == root {
			break
		}
		root = p
	}
	for x != root {
		next := u.parent[x]
		u.parent[x] = root
		x = next
	}
	return root
}

func (u *evalUnionFind) union(a, b string) {
	if ra, rb := u.find(a), u.find(b); ra != rb {
		u.parent[ra] = rb
	}
}

// same reports whether a and b are one question. It only reads, so it is
// safe for concurrent use once flatten has run.
func (u *evalUnionFind) same(a, b string) bool {
	ra, ok := u.parent["q:"+a]
	rb, ok2 := u.parent["q:"+b]
	return ok && ok2 && ra == rb || evalCompact(a) == evalCompact(b)
}

// flatten points every element straight at its root.
func (u *evalUnionFind) flatten() {
	for x := range u.parent {
		u.find(x)
	}
}

func evalCompact(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, s)
}

func evalBuildClusters(pairs []evalPair) *evalUnionFind {
	u := &evalUnionFind{parent: make(map[string]string)}
	for _, p := range pairs {
		u.union("q:"+p.A, "k:"+evalCompact(p.A))
		u.union("q:"+p.B, "k:"+evalCompact(p.B))
		if p.Dup {
			u.union("q:"+p.A, "q:"+p.B)
		}
	}
	u.flatten()
	return u
}

// evalAUC is the ROC AUC: the probability that a random positive scores
// above a random negative, ties counting half.
func evalAUC(pos, neg []float32) float64 {
	type scored struct {
		v   float32
		pos bool
	}
	all := make([]scored, 0, len(pos)+len(neg))
	for _, v := range pos {
		all = append(all, scored{v, true})
	}
	for _, v := range neg {
		all = append(all, scored{v, false})
	}
	slices.SortFunc(all, func(a, b scored) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	var rankSum float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		rank := float64(i+j+1) / 2 // mean of ranks i+1 … j
		for k := i; k < j; k++ {
			if all[k].pos {
				rankSum += rank
			}
		}
		i = j
	}
	np, nn := float64(len(pos)), float64(len(neg))
	if np == 0 || nn == 0 {
		return math.NaN()
	}
	return (rankSum - np*(np+1)/2) / (np * nn)
}

func evalRatio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func evalF1(p, r float64) float64 {
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func evalOnOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// evalMark prints a threshold, in bold when it is the one reported at.
func evalMark(t, at float32) string {
	if math.Abs(float64(t-at)) < 1e-6 {
		return fmt.Sprintf("**%.2f**", t)
	}
	return fmt.Sprintf("%.2f", t)
}

func evalThr(t float32) string {
	if math.IsInf(float64(t), 1) {
		return "never"
	}
	return fmt.Sprintf("%.2f", t)
}

// evalUnique drops repeated thresholds (within float noise), keeping order.
func evalUnique(ts []float32) []float32 {
	var out []float32
	for _, t := range ts {
		dup := false
		for _, u := range out {
			if math.Abs(float64(t-u)) < 1e-6 {
				dup = true
			}
		}
		if !dup {
			out = append(out, t)
		}
	}
	return out
}
