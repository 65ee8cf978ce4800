package main

import (
	"math"
	"testing"
)

// TestRocAUC checks perfect, inverted, and tied rankings.
func TestRocAUC(t *testing.T) {
	pos := []bool{false, false, true, true}
	for _, c := range []struct {
		scores []float64
		want   float64
	}{
		{[]float64{0.1, 0.2, 0.3, 0.4}, 1},
		{[]float64{0.4, 0.3, 0.2, 0.1}, 0},
		{[]float64{0.5, 0.5, 0.5, 0.5}, 0.5},
		{[]float64{0.1, 0.3, 0.2, 0.4}, 0.75},
	} {
		if got := rocAUC(c.scores, pos); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("rocAUC(%v) = %v, want %v", c.scores, got, c.want)
		}
	}
}
