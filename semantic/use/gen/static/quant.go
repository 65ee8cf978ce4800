package main

import "math"

// quantInt8 stores each row as int8 with one float32 scale (max |v| / 127).
func quantInt8(rows []float32, d int) (scales []float32, q []int8) {
	n := len(rows) / d
	scales = make([]float32, n)
	q = make([]int8, len(rows))
	for i := 0; i < n; i++ {
		m := float32(0)
		for _, v := range rows[i*d : (i+1)*d] {
			m = max(m, float32(math.Abs(float64(v))))
		}
		if m == 0 {
			continue
		}
		s := m / 127
		scales[i] = s
		for j, v := range rows[i*d : (i+1)*d] {
			q[i*d+j] = int8(math.Round(float64(v / s)))
		}
	}
	return scales, q
}

// dequantInt8 is the inverse of quantInt8, for measuring its loss.
func dequantInt8(scales []float32, q []int8, d int) []float32 {
	out := make([]float32, len(q))
	for i, v := range q {
		out[i] = float32(v) * scales[i/d]
	}
	return out
}

// f32ToF16 rounds to the nearest IEEE 754 half (ties to even); values past
// the half range become ±Inf, which the tables here never reach.
func f32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23&0xff) - 127 + 15
	mant := b & 0x7fffff
	switch {
	case b&0x7fffffff == 0:
		return sign
	case exp >= 31:
		return sign | 0x7c00
	case exp <= 0: // subnormal half
		if exp < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint(14 - exp)
		h := mant >> shift
		rem := mant & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && h&1 == 1) {
			h++
		}
		return sign | uint16(h)
	}
	h := uint32(exp)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++ // may carry into the exponent, which is still correct
	}
	return sign | uint16(h)
}

// f16ToF32 widens an IEEE 754 half.
func f16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h >> 10 & 0x1f)
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: mant × 2⁻²⁴
		v := float32(math.Ldexp(float64(mant), -24))
		if sign != 0 {
			v = -v
		}
		return v
	case exp == 31:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}
