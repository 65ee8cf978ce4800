package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
)

// pair is one tokenised question pair with its label.
type pair struct {
	A, B []int32
	Dup  bool `json:"d"`
}

// readPairs reads pairs.jsonl written by distil.js.
func readPairs(path string) ([]pair, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []pair
	dec := json.NewDecoder(bufio.NewReader(f))
	for {
		var p pair
		if err := dec.Decode(&p); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, p)
	}
}

// embedder turns token ids into an unnormalised sentence vector in dst.
type embedder func(dst []float32, ids []int32)

// sumRows is the static embedder: the sum of the (weight-folded) rows.
func sumRows(table []float32, d int) embedder {
	return func(dst []float32, ids []int32) {
		clear(dst)
		for _, id := range ids {
			for j, v := range table[int(id)*d : int(id)*d+d] {
				dst[j] += v
			}
		}
	}
}

// headOverMean is the weighted mean of pooled rows pushed through the
// encoder's tanh layer: exactly what the model does after its transformer,
// with each piece's in-context state replaced by its state alone.
func headOverMean(pooled []float32, w []float64, hw, hb []float32) embedder {
	x := make([]float32, dim)
	return func(dst []float32, ids []int32) {
		clear(x)
		tw := 0.0
		for _, id := range ids {
			wi := float32(w[id])
			tw += w[id]
			for j, v := range pooled[int(id)*dim : int(id)*dim+dim] {
				x[j] += wi * v
			}
		}
		if tw > 0 {
			for j := range x {
				x[j] /= float32(tw)
			}
		}
		copy(dst, hb)
		for i, xi := range x {
			for j, wij := range hw[i*dim : i*dim+dim] {
				dst[j] += xi * wij
			}
		}
		for j, v := range dst {
			dst[j] = float32(math.Tanh(float64(v)))
		}
	}
}

// normalize scales v to unit length (a zero vector stays zero).
func normalize(v []float32) {
	s := 0.0
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
}

// cosines returns cos(a, b) of every pair under an embedder of width d, and
// fills vecsA (if not nil) with the normalised a-vectors, for agreement
// measures between tables.
func cosines(pairs []pair, e embedder, d int, vecsA [][]float32) []float64 {
	out := make([]float64, len(pairs))
	a, b := make([]float32, d), make([]float32, d)
	for i, p := range pairs {
		e(a, p.A)
		e(b, p.B)
		normalize(a)
		normalize(b)
		s := float32(0)
		for j := range a {
			s += a[j] * b[j]
		}
		out[i] = float64(s)
		if vecsA != nil {
			vecsA[i] = append(vecsA[i][:0], a...)
		}
	}
	return out
}

// rocAUC is the probability that a random duplicate pair scores above a
// random non-duplicate pair (ties count half): the Mann–Whitney statistic.
func rocAUC(scores []float64, pos []bool) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var rankSum float64
	var nPos, nNeg int
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		mid := float64(i+j+1) / 2 // ranks i+1 … j averaged
		for k := i; k < j; k++ {
			if pos[idx[k]] {
				rankSum += mid
			}
		}
		i = j
	}
	for _, p := range pos {
		if p {
			nPos++
		} else {
			nNeg++
		}
	}
	return (rankSum - float64(nPos)*float64(nPos+1)/2) / (float64(nPos) * float64(nNeg))
}
