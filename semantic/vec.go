package semantic

import "math"

// Vector kernels for the index. dotF32 and dotI8 point at the fastest
// implementation for this CPU: AVX2+FMA assembly on amd64 (vec_amd64.s),
// the unrolled pure-Go loops below everywhere else or with -tags purego.
// dotsF32 and dotsI8 score one query against consecutive vectors (out[i]
// = q · row i), saving a call per vector.
var (
	dotF32   = dotUnrolled
	dotI8    = dotI8Unrolled
	dotsF32  = dotsUnrolled
	dotsI8   = dotsI8Unrolled
	hammings = hammingsGo
	simdOn   = false // whether the kernels are the assembly ones
)

// usePureGo switches to the pure-Go kernels (tests and benchmarks compare
// the two).
func usePureGo() {
	dotF32, dotI8, dotsF32, dotsI8, simdOn = dotUnrolled, dotI8Unrolled, dotsUnrolled, dotsI8Unrolled, false
	hammings = hammingsGo
}

func dotsUnrolled(q, data, out []float32) {
	d := len(q)
	_ = data[:len(out)*d]
	for i := range out {
		out[i] = dotUnrolled(q, data[i*d:(i+1)*d])
	}
}

func dotsI8Unrolled(q []float32, codes []int8, out []float32) {
	d := len(q)
	_ = codes[:len(out)*d]
	for i := range out {
		out[i] = dotI8Unrolled(q, codes[i*d:(i+1)*d])
	}
}

// i8f32 maps an int8 code (as a byte) to its float32 value: a table load
// is cheaper than a conversion in the pure-Go loop.
var i8f32 = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(int8(uint8(i)))
	}
	return t
}()

// dotUnrolled is the dot product of a and b[:len(a)], eight elements a step
// into four accumulators.
func dotUnrolled(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		aa, bb := a[i:i+8:i+8], b[i:i+8:i+8]
		s0 += aa[0]*bb[0] + aa[4]*bb[4]
		s1 += aa[1]*bb[1] + aa[5]*bb[5]
		s2 += aa[2]*bb[2] + aa[6]*bb[6]
		s3 += aa[3]*bb[3] + aa[7]*bb[7]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// dotI8Unrolled is the dot product of q and the int8 codes c[:len(q)]
// (unscaled: multiply by the vector's scale).
func dotI8Unrolled(q []float32, c []int8) float32 {
	c = c[:len(q)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+8 <= len(q); i += 8 {
		qq, cc := q[i:i+8:i+8], c[i:i+8:i+8]
		s0 += qq[0]*i8f32[uint8(cc[0])] + qq[4]*i8f32[uint8(cc[4])]
		s1 += qq[1]*i8f32[uint8(cc[1])] + qq[5]*i8f32[uint8(cc[5])]
		s2 += qq[2]*i8f32[uint8(cc[2])] + qq[6]*i8f32[uint8(cc[6])]
		s3 += qq[3]*i8f32[uint8(cc[3])] + qq[7]*i8f32[uint8(cc[7])]
	}
	for ; i < len(q); i++ {
		s0 += q[i] * float32(c[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// vecNorm returns the Euclidean length of v.
func vecNorm(v []float32) float32 {
	return float32(math.Sqrt(float64(dotF32(v, v))))
}

// normalizeInto writes v scaled to unit length into dst (len(dst) ==
// len(v)) and reports false, leaving dst untouched, for a zero or
// non-finite vector.
func normalizeInto(dst, v []float32) bool {
	n2 := float64(dotUnrolled(v, v))
	if n2 == 0 || math.IsNaN(n2) || math.IsInf(n2, 0) {
		return false
	}
	if math.Abs(n2-1) < 1e-6 {
		copy(dst, v)
		return true
	}
	inv := float32(1 / math.Sqrt(n2))
	for i, x := range v {
		dst[i] = x * inv
	}
	return true
}

// quantizeI8 writes v as int8 codes into dst and returns the scale that
// maps them back (v[i] ≈ scale*dst[i]): symmetric, per vector, the largest
// magnitude maps to ±127.
func quantizeI8(dst []int8, v []float32) float32 {
	var m float32
	for _, x := range v {
		if x < 0 {
			x = -x
		}
		if x > m {
			m = x
		}
	}
	if m == 0 {
		clear(dst[:len(v)])
		return 0
	}
	inv := 127 / m
	for i, x := range v {
		dst[i] = int8(math.Round(float64(x * inv)))
	}
	return m / 127
}

// dequantizeI8 writes scale*c into dst.
func dequantizeI8(dst []float32, c []int8, scale float32) {
	for i, x := range c[:len(dst)] {
		dst[i] = float32(x) * scale
	}
}
