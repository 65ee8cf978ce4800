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
	names := flag.String("embedders", strings.Join(evalEmbedderNames, ","), "embedders to evaluate, comma-separated: "+strings.Join(evalEmbedderNames, ", "))
	threshold := flag.Float64("threshold", 0, "cosine threshold to report at (0: each embedder's default)")
	seed := flag.Uint64("seed", 1, "random seed of the cache simulations")
	detail := flag.Bool("detail", true, "print each embedder's full tables, not only the summary")
	flag.Parse()
	if err := run(*data, strings.Split(*names, ","), float32(*threshold), *seed, *detail, os.Stdout); err != nil {
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

// evalData is everything the evaluation reads.
type evalData struct {
	dir           string
	pairs         []evalPair
	paras         []evalPara
	dev, test     []setPair
	clusters      *evalUnionFind
	sims          []*evalSim
	questions     []string // every distinct text above, to embed once
	benchQuestion []string // for ns per question
}

func run(dir string, names []string, threshold float32, seed uint64, detail bool, w io.Writer) error {
	start := time.Now()
	d, err := evalLoad(dir, seed)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "# Semantic cache evaluation\n\n")
	fmt.Fprintf(w, "Data %s: %d QQP pairs, %d LLM paraphrases; hand-written pairs bench/semantic/devset.jsonl (%d) and testset.jsonl (%d); seed %d; GOMAXPROCS %d.\n\n",
		dir, len(d.pairs), len(d.paras), len(d.dev), len(d.test), seed, runtime.GOMAXPROCS(0))
	var rows []evalSummary
	for _, name := range names {
		emb, err := evalOpenEmbedder(strings.TrimSpace(name))
		if err != nil {
			return err
		}
		t := emb.threshold
		if threshold > 0 {
			t = threshold
		}
		rows = append(rows, evalOne(w, emb, d, t, detail))
	}
	evalPrintSummary(w, rows)
	fmt.Fprintf(w, "Total time %v.\n", time.Since(start).Round(100*time.Millisecond))
	return nil
}

func evalLoad(dir string, seed uint64) (*evalData, error) {
	d := &evalData{dir: dir}
	var err error
	if d.pairs, err = evalReadJSONL[evalPair](filepath.Join(dir, "qqp_pairs.jsonl.gz")); err != nil {
		return nil, err
	}
	if d.paras, err = evalReadJSONL[evalPara](filepath.Join(dir, "llm_paraphrases.jsonl")); err != nil {
		return nil, err
	}
	here := evalHere()
	if d.dev, err = readPairSet(filepath.Join(here, "devset.jsonl")); err != nil {
		return nil, err
	}
	if d.test, err = readPairSet(filepath.Join(here, "testset.jsonl")); err != nil {
		return nil, err
	}
	d.clusters = evalBuildClusters(d.pairs)
	d.sims = []*evalSim{evalBuildSim(d.pairs, 300, 700, seed), evalBuildSim(d.pairs, 5000, 10000, seed)}
	seen := map[string]bool{}
	add := func(ss ...string) {
		for _, s := range ss {
			if !seen[s] {
				seen[s] = true
				d.questions = append(d.questions, s)
			}
		}
	}
	for _, p := range d.pairs {
		add(p.A, p.B)
	}
	for _, p := range d.paras {
		add(p.Origin, p.Similar)
	}
	for _, p := range append(slices.Clone(d.dev), d.test...) {
		add(p.A, p.B)
	}
	for _, p := range d.pairs[:min(len(d.pairs), 2000)] {
		d.benchQuestion = append(d.benchQuestion, p.A)
	}
	return d, nil
}

// evalHere is bench/semantic's folder, whether run from the repository
// root (go run ./bench/semantic) or from the folder (go test).
func evalHere() string {
	if _, err := os.Stat("devset.jsonl"); err == nil {
		return "."
	}
	return filepath.Join("bench", "semantic")
}

