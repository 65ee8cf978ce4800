package semantic

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"sync"
)

// A sketch is 256 bits per vector that let a search pass over the vectors
// that cannot score near the threshold for a nanosecond or two each,
// instead of a dot product over every dimension: the signs of 256 rows,
// chosen at random, of two rounds of a randomised Hadamard transform of
// the vector (random signs, then the Walsh-Hadamard transform: SimHash
// with pseudo-random hyperplanes, in O(d log d); one round leaves the
// outputs of a sparse vector correlated, and the distances of pairs more
// spread than the cut allows). Two vectors at angle θ differ in about a
// fraction θ/π of the bits, so the Hamming distance estimates the angle;
// a search scores exactly only the vectors whose distance to the query is
// within a cut well above the threshold's angle (sketchCut). The sketch
// only ever drops candidates: every match is still decided by its exact
// score against the threshold, and the guards.

const (
	sketchWords = 4
	sketchBits  = 64 * sketchWords
)

// sketchZ is how many standard deviations above its expected Hamming
// distance a pair at the threshold may be and still be scored. The
// distance of a pair at angle θ is about binomial(256, θ/π); at 5
// standard deviations a pair at the threshold is lost less than once in
// a million searches (TestSketchCutHolds: random pairs, dense and sparse,
// have the binomial's mean and spread; on Quora questions embedded by
// Local the search found every true hit at 1k to 100k entries, see
// TestScaleReport).
const sketchZ = 5

// sketch is one vector's sketch.
type sketch = [sketchWords]uint64

// sketcher computes the sketches of vectors of one length.
type sketcher struct {
	dim, pad int       // vector length, and the transform's (a power of 2)
	signs    []float32 // 2×pad random ±1: one diagonal a round
	rows     [sketchBits]uint16
	scratch  sync.Pool // *[]float32 of pad
}

var sketchers sync.Map // dim → *sketcher

// sketcherFor returns the sketcher of vectors of length dim, shared: the
// signs and rows are fixed, seeded by the length.
func sketcherFor(dim int) *sketcher {
	if s, ok := sketchers.Load(dim); ok {
		return s.(*sketcher)
	}
	pad := sketchBits
	for pad < dim {
		pad *= 2
	}
	s := &sketcher{dim: dim, pad: pad}
	r := rand.New(rand.NewPCG(uint64(dim), 0x5ce7c4))
	s.signs = make([]float32, 2*pad)
	for i := range s.signs {
		s.signs[i] = float32(1 - 2*int(r.Uint32()&1))
	}
	for i, row := range r.Perm(pad)[:sketchBits] {
		s.rows[i] = uint16(row)
	}
	s.scratch.New = func() any { b := make([]float32, pad); return &b }
	got, _ := sketchers.LoadOrStore(dim, s)
	return got.(*sketcher)
}

// sketch writes v's sketch into dst (v of length s.dim; its length does
// not matter).
func (s *sketcher) sketch(dst *sketch, v []float32) {
	bp := s.scratch.Get().(*[]float32)
	x := *bp
	for i, f := range v[:s.dim] {
		x[i] = f * s.signs[i]
	}
	clear(x[s.dim:])
	fwht(x)
	for i, sg := range s.signs[s.pad:] {
		x[i] *= sg
	}
	fwht(x)
	for w := range dst {
		var bits uint64
		for i, row := range s.rows[w*64 : w*64+64] {
			bits |= uint64(math.Float32bits(x[row])>>31) << i // the sign, without a branch
		}
		dst[w] = bits
	}
	s.scratch.Put(bp)
}

// fwht is the unnormalised fast Walsh-Hadamard transform of x, in place
// (len(x) a power of 2, at least 8): the first three rounds as one 8-point
// transform per group of 8, the rest by halves.
func fwht(x []float32) {
	n := len(x)
	for i := 0; i+8 <= n; i += 8 {
		v := x[i : i+8 : i+8]
		a0, a1 := v[0]+v[1], v[0]-v[1]
		a2, a3 := v[2]+v[3], v[2]-v[3]
		a4, a5 := v[4]+v[5], v[4]-v[5]
		a6, a7 := v[6]+v[7], v[6]-v[7]
		b0, b1, b2, b3 := a0+a2, a1+a3, a0-a2, a1-a3
		b4, b5, b6, b7 := a4+a6, a5+a7, a4-a6, a5-a7
		v[0], v[1], v[2], v[3] = b0+b4, b1+b5, b2+b6, b3+b7
		v[4], v[5], v[6], v[7] = b0-b4, b1-b5, b2-b6, b3-b7
	}
	for h := 8; h < n; h *= 2 {
		for i := 0; i < n; i += 2 * h {
			a, b := x[i:i+h:i+h], x[i+h:i+2*h:i+2*h]
			for j := range a {
				u, v := a[j], b[j]
				a[j], b[j] = u+v, u-v
			}
		}
	}
}

// sketchCut is the largest Hamming distance at which a vector may still
// score minScore against the query: the distance expected at the angle of
// minScore plus sketchZ standard deviations, plus one. A minScore at or
// below 0 (or NaN) cuts nothing (sketchBits).
func sketchCut(minScore float32) int {
	if !(minScore > 0) {
		return sketchBits
	}
	p := math.Acos(min(float64(minScore), 1)) / math.Pi
	c := sketchBits*p + sketchZ*math.Sqrt(sketchBits*p*(1-p)) + 1
	return min(int(math.Ceil(c)), sketchBits)
}

// hammingsGo is the pure-Go hammings: out[i] is the Hamming distance
// between q and row i of sk.
func hammingsGo(q *sketch, sk []uint64, out []int32) {
	sk = sk[:len(out)*sketchWords]
	q0, q1, q2, q3 := q[0], q[1], q[2], q[3]
	for i := range out {
		r := sk[i*sketchWords : i*sketchWords+4 : i*sketchWords+4]
		out[i] = int32(bits.OnesCount64(q0^r[0]) + bits.OnesCount64(q1^r[1]) +
			bits.OnesCount64(q2^r[2]) + bits.OnesCount64(q3^r[3]))
	}
}
