package use

import (
	"fmt"
	"github.com/x448/float16"
)

// matrix is a weight matrix [rows][cols] in one of the storages gen
// writes: float32, float16, or int8 with a float32 scale per column (for
// the embedding table, per row).
type matrix struct {
	rows, cols int
	f32        []float32
	f16        []uint16
	i8         []int8
	scale      []float32
}

// loadMatrix reads a matrix of the given shape, in whatever storage the
// file holds it.
func loadMatrix(ts map[string]tensor, name string, rows, cols int, perRowScale bool) (matrix, error) {
	t, ok := ts[name]
	if !ok {
		return matrix{}, fmt.Errorf("use: model file lacks %s", name)
	}
	m := matrix{rows: rows, cols: cols}
	if err := t.check(name, t.dtype, rows, cols); err != nil {
		return m, err
	}
	switch t.dtype {
	case dtF32:
		m.f32 = t.asF32()
	case dtF16:
		m.f16 = t.asU16()
	case dtI8:
		m.i8 = t.asI8()
		n := cols
		if perRowScale {
			n = rows
		}
		s, err := loadVector(ts, name+"#scale", n)
		if err != nil {
			return m, err
		}
		m.scale = s
	default:
		return m, fmt.Errorf("use: %s has unsupported dtype %d", name, t.dtype)
	}
	if len(m.f32)+len(m.f16)+len(m.i8) != rows*cols {
		return m, fmt.Errorf("use: %s has the wrong size", name)
	}
	return m, nil
}

// loadVector reads a float32 vector of n elements.
func loadVector(ts map[string]tensor, name string, n int) ([]float32, error) {
	t, ok := ts[name]
	if !ok {
		return nil, fmt.Errorf("use: model file lacks %s", name)
	}
	if err := t.check(name, dtF32, n); err != nil {
		return nil, err
	}
	return t.asF32(), nil
}

// storage names the matrix's storage, for messages and benchmarks.
func (m *matrix) storage() string {
	switch {
	case m.f16 != nil:
		return "f16"
	case m.i8 != nil:
		return "i8"
	}
	return "f32"
}

// row writes row r of the matrix (an embedding-table row) into dst,
// multiplied by mul.
func (m *matrix) row(dst []float32, r int, mul float32) {
	lo := r * m.cols
	switch {
	case m.f16 != nil:
		for j, h := range m.f16[lo : lo+m.cols] {
			dst[j] = f16Table[h] * mul
		}
	case m.i8 != nil:
		s := m.scale[r]
		for j, q := range m.i8[lo : lo+m.cols] {
			dst[j] = float32(q) * s * mul
		}
	default:
		for j, v := range m.f32[lo : lo+m.cols] {
			dst[j] = v * mul
		}
	}
}

// f16Table widens every half by lookup, for the pure-Go kernel.
var f16Table = func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for i := range t {
		t[i] = float16.Frombits(uint16(i)).Float32()
	}
	return &t
}()
