package semantic

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// qqpData is the Quora Question Pairs file of the evaluation data, beside
// the project (see ../shared/data/README.md).
const qqpData = "../../shared/data/semantic/qqp_pairs.jsonl.gz"

type qqpSet struct {
	dupA, dupB []string // duplicate pairs
	others     []string // every other distinct question
}

var qqpOnce = sync.OnceValues(func() (*qqpSet, error) {
	path := qqpData
	if p := os.Getenv("RAGPROXY_QQP"); p != "" {
		path = p
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	s := &qqpSet{}
	seen := map[string]bool{}
	sc := bufio.NewScanner(z)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var p struct {
			A, B      string
			Duplicate bool
		}
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			return nil, err
		}
		if seen[p.A] || seen[p.B] || p.A == p.B {
			continue
		}
		seen[p.A], seen[p.B] = true, true
		if p.Duplicate {
			s.dupA, s.dupB = append(s.dupA, p.A), append(s.dupB, p.B)
		} else {
			s.others = append(s.others, p.A, p.B)
		}
	}
	return s, sc.Err()
})

// TestScaleReport prints, for Quora questions embedded by Local at 1k,
// 10k, 30k and 100k entries (half of them one side of a duplicate pair,
// queried by the other side; half other questions), the search's
// recall@threshold (of the queries whose exact best scores at least the
// threshold, the fraction for which the search finds an entry that does)
// and a miss's CPU time (2,000 questions not in the index; the thread's
// CPU time, so that a loaded machine's other work does not count), for
// the index as it was (IVF from 20k entries, every vector scored), flat
// with the sketch, and as it is. Only with RAGPROXY_SCALE_REPORT=1 (the
// data: ../shared/data beside the project, or the absolute path in
// RAGPROXY_QQP).
//
//	RAGPROXY_SCALE_REPORT=1 go test -run TestScaleReport -v -timeout 30m ./semantic
func TestScaleReport(t *testing.T) {
	if os.Getenv("RAGPROXY_SCALE_REPORT") != "1" {
		t.Skip("set RAGPROXY_SCALE_REPORT=1")
	}
	s, err := qqpOnce()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("qqp: %d duplicate pairs, %d other questions", len(s.dupA), len(s.others))
	l := NewLocal(0)
	const th = DefaultLocalThreshold
	for _, n := range []int{1000, 10_000, 30_000, 100_000} {
		// Half the entries the a side of duplicates (queried by b), half others.
		nd := min(n/2, len(s.dupA))
		r := rand.New(rand.NewPCG(uint64(n), 1))
		perm := r.Perm(len(s.dupA))[:nd]
		stored := make([]string, 0, n)
		var qs []string
		for i, j := range perm {
			stored = append(stored, s.dupA[j])
			if i < 2000 {
				qs = append(qs, s.dupB[j])
			}
		}
		op := r.Perm(len(s.others))
		stored = append(stored, slicesPick(s.others, op[:n-nd])...)
		missQs := slicesPick(s.others, op[n-nd:n-nd+2000])
		qs = append(qs, missQs...)
		qv := make([][]float32, len(qs))
		for i, q := range qs {
			qv[i] = l.EmbedOne(q)
		}
		for _, cfg := range scaleConfigs() {
			ix := NewIndexWithOptions(l.Dim(), cfg.o)
			ix.syncBuild = true
			for i, q := range stored {
				ix.Add(uint64(i+1), l.EmbedOne(q))
			}
			ix.trainNow()
			search := func(q []float32) (uint64, float32, bool) {
				if cfg.sketch {
					return ix.SearchAtLeast(q, th)
				}
				return ix.Search(q)
			}
			var truth, found, same int
			for _, q := range qv {
				eid, es, _ := ix.exact(q)
				id, sc, _ := search(q)
				if es >= th {
					truth++
					if sc >= th {
						found++
					}
					if id == eid {
						same++
					}
				}
			}
			missQv := qv[len(qv)-len(missQs):]
			runtime.LockOSThread()
			for _, q := range missQv[:200] { // warm up
				search(q)
			}
			c0 := threadCPU()
			for _, q := range missQv {
				search(q)
			}
			cpu := (threadCPU() - c0) / time.Duration(len(missQv))
			runtime.UnlockOSThread()
			mode := "flat"
			if ix.cent != nil {
				mode = fmt.Sprintf("ivf nlist=%d nprobe=%d", len(ix.buckets), ix.probes(len(ix.buckets)))
			}
			t.Logf("n=%d %s [%s]: recall@%.2f %.4f (%d/%d), same entry %.4f | a miss: %v CPU",
				n, cfg.name, mode, th, float64(found)/float64(truth), found, truth, float64(same)/float64(truth), cpu)
		}
	}
}

type scaleConfig struct {
	name   string
	o      IndexOptions
	sketch bool // SearchAtLeast (the sketch's cut) rather than Search
}

func scaleConfigs() []scaleConfig {
	return []scaleConfig{
		{"before (IVF from 20k, no sketch)", IndexOptions{ANNMinEntries: 20000}, false},
		{"flat + sketch", IndexOptions{ANNMinEntries: -1}, true},
		{"default (IVF from 4096, sketch)", IndexOptions{}, true},
	}
}

func slicesPick(s []string, idx []int) []string {
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = s[j]
	}
	return slices.Clip(out)
}

// BenchmarkSearchQuora: a miss's SearchAtLeast at the Local threshold
// over 30k Quora questions, exact (flat) and IVF.
func BenchmarkSearchQuora(b *testing.B) {
	s, err := qqpOnce()
	if err != nil {
		b.Skip(err)
	}
	l := NewLocal(0)
	for _, ann := range []int{-1, 0} {
		ix := NewIndexWithOptions(384, IndexOptions{ANNMinEntries: ann})
		ix.syncBuild = true
		for i := range 30000 {
			ix.Add(uint64(i+1), l.EmbedOne(s.others[i]))
		}
		qs := make([][]float32, 100)
		for i := range qs {
			qs[i] = l.EmbedOne(s.others[80000+i])
		}
		b.Run(fmt.Sprintf("n=30000/ann=%d", ann), func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			c0 := threadCPU()
			for i := range b.N {
				ix.SearchAtLeast(qs[i%len(qs)], DefaultLocalThreshold)
			}
			b.ReportMetric(float64(threadCPU()-c0)/float64(b.N), "cpu-ns/op")
		})
	}
}
