package main

import (
	"math"
	"testing"
)

// TestF16KnownValues checks exact encodings from the IEEE 754 half table.
func TestF16KnownValues(t *testing.T) {
	for _, c := range []struct {
		f     float32
		h     uint16
		exact bool // f is a half, so it must come back unchanged
	}{
		{1, 0x3c00, true}, {-2, 0xc000, true}, {0.5, 0x3800, true}, {65504, 0x7bff, true},
		{float32(math.Ldexp(1, -24)), 0x0001, true},        // smallest subnormal
		{-float32(math.Ldexp(1, -24)), 0x8001, true},       // negative subnormal
		{float32(math.Ldexp(1, -14)), 0x0400, true},        // smallest normal
		{1 + float32(math.Ldexp(1, -11)), 0x3c00, false},   // tie rounds to even (down)
		{1 + 3*float32(math.Ldexp(1, -11)), 0x3c02, false}, // tie rounds to even (up)
	} {
		if got := f32ToF16(c.f); got != c.h {
			t.Errorf("f32ToF16(%v) = %#04x, want %#04x", c.f, got, c.h)
		}
		if back := f16ToF32(c.h); c.exact && back != c.f {
			t.Errorf("f16ToF32(%#04x) = %v, want %v", c.h, back, c.f)
		}
	}
}

// TestF16RoundTripError bounds the relative error over a range of values.
func TestF16RoundTripError(t *testing.T) {
	for x := 1e-4; x < 1e4; x *= 1.01 {
		for _, s := range []float64{1, -1} {
			f := float32(s * x)
			back := f16ToF32(f32ToF16(f))
			if rel := math.Abs(float64(back-f)) / x; rel > 1.0/2048 {
				t.Fatalf("%v -> %v: relative error %v", f, back, rel)
			}
		}
	}
}

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
