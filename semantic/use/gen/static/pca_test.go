package main

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPCARecoversDominantAxis draws points stretched along a known unit
// direction and checks the first component is that direction and the mean is
// found.
func TestPCARecoversDominantAxis(t *testing.T) {
	const d, n = 8, 4000
	r := rand.New(rand.NewPCG(1, 2))
	axis := []float64{1, 2, 0, -1, 0, 0, 3, 0}
	norm := 0.0
	for _, v := range axis {
		norm += v * v
	}
	for i := range axis {
		axis[i] /= math.Sqrt(norm)
	}
	rows := make([]float32, n*d)
	for i := 0; i < n; i++ {
		big := r.NormFloat64() * 10
		for j := 0; j < d; j++ {
			rows[i*d+j] = float32(5 + big*axis[j] + r.NormFloat64()*0.5)
		}
	}
	mean, comps := pca(rows, d, 2)
	for j, m := range mean {
		if math.Abs(m-5) > 0.5 {
			t.Fatalf("mean[%d] = %v, want about 5", j, m)
		}
	}
	dot := 0.0
	for j := 0; j < d; j++ {
		dot += comps[j] * axis[j]
	}
	if math.Abs(dot) < 0.999 {
		t.Fatalf("first component · axis = %v, want ±1", dot)
	}
	ortho := 0.0
	for j := 0; j < d; j++ {
		ortho += comps[j] * comps[d+j]
	}
	if math.Abs(ortho) > 1e-9 {
		t.Fatalf("components not orthogonal: %v", ortho)
	}
}

// TestJacobiEigenKnownMatrix checks the eigenvalues of a 2×2 matrix with a
// closed form.
func TestJacobiEigenKnownMatrix(t *testing.T) {
	vals, _ := jacobiEigen([]float64{2, 1, 1, 2}, 2)
	lo, hi := math.Min(vals[0], vals[1]), math.Max(vals[0], vals[1])
	if math.Abs(lo-1) > 1e-12 || math.Abs(hi-3) > 1e-12 {
		t.Fatalf("eigenvalues %v, want 1 and 3", vals)
	}
}
