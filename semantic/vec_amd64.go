//go:build amd64 && !purego

package semantic

import "github.com/ragproxy/ragproxy/internal/cpufeat"

// The AVX2+FMA kernels in vec_amd64.s, used when the CPU and the OS
// support them (internal/cpufeat).

//go:noescape
func dotAVX2(a, b []float32) float32

//go:noescape
func dotI8AVX2(q []float32, c []int8) float32

//go:noescape
func dotsF32AVX2(q, data, out []float32)

//go:noescape
func dotsI8AVX2(q []float32, codes []int8, out []float32)

//go:noescape
func hammingsPOPCNT(q *sketch, sk []uint64, out []int32)

func init() {
	if cpufeat.AVX2FMA {
		useSIMD()
	}
}

func useSIMD() {
	dotF32, dotI8, dotsF32, dotsI8, simdOn = dotF32AVX2, dotI8AVX2Checked, dotsF32AVX2Checked, dotsI8AVX2Checked, true
	hammings = hammingsChecked
}

func hammingsChecked(q *sketch, sk []uint64, out []int32) {
	_ = sk[:len(out)*sketchWords]
	hammingsPOPCNT(q, sk, out)
}

// dotF32AVX2 and dotI8AVX2Checked give the kernels the bounds behaviour of
// the Go versions: the second operand must be at least as long as the first.
func dotF32AVX2(a, b []float32) float32 {
	_ = b[:len(a)]
	return dotAVX2(a, b)
}

func dotI8AVX2Checked(q []float32, c []int8) float32 {
	_ = c[:len(q)]
	return dotI8AVX2(q, c)
}

func dotsF32AVX2Checked(q, data, out []float32) {
	_ = data[:len(out)*len(q)]
	dotsF32AVX2(q, data, out)
}

func dotsI8AVX2Checked(q []float32, codes []int8, out []float32) {
	_ = codes[:len(out)*len(q)]
	dotsI8AVX2(q, codes, out)
}
