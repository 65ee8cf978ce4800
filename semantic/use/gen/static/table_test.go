package main

import (
	"math"
	"testing"
)

// TestPieceWeights checks each scheme on three scores, most frequent first.
func TestPieceWeights(t *testing.T) {
	scores := []float64{-2, -5, -10}
	sif, err := pieceWeights("sif=1e-3", scores)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range scores {
		if want := 1e-3 / (1e-3 + math.Exp(s)); math.Abs(sif[i]-want) > 1e-15 {
			t.Errorf("sif weight %d = %v, want %v", i, sif[i], want)
		}
	}
	if !(sif[0] < sif[1] && sif[1] < sif[2]) {
		t.Errorf("sif weights %v not rising as pieces get rarer", sif)
	}
	zipf, err := pieceWeights("zipf", []float64{-5, -2, -10})
	if err != nil {
		t.Fatal(err)
	}
	if zipf[1] != math.Log(2) || zipf[0] != math.Log(3) || zipf[2] != math.Log(4) {
		t.Errorf("zipf weights %v, want log 3, log 2, log 4", zipf)
	}
	for _, bad := range []string{"sif=", "sif=-1", "tfidf"} {
		if _, err := pieceWeights(bad, scores); err == nil {
			t.Errorf("weighting %q accepted", bad)
		}
	}
}
