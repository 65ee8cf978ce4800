//go:build !amd64 || purego

package use

// gemmSIMD has no kernel here; the pure-Go loop runs.
func gemmSIMD(x []float32, rows int, m *matrix, c []float32) bool { return false }

func dot(a, b []float32) float32 { return dotGo(a, b) }

func axpy(a float32, x, y []float32) { axpyGo(a, x, y) }
