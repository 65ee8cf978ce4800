package model2vec

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragproxy/ragproxy/semantic/model2vec/model2vectest"
)

func id(tok string) int {
	for i, t := range testTokens {
		if t == tok {
			return i
		}
	}
	panic(tok)
}

// mean is the plain mean of the test vectors of tokens.
func mean(dim int, tokens ...string) []float32 {
	vecs := testVectors(len(testTokens), dim)
	out := make([]float32, dim)
	for _, t := range tokens {
		for i, x := range vecs[id(t)] {
			out[i] += x / float32(len(tokens))
		}
	}
	return out
}

func unit(v []float32) []float32 {
	var sq float64
	for _, x := range v {
		sq += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) / math.Sqrt(sq))
	}
	return out
}

func TestEmbedOneIsTheNormalisedMean(t *testing.T) {
	m, _ := writeTestModel(t, model2vectest.Spec{})
	if m.Dim() != 32 {
		t.Fatalf("Dim = %d, want 32", m.Dim())
	}
	got := m.EmbedOne("Hello, world! unaffablex")
	if want := unit(mean(32, "hello", ",", "world", "!")); !near(got, want) {
		t.Errorf("EmbedOne = %v, want the unit mean %v ([UNK] dropped)", got, want)
	}
	if got := m.EmbedOne("unaffablex ☃"); !near(got, make([]float32, 32)) {
		t.Errorf("a text of unknown words: %v, want the zero vector", got)
	}
	both := m.Embed([]string{"hello", "world"})
	if len(both) != 2 || !near(both[0], m.EmbedOne("hello")) || !near(both[1], m.EmbedOne("world")) {
		t.Errorf("Embed differs from EmbedOne")
	}
}

func TestEmbedWholeSaysWhenCut(t *testing.T) {
	m, _ := writeTestModel(t, model2vectest.Spec{})
	short := strings.Repeat("hello ", 10)
	if v, whole := m.EmbedWhole(short); !whole || !near(v, m.EmbedOne(short)) {
		t.Errorf("a short text: whole %v, or vector differs from EmbedOne", whole)
	}
	long := strings.Repeat("$", MaxTokens)
	a, wholeA := m.EmbedWhole(long + "5")
	b, wholeB := m.EmbedWhole(long + "!")
	if wholeA || wholeB || !near(a, b) {
		t.Errorf("texts differing past %d tokens: whole %v %v, equal vectors %v; want not whole, equal", MaxTokens, wholeA, wholeB, near(a, b))
	}
}

func TestNormalizeFalseKeepsTheMean(t *testing.T) {
	off := false
	m, _ := writeTestModel(t, model2vectest.Spec{Normalize: &off})
	if got, want := m.EmbedOne("hello world"), mean(32, "hello", "world"); !near(got, want) {
		t.Errorf("EmbedOne = %v, want the mean %v", got, want)
	}
}

func TestWeightsAndMapping(t *testing.T) {
	off := false
	weights := make([]float32, len(testTokens))
	for i := range weights {
		weights[i] = 1
	}
	weights[id("hello")] = 3
	mapping := make([]int32, len(testTokens))
	for i := range mapping {
		mapping[i] = int32(i % 4) // rows 0-3 only
	}
	vectors := testVectors(4, 32)
	m, _ := writeTestModel(t, model2vectest.Spec{Normalize: &off, Weights: weights, Mapping: mapping, Vectors: vectors})
	h, w := id("hello"), id("world")
	want := make([]float32, 32)
	for i := range want {
		want[i] = (3*vectors[h%4][i] + vectors[w%4][i]) / 2
	}
	if got := m.EmbedOne("hello world"); !near(got, want) {
		t.Errorf("EmbedOne = %v, want (3·row(hello) + row(world)) / 2 = %v", got, want)
	}
}

func TestHalfAndBFloat16(t *testing.T) {
	vecs := testVectors(len(testTokens), 32)
	vecs[id("hello")][5] = -0.375 // exact in F16 and BF16
	vecs[id("world")][7] = 6.103515625e-05
	ref, _ := writeTestModel(t, model2vectest.Spec{Vectors: vecs})
	for _, dtype := range []string{"F16", "BF16", "F64"} {
		m, _ := writeTestModel(t, model2vectest.Spec{Vectors: vecs, Dtype: dtype})
		if got, want := m.EmbedOne("hello world"), ref.EmbedOne("hello world"); !near(got, want) {
			t.Errorf("%s: EmbedOne = %v, want %v as with F32", dtype, got, want)
		}
	}
}

func TestIdentityNamesTheFiles(t *testing.T) {
	a, dir := writeTestModel(t, model2vectest.Spec{})
	again, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	vecs := testVectors(len(testTokens), 32)
	vecs[3][3] = 42
	other, _ := writeTestModel(t, model2vectest.Spec{Vectors: vecs})
	if a.Identity() != again.Identity() || a.Identity() == other.Identity() || !strings.HasPrefix(a.Identity(), "model2vec/32/") {
		t.Errorf("identities %q, %q (same files), %q (one value changed)", a.Identity(), again.Identity(), other.Identity())
	}
}

