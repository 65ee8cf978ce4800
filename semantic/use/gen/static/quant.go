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
