package main

import "fmt"

// addWeights is filled in with the layer weights in the next step.
func addWeights(w *writer, dist, storage string) error {
	return fmt.Errorf("gen: weights not supported yet (storage %s)", storage)
}