// evalOne evaluates one embedder at threshold and returns its summary row.
func evalOne(w io.Writer, emb *evalEmbedder, d *evalData, threshold float32, detail bool) evalSummary {
	row := evalSummary{name: emb.name, threshold: threshold, bytes: 4 * emb.Dim()}
	row.nsShort, row.nsBatched = evalSpeed(emb, d.benchQuestion)
	t0 := time.Now()
	emb.memoize(d.questions)
	embedTime := time.Since(t0)
	out := w
	if !detail {
		out = io.Discard
	}
	fmt.Fprintf(out, "## Embedder %s\n\n", emb.name)
	fmt.Fprintf(out, "%s. %d dimensions (%d bytes a cached vector). Threshold %.2f. Embedded %d distinct texts in %v on %d cores. One question on one core: %v (batched, per question, all cores busy: %v of CPU).\n\n",
		emb.about, emb.Dim(), 4*emb.Dim(), threshold, len(d.questions), embedTime.Round(100*time.Millisecond), runtime.GOMAXPROCS(0), row.nsShort, row.nsBatched)

	// Pair classification.
	pc := evalPairs(emb, d.pairs)
	row.auc = evalAUC(pc.pos, pc.neg)
	fmt.Fprintf(out, "### Pair classification (all %d QQP pairs: %d duplicates)\n\n", len(d.pairs), pc.dups)
	fmt.Fprintf(out, "ROC AUC of cos(a, b): **%.4f**\n\n", row.auc)
	fmt.Fprintln(out, "| threshold | guards | predicted duplicate | precision | recall | F1 |")
	fmt.Fprintln(out, "|---|---|---:|---:|---:|---:|")
	for _, t := range evalUnique([]float32{0.5, 0.6, 0.7, threshold, 0.9}) {
		for _, g := range []bool{false, true} {
			tp, fp := pc.at(t, g)
			p, r := evalRatio(tp, tp+fp), evalRatio(tp, pc.dups)
			fmt.Fprintf(out, "| %s | %s | %d | %.3f | %.3f | %.3f |\n", evalMark(t, threshold), evalOnOff(g), tp+fp, p, r, evalF1(p, r))
		}
	}
	fmt.Fprintln(out)

	row.llmHit = evalParaphrases(out, emb, d.paras, threshold)

	for _, s := range d.sims {
		s.run(emb, d.clusters)
	}
	fmt.Fprintf(out, "### Cache simulation (GPTCache protocol)\n\n")
	fmt.Fprintln(out, "Cache the `a` of N duplicate pairs; query with their `b` (should hit their own `a`) and with M questions from non-duplicate pairs (should miss).")
	fmt.Fprintln(out, "Precision \"raw\": the hit returned the query's own labelled pair; \"chains\": or a question Quora's duplicate labels join to it through a chain of pairs, or one equal up to case and punctuation. Recall is raw.")
	fmt.Fprintln(out)
	fmt.Fprintf(out, "At threshold %.2f:\n\n", threshold)
	fmt.Fprintln(out, "| simulation | guards | hits | precision (raw) | precision (chains) | recall | F1 (raw) | F1 (chains) | vetoed right / wrong (chains) |")
	fmt.Fprintln(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|")
	for i, s := range d.sims {
		for _, g := range []bool{false, true} {
			m := s.at(threshold, g)
			veto := ""
			if g {
				off := s.at(threshold, false)
				veto = fmt.Sprintf("%d / %d", off.chain-m.chain, (off.hits-off.chain)-(m.hits-m.chain))
				row.sim[i] = [3]float64{m.pRaw(), m.pChain(), m.recall(s.dups)}
			}
			fmt.Fprintf(out, "| %s | %s | %d | %.3f | %.3f | %.3f | %.3f | %.3f | %s |\n",
				s.name, evalOnOff(g), m.hits, m.pRaw(), m.pChain(), m.recall(s.dups), evalF1(m.pRaw(), m.recall(s.dups)), evalF1(m.pChain(), m.recall(s.dups)), veto)
		}
	}
	fmt.Fprintln(out)

	// The hand-written pairs.
	dev, test := evalSetScores(emb, d.dev), evalSetScores(emb, d.test)
	fmt.Fprintf(out, "### Hand-written pairs (bench/semantic/DATASET.md)\n\n")
	fmt.Fprintln(out, "A pair hits when cos ≥ threshold (and, with guards, neither question is too short and no guard vetoes). Paraphrases should hit; one-word contrasts should not.")
	fmt.Fprintln(out)
	fmt.Fprintln(out, "| set | guards | paraphrases hit | contrasts hit |")
	fmt.Fprintln(out, "|---|---|---:|---:|")
	for _, set := range []struct {
		name string
		sc   *evalSetScore
		dst  *[2]float64
	}{{"dev", dev, &row.dev}, {"test", test, &row.test}} {
		for _, g := range []bool{false, true} {
			para, contrast := set.sc.at(threshold, g)
			fmt.Fprintf(out, "| %s | %s | %.1f%% | %.1f%% |\n", set.name, evalOnOff(g), 100*para, 100*contrast)
			if g {
				*set.dst = [2]float64{para, contrast}
			}
		}
	}
	fmt.Fprintln(out)
	evalGuardEffects(out, pc, d.pairs, dev, threshold)

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
	fmt.Fprintf(out, "### Threshold sweep, guards on\n\n")
	fmt.Fprintln(out, "| threshold | 300/1000 precision (raw) | recall | 5000/15000 precision (raw) | precision (chains) | recall | dev paraphrases hit | dev contrasts hit |")
	fmt.Fprintln(out, "|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, t := range grid {
		a, b := d.sims[0].at(t, true), d.sims[1].at(t, true)
		para, contrast := dev.at(t, true)
		fmt.Fprintf(out, "| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.1f%% | %.1f%% |\n", evalMark(t, threshold),
			a.pRaw(), a.recall(d.sims[0].dups), b.pRaw(), b.pChain(), b.recall(d.sims[1].dups), 100*para, 100*contrast)
	}
	fmt.Fprintln(out)
	// The rule for a default threshold: the smallest (steps of 0.01) at
	// which, with guards, the small simulation's raw precision reaches 0.9
	// and at most 5% of the dev set's contrasts hit.
	row.suggest = 1
	for t := float32(0.50); t <= 0.99; t += 0.01 {
		a := d.sims[0].at(t, true)
		_, contrast := dev.at(t, true)
		if a.pRaw() >= 0.9 && contrast <= 0.05 {
			row.suggest = t
			break
		}
	}
	fmt.Fprintf(out, "Smallest threshold at which, guards on, the 300/1000 simulation's raw precision reaches 0.90 and at most 5%% of the dev set's contrasts hit: **%.2f** (reported at %.2f).\n\n", row.suggest, threshold)
	return row
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

func evalEmbedAll(emb *evalEmbedder, texts []string) [][]float32 {
	out := make([][]float32, len(texts))
	evalParallel(len(texts), func(i int) { out[i] = emb.EmbedOne(texts[i]) })
	return out
}

// evalGuards reports whether the guards let a and b match.
func evalGuards(a, b string) bool { return evalVeto(a, b) == semantic.GuardNone }

type evalPairScores struct {
	cos   []float32
	dup   []bool
	guard []bool
	veto  []semantic.Guard
	pos   []float32
	neg   []float32
	dups  int
}

func evalPairs(emb *evalEmbedder, pairs []evalPair) *evalPairScores {
	pc := &evalPairScores{cos: make([]float32, len(pairs)), dup: make([]bool, len(pairs)), guard: make([]bool, len(pairs)), veto: make([]semantic.Guard, len(pairs))}
	evalParallel(len(pairs), func(i int) {
		p := pairs[i]
		pc.cos[i] = semantic.Dot(emb.EmbedOne(p.A), emb.EmbedOne(p.B))
		pc.dup[i] = p.Dup
		pc.veto[i] = evalVeto(p.A, p.B)
		pc.guard[i] = pc.veto[i] == semantic.GuardNone
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

// evalParaphrases prints the LLM paraphrase tables and returns the share
// of paraphrases that hit their own origin at threshold, guards on.
func evalParaphrases(w io.Writer, emb *evalEmbedder, paras []evalPara, threshold float32) (hitRate float64) {
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
			if t == threshold && g {
				hitRate = evalRatio(right, n)
			}
		}
	}
	fmt.Fprintln(w)
	return hitRate
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
func (s *evalSim) run(emb *evalEmbedder, clusters *evalUnionFind) {
	cv, qv := evalEmbedAll(emb, s.cached), evalEmbedAll(emb, s.queries)
	s.best = make([]int, len(qv))
	s.score = make([]float32, len(qv))
	s.guard = make([]bool, len(qv))
	s.chain = make([]bool, len(qv))
	evalParallel(len(qv), func(qi int) {
		best, bs := 0, float32(math.Inf(-1))
		for k, c := range cv {
			if v := semantic.Dot(qv[qi], c); v > bs {
				best, bs = k, v
			}
		}
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