func TestLoadErrors(t *testing.T) {
	good := func(t *testing.T) string {
		dir := t.TempDir()
		if err := model2vectest.Write(dir, model2vectest.Spec{Tokens: testTokens, Vectors: testVectors(len(testTokens), 8)}); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	put := func(name string, data []byte) func(string) error {
		return func(dir string) error { return os.WriteFile(filepath.Join(dir, name), data, 0o644) }
	}
	tensor := func(tt ...model2vectest.Tensor) []byte { return model2vectest.Safetensors(tt...) }
	emb := func(dtype string, shape ...int) model2vectest.Tensor {
		n := 1
		for _, d := range shape {
			n *= d
		}
		return model2vectest.Tensor{Name: "embeddings", Dtype: dtype, Shape: shape, Values: make([]float64, n)}
	}
	n := len(testTokens)
	header := func(h, data string) []byte {
		return append(append(binary.LittleEndian.AppendUint64(nil, uint64(len(h))), h...), data...)
	}
	for _, c := range []struct {
		name  string
		spoil func(dir string) error
		want  string
	}{
		{"no model file", func(d string) error { return os.Remove(filepath.Join(d, ModelFile)) }, "model.safetensors"},
		{"no tokenizer", func(d string) error { return os.Remove(filepath.Join(d, TokenizerFile)) }, "tokenizer.json"},
		{"no config", func(d string) error { return os.Remove(filepath.Join(d, ConfigFile)) }, "config.json"},
		{"config not JSON", put(ConfigFile, []byte("{")), "config.json"},
		{"hidden_dim wrong", put(ConfigFile, []byte(`{"hidden_dim": 7}`)), "hidden_dim 7"},
		{"tokenizer not JSON", put(TokenizerFile, []byte("[")), "tokenizer.json"},
		{"a directory as model", func(d string) error {
			os.Remove(filepath.Join(d, ModelFile))
			return os.Mkdir(filepath.Join(d, ModelFile), 0o755)
		}, "not a regular file"},
		{"empty model", put(ModelFile, nil), "shorter than"},
		{"header past the file", put(ModelFile, binary.LittleEndian.AppendUint64(nil, 1000)), "past the file"},
		{"huge header length", put(ModelFile, binary.LittleEndian.AppendUint64(make([]byte, 0, 64), math.MaxUint64)), "past the file"},
		{"header not JSON", put(ModelFile, header("{nope", "")), "header"},
		{"no embeddings", put(ModelFile, tensor(model2vectest.Tensor{Name: "other", Dtype: "F32", Shape: []int{1}, Values: []float64{1}})), `no "embeddings"`},
		{"1-D embeddings", put(ModelFile, tensor(emb("F32", n))), "want [tokens, dim]"},
		{"too few rows", put(ModelFile, tensor(emb("F32", n-1, 8))), "ids up to"},
		{"integer embeddings", put(ModelFile, tensor(emb("I32", n, 8))), "dtype I32"},
		{"unknown dtype", put(ModelFile, header(`{"embeddings":{"dtype":"F8_E4M3","shape":[1,1],"data_offsets":[0,1]}}`, "\x00")), "unsupported dtype"},
		{"offsets past the data", put(ModelFile, header(`{"embeddings":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}}`, "abcd")), "do not hold"},
		{"shape larger than bytes", put(ModelFile, header(`{"embeddings":{"dtype":"F32","shape":[4000000000,4000000000],"data_offsets":[0,4]}}`, "abcd")), "out of range"},
		{"shape beyond its offsets", put(ModelFile, header(`{"embeddings":{"dtype":"F32","shape":[4,4,4,4],"data_offsets":[0,4]}}`, "abcd")), "do not hold"},
		{"negative dimension", put(ModelFile, header(`{"embeddings":{"dtype":"F32","shape":[-1,1],"data_offsets":[0,4]}}`, "abcd")), "out of range"},
		{"reversed offsets", put(ModelFile, header(`{"embeddings":{"dtype":"F32","shape":[1,1],"data_offsets":[4,0]}}`, "abcd")), "do not hold"},
		{"overlapping tensors", put(ModelFile, header(`{"embeddings":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]},"weights":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, "abcd")), "overlap"},
		{"short weights", put(ModelFile, tensor(emb("F32", n, 8), model2vectest.Tensor{Name: "weights", Dtype: "F32", Shape: []int{2}, Values: []float64{1, 1}})), "weights shape"},
		{"float mapping", put(ModelFile, tensor(emb("F32", 2, 8), model2vectest.Tensor{Name: "mapping", Dtype: "F32", Shape: []int{n}, Values: make([]float64, n)})), "want integer rows"},
		{"mapping past the rows", put(ModelFile, tensor(emb("F32", 2, 8), model2vectest.Tensor{Name: "mapping", Dtype: "I64", Shape: []int{n}, Values: append(make([]float64, n-1), 2)})), "not a row"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := good(t)
			if err := c.spoil(dir); err != nil {
				t.Fatal(err)
			}
			_, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Load: error %v, want one containing %q", err, c.want)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("Load of a missing directory: no error")
	}
}

// FuzzParseSafetensors: any bytes give tensors or an error, never a
// panic, and every tensor it returns lies inside the file.
func FuzzParseSafetensors(f *testing.F) {
	f.Add(model2vectest.Safetensors(model2vectest.Tensor{Name: "embeddings", Dtype: "F16", Shape: []int{2, 3}, Values: []float64{1, 2, 3, 4, 5, 6}}))
	f.Add(model2vectest.Safetensors(model2vectest.Tensor{Name: "a", Dtype: "I8", Shape: []int{0}}, model2vectest.Tensor{Name: "b", Dtype: "BF16", Shape: []int{1}, Values: []float64{1}}))
	f.Add([]byte("\x10\x00\x00\x00\x00\x00\x00\x00{}              "))
	f.Fuzz(func(t *testing.T, file []byte) {
		tensors, err := parseSafetensors(file)
		if err != nil {
			return
		}
		for name, tt := range tensors {
			if len(tt.data)%int(dtypeSize[tt.dtype]) != 0 {
				t.Fatalf("tensor %q: %d bytes of %s", name, len(tt.data), tt.dtype)
			}
			_ = tt.floats()
		}
	})
}
