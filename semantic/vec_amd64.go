//go:build amd64 && !purego

package semantic

// The AVX2+FMA kernels in vec_amd64.s, used when the CPU and the OS
// support them (checked with CPUID/XGETBV, so the module needs no extra
// dependency).

//go:noescape
func dotAVX2(a, b []float32) float32

//go:noescape
func dotI8AVX2(q []float32, c []int8) float32

//go:noescape
func dotsF32AVX2(q, data, out []float32)

//go:noescape
func dotsI8AVX2(q []float32, codes []int8, out []float32)

func vecCPUID(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

func vecXGETBV() (eax, edx uint32)

func hasAVX2FMA() bool {
	maxID, _, _, _ := vecCPUID(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := vecCPUID(1, 0)
	const (
		fma     = 1 << 12
		osxsave = 1 << 27
		avx     = 1 << 28
	)
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	if xcr0, _ := vecXGETBV(); xcr0&6 != 6 { // the OS saves XMM and YMM state
		return false
	}
	_, ebx7, _, _ := vecCPUID(7, 0)
	return ebx7&(1<<5) != 0 // AVX2
}

func init() {
	if hasAVX2FMA() {
		useSIMD()
	}
}

func useSIMD() {
	dotF32, dotI8, dotsF32, dotsI8, simdOn = dotF32AVX2, dotI8AVX2Checked, dotsF32AVX2Checked, dotsI8AVX2Checked, true
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
