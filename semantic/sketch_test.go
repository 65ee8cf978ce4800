package semantic

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// A pair at the threshold is within the cut: over 108,000 random pairs of
// unit vectors at cosine exactly minScore, dense and sparse (the local
// embedder's vectors have a few dozen non-zero dimensions), none is cut,
// and the mean distance is the angle's (θ/π of the bits).
func TestSketchCutHolds(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, dim := range []int{96, 384, 1536} {
		sk := sketcherFor(dim)
		for _, minScore := range []float32{0.5, 0.81, 0.9} {
			cut := sketchCut(minScore)
			p := math.Acos(float64(minScore)) / math.Pi
			var sum, worst int
			const pairs = 6000
			for i := range pairs {
				a := idxUnit(r, dim)
				if i%2 == 1 { // sparse: 24 non-zero dimensions
					for j := range a {
						if r.IntN(dim) >= 24 {
							a[j] = 0
						}
					}
					if !normalizeInto(a, a) {
						continue
					}
				}
				b := idxNear(r, a, float64(minScore))
				var sa, sb sketch
				sk.sketch(&sa, a)
				sk.sketch(&sb, b)
				h := 0
				for w := range sa {
					h += bits.OnesCount64(sa[w] ^ sb[w])
				}
				sum += h
				worst = max(worst, h)
			}
			mean := float64(sum) / pairs
			if worst > cut {
				t.Errorf("dim %d, cosine %v: a pair at distance %d, over the cut %d", dim, minScore, worst, cut)
			}
			if want := p * sketchBits; math.Abs(mean-want) > 0.1*want+1 {
				t.Errorf("dim %d, cosine %v: mean distance %.1f, want about %.1f", dim, minScore, mean, want)
			}
			t.Logf("dim %d, cosine %v: mean %.1f (θ/π: %.1f), worst %d, cut %d", dim, minScore, mean, p*sketchBits, worst, cut)
		}
	}
	if sketchCut(0) != sketchBits || sketchCut(float32(math.NaN())) != sketchBits || sketchCut(-1) != sketchBits {
		t.Error("a minScore at or below 0 must cut nothing")
	}
}

// The kernel and the pure-Go loop agree.
func TestHammingKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, n := range []int{0, 1, 7, 128} {
		var q sketch
		for i := range q {
			q[i] = r.Uint64()
		}
		rows := make([]uint64, n*sketchWords+3)
		for i := range rows {
			rows[i] = r.Uint64()
		}
		got, want := make([]int32, n), make([]int32, n)
		hammings(&q, rows, got)
		for i := range want {
			for w := range q {
				want[i] += int32(bits.OnesCount64(q[w] ^ rows[i*sketchWords+w]))
			}
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("n=%d row %d: %d, want %d (SIMD %v)", n, i, got[i], want[i], simdOn)
			}
		}
		goOut := make([]int32, n)
		hammingsGo(&q, rows, goOut)
		for i := range want {
			if goOut[i] != want[i] {
				t.Fatalf("n=%d row %d: pure Go %d, want %d", n, i, goOut[i], want[i])
			}
		}
	}
}

// SearchAtLeast finds what the exact scan finds whenever that scores
// minScore or more, flat and IVF, and never returns an entry the exact
// scan would not score as it says.
func TestSearchAtLeastMatchesExact(t *testing.T) {
	const dim, n, minScore = 128, 6000, 0.8
	c := idxClustered(11, n, dim, 200)
	for _, ann := range []int{-1, 2000} {
		ix := NewIndexWithOptions(dim, IndexOptions{ANNMinEntries: ann})
		ix.syncBuild = true
		c.fill(ix)
		ix.trainNow()
		if ann > 0 && ix.cent == nil {
			t.Fatal("no IVF index")
		}
		qs, _ := c.queries(5, 2000)
		var truth, found int
		for _, q := range qs {
			eid, es, _ := ix.exact(q)
			id, s, ok := ix.SearchAtLeast(q, minScore)
			if ok {
				if want := Dot(q, ix.vector(id)) / vecNorm(q); math.Abs(float64(s-want)) > 0.01 {
					t.Fatalf("score %v for entry %d, whose vector scores %v", s, id, want)
				}
			}
			if es >= minScore {
				truth++
				if ok && s >= minScore {
					found++
				}
				if ann < 0 && (id != eid || s != es) {
					t.Fatalf("flat: found %d (%v), the exact scan %d (%v)", id, s, eid, es)
				}
			}
		}
		if truth < 500 || ann > 0 && float64(found) < 0.95*float64(truth) {
			t.Errorf("ann %d: found %d of %d", ann, found, truth)
		}
		t.Logf("ann %d: recall@%v %d/%d", ann, minScore, found, truth)
	}
}

// vector returns id's stored vector (dequantised).
func (ix *Index) vector(id uint64) []float32 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	e := ix.byID[id]
	v := make([]float32, ix.dim)
	ix.buckets[ix.bucketOf[e]].vecInto(v, int(ix.posOf[e]))
	return v
}
