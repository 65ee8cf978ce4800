package main

import (
	"math"
	"testing"
)

// TestInt8RoundTrip checks the per-row scale and the error bound (half a step).
func TestInt8RoundTrip(t *testing.T) {
	rows := []float32{0.5, -1, 0.25, 0, 0, 0, 10, 3, -7}
	scales, q := quantInt8(rows, 3)
	if scales[1] != 0 || q[0] != 64 || q[1] != -127 {
		t.Fatalf("scales %v q %v", scales, q)
	}
	back := dequantInt8(scales, q, 3)
	for i := range rows {
		if d := math.Abs(float64(back[i] - rows[i])); d > float64(scales[i/3])/2+1e-7 {
			t.Fatalf("row value %d: %v -> %v", i, rows[i], back[i])
		}
	}
}
