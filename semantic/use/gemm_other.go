//go:build !amd64 || purego

package use

// gemmSIMD has no kernel here; the pure-Go loop runs.
func gemmSIMD(x []float32, rows int, m *matrix, c []float32, j0, j1 int) bool { return false }

func gemmStridedSIMD(x []float32, ldx, rows, k int, w []float32, ldw, n int, c []float32, ldc int) bool {
	return false
}
