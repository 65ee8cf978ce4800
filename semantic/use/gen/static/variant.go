package main

import (
	"fmt"
	"path/filepath"
	"slices"
)

// variant names one way of building the static table.
type variant struct {
	tap    string // graph tap each piece's vector is read from
	pca    int    // PCA width; 0: raw rows; 512: centred only
	skip   int    // leading principal components dropped before the pca kept
	weight string // per-piece weighting, see pieceWeights
	head   bool   // average pooled rows, then apply the tanh layer (not a table)
}

func (v variant) String() string {
	if v.head {
		return fmt.Sprintf("pooled→mean→tanh layer, weight=%s", v.weight)
	}
	return fmt.Sprintf("tap=%s pca=%d skip=%d weight=%s", v.tap, v.pca, v.skip, v.weight)
}

// chosen is the shipped variant, picked by the -eval table (figures in
// semantic/use/static_generate.go): as good as the best 256-wide variant
// at half the table and half the work per piece.
var chosen = variant{tap: "final", pca: 128, skip: 8, weight: "sif=3e-4"}

// taps caches what one distillation produced and the PCA fitted per tap.
type taps struct {
	dir    string
	rows   map[string][]float32
	scores []float64
	pcaFit map[string][2][]float64 // mean, all 512 components
}

func loadTaps(dir, vocab string) (*taps, error) {
	t := &taps{dir: dir, rows: map[string][]float32{}, pcaFit: map[string][2][]float64{}}
	for _, name := range []string{"pooled", "preact", "tanh", "final"} {
		rows, err := readTap(dir, name)
		if err != nil {
			return nil, err
		}
		t.rows[name] = rows
	}
	var err error
	t.scores, err = readScores(vocab, len(t.rows["final"])/dim)
	return t, err
}

// table builds the weight-folded rows of a variant and returns them with
// their width.
func (t *taps) table(v variant) ([]float32, int, error) {
	rows, ok := t.rows[v.tap]
	if !ok {
		return nil, 0, fmt.Errorf("unknown tap %q", v.tap)
	}
	d := dim
	if v.pca > 0 {
		if v.skip < 0 || v.skip+v.pca > dim {
			return nil, 0, fmt.Errorf("pca %d after skipping %d: more than %d components", v.pca, v.skip, dim)
		}
		fit, ok := t.pcaFit[v.tap]
		if !ok {
			m, c := pca(rows, dim, dim)
			fit = [2][]float64{m, c}
			t.pcaFit[v.tap] = fit
		}
		rows = project(rows, dim, fit[0], fit[1][v.skip*dim:(v.skip+v.pca)*dim])
		d = v.pca
	}
	w, err := pieceWeights(v.weight, t.scores)
	if err != nil {
		return nil, 0, err
	}
	return scaleRows(rows, d, w), d, nil
}

// headWeights reads the tanh layer distil.js saved.
func (t *taps) headWeights() (w, b []float32, err error) {
	if w, err = readF32(filepath.Join(t.dir, "head_w.f32")); err != nil {
		return nil, nil, err
	}
	b, err = readF32(filepath.Join(t.dir, "head_b.f32"))
	return w, b, err
}

// allVariants lists every variant -eval measures.
func allVariants() []variant {
	var vs []variant
	weights := []string{"none", "sif=1e-3", "sif=1e-4", "zipf"}
	for _, tap := range []string{"final", "tanh", "preact", "pooled"} {
		for _, p := range []int{0, 512, 256, 128} {
			for _, w := range weights {
				vs = append(vs, variant{tap: tap, pca: p, weight: w})
			}
		}
	}
	for _, w := range weights {
		vs = append(vs, variant{tap: "pooled", weight: w, head: true})
	}
	// SIF's second step (drop the common directions) and its constant a.
	for _, skip := range []int{1, 2, 4, 8} {
		vs = append(vs, variant{tap: "final", pca: 256, skip: skip, weight: "sif=1e-3"})
	}
	for _, a := range []string{"3e-4", "3e-3", "1e-2", "3e-2"} {
		vs = append(vs, variant{tap: "final", pca: 256, weight: "sif=" + a})
	}
	// The two best changes together, at two widths.
	for _, w := range []struct{ pca, skip int }{{256, 8}, {256, 16}, {128, 8}} {
		vs = append(vs, variant{tap: "final", pca: w.pca, skip: w.skip, weight: "sif=3e-4"})
	}
	return slices.Clip(vs)
}
