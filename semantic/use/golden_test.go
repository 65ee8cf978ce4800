package use

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"
)

// goldenCase is one sentence of testdata/golden.json, written by
// testdata/golden.js from the JavaScript reference.
type goldenCase struct {
	S   string    `json:"s"`
	IDs []int32   `json:"ids"`
	V   []float32 `json:"v"`
}

func readGolden(t testing.TB) []goldenCase {
	raw, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g []goldenCase
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

// testModel is the embedded model, or the model file $USE_MODEL_FILE
// names (to measure another storage: go run ./gen -storage i8 -out f).
func testModel(t testing.TB) *Model {
	if p := os.Getenv("USE_MODEL_FILE"); p != "" {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ts, err := parseModelFile(string(raw))
		if err != nil {
			t.Fatal(err)
		}
		m, err := newModel(ts)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func cosine(a, b []float32) float64 {
	var d, na, nb float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return d / math.Sqrt(na*nb)
}

// TestGolden checks every golden sentence, embedded alone and all in one
// batch, against the reference's vector.
func TestGolden(t *testing.T) {
	g := readGolden(t)
	if len(g) < 60 {
		t.Fatalf("only %d golden sentences", len(g))
	}
	m := testModel(t)
	texts := make([]string, len(g))
	for i, c := range g {
		texts[i] = c.S
	}
	batch := m.Embed(texts)
	minCos, sum := 1.0, 0.0
	for i, c := range g {
		if ids := m.tok.Encode(c.S); !slices.Equal(ids, c.IDs) && len(ids)+len(c.IDs) > 0 {
			t.Errorf("%q: ids %v, want %v", c.S, ids, c.IDs)
		}
		one := m.EmbedOne(c.S)
		for _, v := range [][]float32{one, batch[i]} {
			cos := cosine(v, c.V)
			minCos = min(minCos, cos)
			sum += cos
			if cos < 0.999 || math.IsNaN(cos) {
				t.Errorf("%q (%d tokens): cosine %.6f with the reference", c.S, len(c.IDs), cos)
			}
		}
	}
	t.Logf("storage %s: cosine with the reference over %d sentences: min %.7f mean %.7f", m.Storage(), len(g), minCos, sum/float64(2*len(g)))
}
