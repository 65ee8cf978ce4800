//go:build amd64 && !purego

package use

import "github.com/ragproxy/ragproxy/internal/cpufeat"

// The AVX2/FMA/F16C tile kernels of gemm_amd64.s, used when the CPU and
// the OS support them.

// gemmRx16F16 adds x[0:R][0:k] · w[0:k][0:16] to c[0:R][0:16] for R = 6,
// 4, 2, 1; w is float16; ldx, ldw, ldc are row strides in elements. The
// F32 kernels are the same for float32 weights.
//
//go:noescape
func gemm6x16F16(x *float32, ldx int, w *uint16, ldw int, k int, c *float32, ldc int)

//go:noescape
func gemm4x16F16(x *float32, ldx int, w *uint16, ldw int, k int, c *float32, ldc int)

//go:noescape
func gemm2x16F16(x *float32, ldx int, w *uint16, ldw int, k int, c *float32, ldc int)

//go:noescape
func gemm1x16F16(x *float32, ldx int, w *uint16, ldw int, k int, c *float32, ldc int)

//go:noescape
func gemm6x16F32(x *float32, ldx int, w *float32, ldw int, k int, c *float32, ldc int)

//go:noescape
func gemm4x16F32(x *float32, ldx int, w *float32, ldw int, k int, c *float32, ldc int)

//go:noescape
func gemm2x16F32(x *float32, ldx int, w *float32, ldw int, k int, c *float32, ldc int)

//go:noescape
func gemm1x16F32(x *float32, ldx int, w *float32, ldw int, k int, c *float32, ldc int)

// simd is whether the kernels can run here.
var simd = cpufeat.F16C

// Blocking: a block of rows meets every 16-column strip of a band of the
// weights' rows, so the strip (kBand × 16) stays in L1 while the block's
// rows (in L2) pass.
const (
	blockRows = 48
	kBand     = 256
)

// gemmSIMD runs gemmCols with the kernels; false when they cannot run or the
// storage has none (int8 is measured, not shipped).
func gemmSIMD(x []float32, rows int, m *matrix, c []float32, j0, j1 int) bool {
	k, n := m.rows, m.cols
	if !simd || n%16 != 0 || j0%16 != 0 || j1%16 != 0 || m.i8 != nil || rows == 0 {
		return false
	}
	for r0 := 0; r0 < rows; r0 += blockRows {
		r1 := min(rows, r0+blockRows)
		for p := 0; p < k; p += kBand {
			kb := min(kBand, k-p)
			for j := j0; j < j1; j += 16 {
				for r := r0; r < r1; {
					t := tileFor(r1 - r)
					xp, cp := &x[r*k+p], &c[r*n+j]
					if m.f16 != nil {
						w := &m.f16[p*n+j]
						switch t {
						case 6:
							gemm6x16F16(xp, k, w, n, kb, cp, n)
						case 4:
							gemm4x16F16(xp, k, w, n, kb, cp, n)
						case 2:
							gemm2x16F16(xp, k, w, n, kb, cp, n)
						default:
							gemm1x16F16(xp, k, w, n, kb, cp, n)
						}
					} else {
						w := &m.f32[p*n+j]
						switch t {
						case 6:
							gemm6x16F32(xp, k, w, n, kb, cp, n)
						case 4:
							gemm4x16F32(xp, k, w, n, kb, cp, n)
						case 2:
							gemm2x16F32(xp, k, w, n, kb, cp, n)
						default:
							gemm1x16F32(xp, k, w, n, kb, cp, n)
						}
					}
					r += t
				}
			}
		}
	}
	return true
}

// tileFor is the tallest kernel that fits in the rows left.
func tileFor(left int) int {
	switch {
	case left >= 6:
		return 6
	case left >= 4:
		return 4
	case left >= 2:
		return 2
	}
	return 1
}

// gemmStridedSIMD runs gemmStrided with the float32 kernels when n is a
// multiple of 16 (the caller has checked the bounds).
func gemmStridedSIMD(x []float32, ldx, rows, k int, w []float32, ldw, n int, c []float32, ldc int) bool {
	if !simd || n%16 != 0 {
		return false
	}
	for j := 0; j < n; j += 16 {
		for r := 0; r < rows; {
			t := tileFor(rows - r)
			xp, wp, cp := &x[r*ldx], &w[j], &c[r*ldc+j]
			switch t {
			case 6:
				gemm6x16F32(xp, ldx, wp, ldw, k, cp, ldc)
			case 4:
				gemm4x16F32(xp, ldx, wp, ldw, k, cp, ldc)
			case 2:
				gemm2x16F32(xp, ldx, wp, ldw, k, cp, ldc)
			default:
				gemm1x16F32(xp, ldx, wp, ldw, k, cp, ldc)
			}
			r += t
		}
	}
	return true
}
