package use

// gemm computes c[rows][m.cols] += x[rows][m.rows] · m. x and c are
// row-major with no padding; rows must be a multiple of tileRows (callers
// pad with spare rows, whose results they ignore).
func gemm(x []float32, rows int, m *matrix, c []float32) {
	k, n := m.rows, m.cols
	_ = x[:rows*k]
	_ = c[:rows*n]
	if gemmSIMD(x, rows, m, c) {
		return
	}
	for i := range rows {
		xi := x[i*k : i*k+k]
		ci := c[i*n : i*n+n]
		switch {
		case m.f16 != nil:
			tab := f16Table
			for p, xv := range xi {
				if xv == 0 {
					continue
				}
				for j, h := range m.f16[p*n : p*n+n] {
					ci[j] += xv * tab[h]
				}
			}
		case m.i8 != nil:
			for p, xv := range xi {
				if xv == 0 {
					continue
				}
				for j, q := range m.i8[p*n : p*n+n] {
					ci[j] += xv * float32(q) * m.scale[j]
				}
			}
		default:
			for p, xv := range xi {
				if xv == 0 {
					continue
				}
				for j, w := range m.f32[p*n : p*n+n] {
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
