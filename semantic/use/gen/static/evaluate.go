package main

import (
	"fmt"
	"github.com/x448/float16"
	"math"
	"path/filepath"
	"slices"
	"strings"
)

// evaluate prints the pair ROC AUC of every variant; with storage it also
// prints int8 and float16 tables' AUC and their cosine agreement with the
// float32 table (mean and minimum cos between the two vectors of one
// question).
func evaluate(dir, vocab string, storage bool, only string) error {
	t, err := loadTaps(dir, vocab)
	if err != nil {
		return err
	}
	pairs, err := readPairs(filepath.Join(dir, "pairs.jsonl"))
	if err != nil {
		return err
	}
	dup := make([]bool, len(pairs))
	for i, p := range pairs {
		dup[i] = p.Dup
	}
	fmt.Printf("%d pairs, %d duplicates\n", len(pairs), len(slices.DeleteFunc(slices.Clone(dup), func(b bool) bool { return !b })))
	for _, v := range allVariants() {
		if !strings.Contains(v.String(), only) {
			continue
		}
		if v.head {
			hw, hb, err := t.headWeights()
			if err != nil {
				return err
			}
			w, err := pieceWeights(v.weight, t.scores)
			if err != nil {
				return err
			}
			fmt.Printf("%-40s f32 AUC %.4f\n", v, rocAUC(cosines(pairs, headOverMean(t.rows["pooled"], w, hw, hb), dim, nil), dup))
			continue
		}
		rows, d, err := t.table(v)
		if err != nil {
			return err
		}
		var ref [][]float32
		if storage {
			ref = make([][]float32, len(pairs))
		}
		fmt.Printf("%-40s f32 AUC %.4f", v, rocAUC(cosines(pairs, sumRows(rows, d), d, ref), dup))
		if storage {
			scales, q := quantInt8(rows, d)
			i8 := dequantInt8(scales, q, d)
			f16 := make([]float32, len(rows))
			for i, x := range rows {
				f16[i] = float16.Fromfloat32(x).Float32()
			}
			for _, s := range []struct {
				name  string
				table []float32
			}{{"int8", i8}, {"f16", f16}} {
				got := make([][]float32, len(pairs))
				auc := rocAUC(cosines(pairs, sumRows(s.table, d), d, got), dup)
				mean, lo := agreement(ref, got)
				fmt.Printf(" | %s AUC %.4f cos mean %.6f min %.6f", s.name, auc, mean, lo)
			}
		}
		fmt.Println()
	}
	return nil
}

// agreement returns the mean and minimum cosine between matching vectors
// (all unit length or zero).
func agreement(a, b [][]float32) (mean, lo float64) {
	lo = math.Inf(1)
	for i := range a {
		s := 0.0
		for j := range a[i] {
			s += float64(a[i][j]) * float64(b[i][j])
		}
		mean += s
		lo = math.Min(lo, s)
	}
	return mean / float64(len(a)), lo
}
