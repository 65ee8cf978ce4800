package model2vec

import (
	"math"
	"strings"
	"testing"

	"github.com/ragproxy/ragproxy/semantic/model2vec/model2vectest"
)

// testTokens is a small BERT-style vocabulary: special tokens, words,
// ## continuation pieces, punctuation and a CJK character.
var testTokens = []string{
	"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
	"hello", "world", "cafe", "naive", "un", "##aff", "##able", "!", ",", "?", "$", "5",
	"中", "i", "how", "do", "can", "reset", "my", "password", "##s", "a",
}

// testVectors gives token i a one-hot vector in dimension i%dim, scaled by
// (i+1) so means are not accidentally unit vectors.
func testVectors(n, dim int) [][]float32 {
	out := make([][]float32, n)
	for i := range out {
		out[i] = make([]float32, dim)
		out[i][i%dim] = float32(i + 1)
	}
	return out
}

// writeTestModel writes spec (testTokens and testVectors unless set) to a
// temporary directory and loads it.
func writeTestModel(t testing.TB, spec model2vectest.Spec) (*Model, string) {
	t.Helper()
	if spec.Tokens == nil {
		spec.Tokens = testTokens
	}
	if spec.Vectors == nil {
		spec.Vectors = testVectors(len(spec.Tokens), 32)
	}
	dir := t.TempDir()
	if err := model2vectest.Write(dir, spec); err != nil {
		t.Fatal(err)
	}
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m, dir
}

// pieces is the tokens of text as the tokenizer splits it, [UNK] included.
func pieces(m *Model, text string) string {
	byID := map[int32]string{}
	if wp, ok := m.tok.model.(*wordPiece); ok {
		for s, id := range wp.vocab {
			byID[id] = s
		}
	}
	if u, ok := m.tok.model.(*unigram); ok {
		for s, id := range u.vocab {
			byID[id] = s
		}
	}
	var out []string
	for _, id := range m.tok.encode(text, nil) {
		out = append(out, byID[id])
	}
	return strings.Join(out, " ")
}

func near(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-5 {
			return false
		}
	}
	return true
}
