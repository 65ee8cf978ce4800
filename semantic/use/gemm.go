package use

import "sync"

// gemm computes c[rows][m.cols] += x[rows][m.rows] · m; x and c are
// row-major with no padding. A product of at least parallelMACs
// multiply-adds is split by columns across up to ways goroutines.
func gemm(ways int, x []float32, rows int, m *matrix, c []float32) {
	k, n := m.rows, m.cols
	_ = x[:rows*k]
	_ = c[:rows*n]
	strips := n / 16
	if n%16 != 0 {
		strips = 1
	}
	ways = min(ways, strips, rows*k*n/parallelMACs)
	if ways <= 1 {
		gemmCols(x, rows, m, c, 0, n)
		return
	}
	var wg sync.WaitGroup
	for w := 1; w < ways; w++ {
		j0, j1 := 16*(strips*w/ways), 16*(strips*(w+1)/ways)
		wg.Go(func() { gemmCols(x, rows, m, c, j0, j1) })
	}
	gemmCols(x, rows, m, c, 0, 16*(strips/ways))
	wg.Wait()
}

// parallelMACs is the least work worth splitting across goroutines
// (about 10 µs).
const parallelMACs = 1 << 20

// gemmCols is gemm for the columns [j0, j1) of c.
func gemmCols(x []float32, rows int, m *matrix, c []float32, j0, j1 int) {
	if gemmSIMD(x, rows, m, c, j0, j1) {
		return
	}
	k, n := m.rows, m.cols
	for i := range rows {
		xi := x[i*k : i*k+k]
		ci := c[i*n+j0 : i*n+j1]
		switch {
		case m.f16 != nil:
			tab := f16Table
			for p, xv := range xi {
				if xv == 0 {
					continue
				}
				for j, h := range m.f16[p*n+j0 : p*n+j1] {
					ci[j] += xv * tab[h]
				}
			}
		case m.i8 != nil:
			sc := m.scale[j0:j1]
			for p, xv := range xi {
				if xv == 0 {
					continue
				}
				for j, q := range m.i8[p*n+j0 : p*n+j1] {
					ci[j] += xv * float32(q) * sc[j]
				}
			}
		default:
			for p, xv := range xi {
				if xv == 0 {
					continue
				}
				for j, w := range m.f32[p*n+j0 : p*n+j1] {
					ci[j] += xv * w
				}
			}
		}
	}
}

// axpyGo is the portable y += a·x.
func axpyGo(a float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += a * v
	}
}

// gemmStrided computes c[rows][n] += x[rows][k] · w[k][n] on float32
// matrices with row strides ldx, ldw, ldc (the attention's views into the
// packed q|k|v rows).
func gemmStrided(x []float32, ldx, rows, k int, w []float32, ldw, n int, c []float32, ldc int) {
	if rows == 0 || n == 0 || k == 0 {
		return
	}
	_ = x[(rows-1)*ldx+k-1]
	_ = w[(k-1)*ldw+n-1]
	_ = c[(rows-1)*ldc+n-1]
	if gemmStridedSIMD(x, ldx, rows, k, w, ldw, n, c, ldc) {
		return
	}
	for i := range rows {
		ci := c[i*ldc : i*ldc+n]
		for p, xv := range x[i*ldx : i*ldx+k] {
			axpyGo(xv, w[p*ldw:p*ldw+n], ci)
		}
	}
}
