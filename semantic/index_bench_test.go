package semantic

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// Benchmarks and the latency report for the vector index.
//
//	go test -run '^$' -bench 'Search|Dot' ./semantic
//	RAGPROXY_INDEX_REPORT=1 go test -run TestLatencyReport -v -timeout 30m ./semantic

var benchIndexes = struct {
	sync.Mutex
	m map[string]*benchIndex
}{m: map[string]*benchIndex{}}

type benchIndex struct {
	ix *Index
	qs [][]float32
}

// getBenchIndex returns a filled, trained index of n clustered vectors
// (1,000 centres) and queries, built once per process.
func getBenchIndex(tb testing.TB, n, dim int, f32 bool) *benchIndex {
	key := fmt.Sprint(n, dim, f32)
	benchIndexes.Lock()
	defer benchIndexes.Unlock()
	if bi := benchIndexes.m[key]; bi != nil {
		return bi
	}
	c := idxClustered(uint64(n+dim), n, dim, 1000)
	ix := NewIndexWithOptions(dim, IndexOptions{Float32: f32})
	c.fill(ix)
	ix.builds.Wait()
	qs, _ := c.queries(99, 1000)
	bi := &benchIndex{ix: ix, qs: qs}
	benchIndexes.m[key] = bi
	return bi
}

func BenchmarkSearch(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		for _, f32 := range []bool{false, true} {
			name := fmt.Sprintf("n=%d/dim=256/%s", n, map[bool]string{false: "int8", true: "float32"}[f32])
			b.Run(name, func(b *testing.B) {
				bi := getBenchIndex(b, n, 256, f32)
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					bi.ix.Search(bi.qs[i%len(bi.qs)])
				}
			})
		}
	}
}

// BenchmarkSearchExact is the full scan at 100k, for comparison with the
// IVF search.
func BenchmarkSearchExact(b *testing.B) {
	bi := getBenchIndex(b, 100_000, 256, false)
	b.ResetTimer()
	for i := range b.N {
		bi.ix.exact(bi.qs[i%len(bi.qs)])
	}
}

func BenchmarkAdd(b *testing.B) {
	c := idxClustered(1, 10_000, 256, 100)
	ix := NewIndex(256)
	b.ResetTimer()
	for i := range b.N {
		ix.Add(uint64(i), c.vecs[i%len(c.vecs)])
	}
}

func BenchmarkDot(b *testing.B) {
	const dim, rows = 256, 4096
	data := make([]float32, rows*dim)
	codes := make([]int8, rows*dim)
	for i := range data {
		data[i], codes[i] = float32(i%7)/7, int8(i%7)
	}
	q := data[:dim]
	var sink float32
	f32 := map[string]func(a, b []float32) float32{"f32/simd": dotF32, "f32/go": dotUnrolled}
	i8 := map[string]func(q []float32, c []int8) float32{"int8/simd": dotI8, "int8/go": dotI8Unrolled}
	for name, f := range f32 {
		b.Run(name, func(b *testing.B) {
			for i := range b.N {
				sink += f(q, data[(i%rows)*dim:])
			}
		})
	}
	for name, f := range i8 {
		b.Run(name, func(b *testing.B) {
			for i := range b.N {
				sink += f(q, codes[(i%rows)*dim:])
			}
		})
	}
	out := make([]float32, 128)
	dots := map[string]func(){
		"f32x128/simd":  func() { dotsF32(q, data, out) },
		"f32x128/go":    func() { dotsUnrolled(q, data, out) },
		"int8x128/simd": func() { dotsI8(q, codes, out) },
		"int8x128/go":   func() { dotsI8Unrolled(q, codes, out) },
	}
	for name, f := range dots {
		b.Run(name, func(b *testing.B) {
			for range b.N {
				f()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(out)), "ns/vector")
		})
	}
	_ = sink
}

func idxPercentile(d []time.Duration, p float64) time.Duration {
	return d[min(len(d)-1, int(p*float64(len(d))))]
}

// searchLatencies times each query alone.
func idxSearchLatencies(ix *Index, qs [][]float32) []time.Duration {
	lat := make([]time.Duration, len(qs))
	for i, q := range qs {
		t := time.Now()
		ix.Search(q)
		lat[i] = time.Since(t)
	}
	slices.Sort(lat)
	return lat
}

func idxHeapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestLatencyReport prints, per size, vector length and storage: search
// latency p50/p99 over 10k queries (70% paraphrases of stored entries,
// 15% new questions on known topics, 15% unrelated), recall@1 against the
// exact scan, bytes per entry (MemoryBytes and the Go heap), and the time
// to fill and train. Also the pure-Go kernels' latency, latency under
// concurrent Adds and during a retraining. Only with RAGPROXY_INDEX_REPORT=1.
func TestLatencyReport(t *testing.T) {
	if os.Getenv("RAGPROXY_INDEX_REPORT") != "1" {
		t.Skip("set RAGPROXY_INDEX_REPORT=1")
	}
	t.Logf("GOMAXPROCS=%d, SIMD kernels: %v", runtime.GOMAXPROCS(0), simdOn)
	for _, dim := range []int{256, 384, 512} {
		for _, n := range []int{10_000, 100_000} {
			c := idxClustered(uint64(n+dim), n, dim, 1000)
			qs, kinds := c.queries(uint64(dim), 10_000)
			var exactIDs [2][]uint64 // the exact scan's answers, int8 and float32
			for _, f32 := range []bool{false, true} {
				storage := map[bool]string{false: "int8", true: "float32"}[f32]
				before := idxHeapInUse()
				ix := NewIndexWithOptions(dim, IndexOptions{Float32: f32})
				start := time.Now()
				c.fill(ix)
				fill := time.Since(start)
				ix.builds.Wait()
				ready := time.Since(start)
				heapPer := float64(idxHeapInUse()-before) / float64(n)
				memPer := float64(ix.MemoryBytes()) / float64(n)

				idxSearchLatencies(ix, qs[:1000]) // warm up
				lat := idxSearchLatencies(ix, qs)
				mode := "exact"
				if ix.cent != nil {
					mode = fmt.Sprintf("ivf nlist=%d nprobe=%d", len(ix.buckets), ix.probes(len(ix.buckets)))
				}
				t.Logf("dim=%d n=%d %s (%s): p50 %v p99 %v max %v | MemoryBytes %.0f B/entry, heap %.0f B/entry | fill %v, trained %v",
					dim, n, storage, mode, idxPercentile(lat, 0.5), idxPercentile(lat, 0.99), lat[len(lat)-1], memPer, heapPer,
					fill.Round(time.Millisecond), ready.Round(time.Millisecond))
				if ix.cent != nil {
					recall, agree := ivfRecall(ix, qs[:2000], kinds[:2000], 0.8)
					t.Logf("    recall@1 vs exact: paraphrase %.4f, topic %.4f, random %.4f; hit/miss agreement at 0.8: %.4f",
						recall[qParaphrase], recall[qTopic], recall[qRandom], agree)
				}
				st := 0
				if f32 {
					st = 1
				}
				for _, q := range qs[:2000] {
					id, _, _ := ix.exact(q)
					exactIDs[st] = append(exactIDs[st], id)
				}
				if f32 {
					var same, cnt [3]int
					for i, id := range exactIDs[0] {
						cnt[kinds[i]]++
						if id == exactIDs[1][i] {
							same[kinds[i]]++
						}
					}
					t.Logf("    int8 vs float32 (exact scans) recall@1: paraphrase %.4f, topic %.4f, random %.4f, all %.4f",
						float64(same[0])/float64(cnt[0]), float64(same[1])/float64(cnt[1]), float64(same[2])/float64(cnt[2]),
						float64(same[0]+same[1]+same[2])/float64(len(exactIDs[0])))
				}
				if dim == 256 && !f32 {
					if simdOn {
						f1, f2, f3, f4 := dotF32, dotI8, dotsF32, dotsI8
						usePureGo()
						lat := idxSearchLatencies(ix, qs)
						dotF32, dotI8, dotsF32, dotsI8, simdOn = f1, f2, f3, f4, true
						t.Logf("    pure Go kernels: p50 %v p99 %v", idxPercentile(lat, 0.5), idxPercentile(lat, 0.99))
					}
					if n == 100_000 {
						reportUnderLoad(t, ix, c, qs)
					}
				}
				ix = nil
				runtime.GC()
			}
		}
	}
}

// reportUnderLoad measures searches while another goroutine adds entries
// (10k/s), and while the IVF index retrains.
func reportUnderLoad(t *testing.T, ix *Index, c *idxCorpus, qs [][]float32) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		id := uint64(1 << 40)
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				for range 10 {
					id++
					ix.Add(id, c.vecs[id%uint64(len(c.vecs))])
				}
			}
		}
	}()
	lat := idxSearchLatencies(ix, qs)
	close(stop)
	<-done
	t.Logf("    with 10k Adds/s alongside: p50 %v p99 %v max %v", idxPercentile(lat, 0.5), idxPercentile(lat, 0.99), lat[len(lat)-1])

	// Force a retraining and search until it is installed.
	ix.mu.Lock()
	ix.addsSince = 2 * ix.trainedN
	ix.mu.Unlock()
	start := time.Now()
	ix.Add(1<<41, c.vecs[0])
	var during []time.Duration
	for {
		ix.mu.RLock()
		building := ix.build != nil
		ix.mu.RUnlock()
		if !building {
			break
		}
		q := qs[len(during)%len(qs)]
		t0 := time.Now()
		ix.Search(q)
		during = append(during, time.Since(t0))
	}
	ix.builds.Wait()
	slices.Sort(during)
	if len(during) > 0 {
		t.Logf("    during a retraining (%v, %d searches): p50 %v p99 %v max %v", time.Since(start).Round(time.Millisecond),
			len(during), idxPercentile(during, 0.5), idxPercentile(during, 0.99), during[len(during)-1])
	}
}
