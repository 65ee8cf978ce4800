package use

import (
	"github.com/x448/float16"
	"math"
	"math/rand/v2"
	"testing"
)

// gemmReference is the plain triple loop in float64.
func gemmReference(x []float32, rows int, w []float32, k, n int, c []float32) []float64 {
	out := make([]float64, rows*n)
	for i := range rows {
		for j := range n {
			s := float64(c[i*n+j])
			for p := range k {
				s += float64(x[i*k+p]) * float64(w[p*n+j])
			}
			out[i*n+j] = s
		}
	}
	return out
}

// TestGemm checks gemm (the SIMD kernels where they run) for every
// storage against a float64 reference, on shapes with several blocks.
func TestGemm(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, shape := range [][3]int{{1, 5, 16}, {2, 7, 32}, {3, 300, 16}, {5, 16, 48}, {6, 1, 16}, {7, 64, 16}, {12, 256, 48}, {53, 600, 32}, {60, 64, 32}, {64, 512, 1536}} {
		rows, k, n := shape[0], shape[1], shape[2]
		x := make([]float32, rows*k)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		w := make([]float32, k*n)
		for i := range w {
			w[i] = float16.Fromfloat32(float32(r.NormFloat64() * 0.1)).Float32()
		}
		c0 := make([]float32, rows*n)
		for i := range c0 {
			c0[i] = float32(r.NormFloat64())
		}
		want := gemmReference(x, rows, w, k, n, c0)
		f16 := make([]uint16, len(w))
		for i, v := range w {
			f16[i] = float16.Fromfloat32(v).Bits()
		}
		for _, m := range []matrix{{rows: k, cols: n, f32: w}, {rows: k, cols: n, f16: f16}} {
			for _, ways := range []int{1, 3} {
				c := append([]float32(nil), c0...)
				gemm(ways, x, rows, &m, c)
				for i, v := range c {
					if math.Abs(float64(v)-want[i]) > 1e-3*(1+math.Abs(want[i])) {
						t.Fatalf("%s %v ways %d: c[%d] = %v, want %v", m.storage(), shape, ways, i, v, want[i])
					}
				}
			}
		}
	}
}

func TestF16ToF32(t *testing.T) {
	for h, want := range map[uint16]float32{0x3c00: 1, 0xc000: -2, 0x0001: 5.960464477539063e-08, 0x7bff: 65504, 0x3555: 0.333251953125} {
		if got := f16Table[h]; got != want {
			t.Errorf("f16Table[%#x] = %v, want %v", h, got, want)
		}
	}
}

// BenchmarkGemm is the FFN's first product (512→1536) on 60 rows, f16.
func BenchmarkGemm(b *testing.B) {
	const rows, k, n = 60, 512, 1536
	x := make([]float32, rows*k)
	for i := range x {
		x[i] = float32(i%7) * 0.1
	}
	m := matrix{rows: k, cols: n, f16: make([]uint16, k*n)}
	for i := range m.f16 {
		m.f16[i] = 0x3c00
	}
	c := make([]float32, rows*n)
	cpu0 := cpuTime(b)
	for b.Loop() {
		gemm(1, x, rows, &m, c)
	}
	b.ReportMetric(2*rows*k*n*float64(b.N)/float64((cpuTime(b)-cpu0).Nanoseconds()), "cpu-GFLOPS")
}

// TestGemmStrided checks the strided product (the attention's) against
// the float64 reference, on views into wider matrices.
func TestGemmStrided(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, shape := range [][3]int{{1, 3, 16}, {8, 64, 16}, {13, 128, 64}, {60, 60, 128}, {5, 7, 9}} {
		rows, k, n := shape[0], shape[1], shape[2]
		ldx, ldw, ldc := k+5, n+16, n+32
		x := make([]float32, rows*ldx)
		w := make([]float32, k*ldw)
		c := make([]float32, rows*ldc)
		for _, s := range [][]float32{x, w, c} {
			for i := range s {
				s[i] = float32(r.NormFloat64())
			}
		}
		pack := func(src []float32, ld, rs, cs int) []float32 {
			out := make([]float32, 0, rs*cs)
			for i := range rs {
				out = append(out, src[i*ld:i*ld+cs]...)
			}
			return out
		}
		want := gemmReference(pack(x, ldx, rows, k), rows, pack(w, ldw, k, n), k, n, pack(c, ldc, rows, n))
		before := append([]float32(nil), c...)
		gemmStrided(x, ldx, rows, k, w, ldw, n, c, ldc)
		for i := range rows {
			for j := range ldc {
				got := c[i*ldc+j]
				if j >= n {
					if got != before[i*ldc+j] {
						t.Fatalf("%v: wrote outside the view at [%d][%d]", shape, i, j)
					}
					continue
				}
				if w := want[i*n+j]; math.Abs(float64(got)-w) > 1e-3*(1+math.Abs(w)) {
					t.Fatalf("%v: c[%d][%d] = %v, want %v", shape, i, j, got, w)
				}
			}
		}
	}
}
