package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// dim is the width of every tap of the encoder.
const dim = 512

// readF32 reads a little-endian float32 file written by distil.js.
func readF32(path string) ([]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("%s: %d bytes, not float32s", path, len(b))
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out, nil
}

// readTap reads one n×512 tap distilled into dir.
func readTap(dir, name string) ([]float32, error) {
	rows, err := readF32(filepath.Join(dir, name+".f32"))
	if err == nil && len(rows)%dim != 0 {
		err = fmt.Errorf("tap %s: %d floats, not rows of %d", name, len(rows), dim)
	}
	return rows, err
}

// readScores reads the SentencePiece unigram log-probabilities from
// vocab.json ([[piece, score], …]) and pads them to n rows with the lowest
// score, for the embedding rows past the vocabulary. A null score (15
// user-defined pieces such as ":" and "://") counts as 0, as the reference
// tokenizer's arithmetic treats it: such a piece weighs like the most
// frequent ones.
func readScores(vocabPath string, n int) ([]float64, error) {
	b, err := os.ReadFile(vocabPath)
	if err != nil {
		return nil, err
	}
	var raw [][2]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", vocabPath, err)
	}
	scores := make([]float64, n)
	lowest := 0.0
	for i, e := range raw {
		s, ok := e[1].(float64)
		if !ok && e[1] != nil {
			return nil, fmt.Errorf("%s: entry %d has no numeric score", vocabPath, i)
		}
		if i < n {
			scores[i] = s
		}
		lowest = math.Min(lowest, s)
	}
	for i := len(raw); i < n; i++ {
		scores[i] = lowest
	}
	return scores, nil
}

// pieceWeights returns one weight per row for a scheme:
//
//	"none"     1
//	"sif=<a>"  a/(a+p), p = exp(score) (SIF, smooth inverse frequency)
//	"zipf"     log(1+rank), rank by descending score (model2vec)
func pieceWeights(scheme string, scores []float64) ([]float64, error) {
	w := make([]float64, len(scores))
	switch {
	case scheme == "none":
		for i := range w {
			w[i] = 1
		}
	case strings.HasPrefix(scheme, "sif="):
		a, err := strconv.ParseFloat(scheme[len("sif="):], 64)
		if err != nil || a <= 0 {
			return nil, fmt.Errorf("weighting %q: want sif=<positive number>", scheme)
		}
		for i, s := range scores {
			w[i] = a / (a + math.Exp(s))
		}
	case scheme == "zipf":
		order := make([]int, len(scores))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool { return scores[order[a]] > scores[order[b]] })
		for rank, id := range order {
			w[id] = math.Log(float64(2 + rank)) // rank counts from 1
		}
	default:
		return nil, fmt.Errorf("unknown weighting %q", scheme)
	}
	return w, nil
}

// scaleRows multiplies each row by its weight, folding the weighting into
// the table: a weighted mean, once L2-normalised, is the plain sum of
// weighted rows.
func scaleRows(rows []float32, d int, w []float64) []float32 {
	out := make([]float32, len(rows))
	for i := 0; i < len(rows)/d; i++ {
		for j := 0; j < d; j++ {
			out[i*d+j] = float32(float64(rows[i*d+j]) * w[i])
		}
	}
	return out
}
