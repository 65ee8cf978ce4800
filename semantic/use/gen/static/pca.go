package main

import (
	"math"
	"sort"
)

// pca fits a principal-component projection of rows (n×d, row-major) and
// returns the mean and the top k components (k×d, row-major, unit length),
// strongest first. It uses the covariance matrix and cyclic Jacobi
// rotations: d is 512 here, small enough that an exact eigensolver costs a
// second and needs no tuning, unlike power iteration.
func pca(rows []float32, d, k int) (mean []float64, comps []float64) {
	n := len(rows) / d
	mean = make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range rows[i*d : (i+1)*d] {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	cov := make([]float64, d*d)
	x := make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range rows[i*d : (i+1)*d] {
			x[j] = float64(v) - mean[j]
		}
		for a := 0; a < d; a++ {
			xa := x[a]
			row := cov[a*d : a*d+d]
			for b := a; b < d; b++ {
				row[b] += xa * x[b]
			}
		}
	}
	for a := 0; a < d; a++ {
		for b := a; b < d; b++ {
			cov[a*d+b] /= float64(n)
			cov[b*d+a] = cov[a*d+b]
		}
	}
	vals, vecs := jacobiEigen(cov, d)
	order := make([]int, d)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return vals[order[a]] > vals[order[b]] })
	comps = make([]float64, k*d)
	for c := 0; c < k; c++ {
		for j := 0; j < d; j++ {
			comps[c*d+j] = vecs[j*d+order[c]] // eigenvectors are columns
		}
	}
	return mean, comps
}

// jacobiEigen diagonalises the symmetric d×d matrix a (destroyed) and returns
// its eigenvalues and the eigenvectors as the columns of v.
func jacobiEigen(a []float64, d int) (vals []float64, v []float64) {
	v = make([]float64, d*d)
	for i := 0; i < d; i++ {
		v[i*d+i] = 1
	}
	for sweep := 0; sweep < 100; sweep++ {
		off, diag := 0.0, 0.0
		for p := 0; p < d; p++ {
			diag += a[p*d+p] * a[p*d+p]
			for q := p + 1; q < d; q++ {
				off += a[p*d+q] * a[p*d+q]
			}
		}
		if off <= 1e-22*diag {
			break
		}
		for p := 0; p < d-1; p++ {
			for q := p + 1; q < d; q++ {
				apq := a[p*d+q]
				if math.Abs(apq) < 1e-300 {
					continue
				}
				theta := (a[q*d+q] - a[p*d+p]) / (2 * apq)
				t := math.Copysign(1, theta) / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for k := 0; k < d; k++ { // columns p, q
					akp, akq := a[k*d+p], a[k*d+q]
					a[k*d+p] = c*akp - s*akq
					a[k*d+q] = s*akp + c*akq
				}
				for k := 0; k < d; k++ { // rows p, q
					apk, aqk := a[p*d+k], a[q*d+k]
					a[p*d+k] = c*apk - s*aqk
					a[q*d+k] = s*apk + c*aqk
				}
				for k := 0; k < d; k++ {
					vkp, vkq := v[k*d+p], v[k*d+q]
					v[k*d+p] = c*vkp - s*vkq
					v[k*d+q] = s*vkp + c*vkq
				}
			}
		}
	}
	vals = make([]float64, d)
	for i := range vals {
		vals[i] = a[i*d+i]
	}
	return vals, v
}

// project maps each row onto the components after subtracting the mean.
func project(rows []float32, d int, mean, comps []float64) []float32 {
	n, k := len(rows)/d, len(comps)/d
	out := make([]float32, n*k)
	x := make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range rows[i*d : (i+1)*d] {
			x[j] = float64(v) - mean[j]
		}
		for c := 0; c < k; c++ {
			s := 0.0
			for j, cj := range comps[c*d : (c+1)*d] {
				s += cj * x[j]
			}
			out[i*k+c] = float32(s)
		}
	}
	return out
}
