// Package model2vectest writes small model2vec models for tests: a
// model.safetensors, a BERT-style WordPiece tokenizer.json and a
// config.json, in the formats the real models (minishlab/potion-*) use.
package model2vectest

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"github.com/x448/float16"
	"math"
	"os"
	"path/filepath"
	"sort"
)

// Tensor is one tensor to write: its name, dtype (F32, F16, BF16, F64, I8,
// I32 or I64), shape and values in row-major order.
type Tensor struct {
	Name   string
	Dtype  string
	Shape  []int
	Values []float64
}

// Spec is a model to write. Tokens[i] is token id i; Vectors[i] its row.
type Spec struct {
	Tokens  []string
	Vectors [][]float32
	Dtype   string    // of the embeddings; default F32
	Weights []float32 // per-token weights tensor; nil: none
	Mapping []int32   // token id → row tensor; nil: none
	// Normalize is config.json's "normalize"; nil leaves it out.
	Normalize *bool
	// Tokenizer replaces the generated tokenizer.json when not nil.
	Tokenizer []byte
}

// Write writes the model's three files into dir.
func Write(dir string, s Spec) error {
	dim := 0
	if len(s.Vectors) > 0 {
		dim = len(s.Vectors[0])
	}
	dtype := s.Dtype
	if dtype == "" {
		dtype = "F32"
	}
	emb := Tensor{Name: "embeddings", Dtype: dtype, Shape: []int{len(s.Vectors), dim}}
	for _, v := range s.Vectors {
		if len(v) != dim {
			return fmt.Errorf("model2vectest: vectors of different lengths")
		}
		for _, x := range v {
			emb.Values = append(emb.Values, float64(x))
		}
	}
	tensors := []Tensor{emb}
	if s.Weights != nil {
		w := Tensor{Name: "weights", Dtype: "F32", Shape: []int{len(s.Weights)}}
		for _, x := range s.Weights {
			w.Values = append(w.Values, float64(x))
		}
		tensors = append(tensors, w)
	}
	if s.Mapping != nil {
		m := Tensor{Name: "mapping", Dtype: "I32", Shape: []int{len(s.Mapping)}}
		for _, x := range s.Mapping {
			m.Values = append(m.Values, float64(x))
		}
		tensors = append(tensors, m)
	}
	tok := s.Tokenizer
	if tok == nil {
		tok = WordPieceTokenizer(s.Tokens)
	}
	cfg := map[string]any{"model_type": "model2vec", "hidden_dim": dim, "seq_length": 1000000, "tokenizer_name": "test"}
	if s.Normalize != nil {
		cfg["normalize"] = *s.Normalize
	}
	config, _ := json.Marshal(cfg)
	for name, data := range map[string][]byte{
		"model.safetensors": Safetensors(tensors...),
		"tokenizer.json":    tok,
		"config.json":       config,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// WordPieceTokenizer is a tokenizer.json as BERT's (and potion-base-8M's):
// BertNormalizer lowercasing and stripping accents, BertPreTokenizer, and
// a WordPiece model over tokens (id = index) with [UNK] and ## pieces.
func WordPieceTokenizer(tokens []string) []byte {
	vocab := make(map[string]int, len(tokens))
	added := []map[string]any{}
	for i, t := range tokens {
		vocab[t] = i
		if len(t) > 2 && t[0] == '[' && t[len(t)-1] == ']' {
			added = append(added, map[string]any{
				"id": i, "content": t, "single_word": false, "lstrip": false,
				"rstrip": false, "normalized": false, "special": true,
			})
		}
	}
	spec := map[string]any{
		"version":      "1.0",
		"truncation":   nil,
		"padding":      nil,
		"added_tokens": added,
		"normalizer": map[string]any{
			"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
			"strip_accents": nil, "lowercase": true,
		},
		"pre_tokenizer":  map[string]any{"type": "BertPreTokenizer"},
		"post_processor": nil,
		"decoder":        map[string]any{"type": "WordPiece", "prefix": "##", "cleanup": true},
		"model": map[string]any{
			"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
			"max_input_chars_per_word": 100, "vocab": vocab,
		},
	}
	b, _ := json.Marshal(spec)
	return b
}

// Safetensors encodes tensors in the safetensors format: the header's
// length (8 bytes, little-endian), the JSON header padded with spaces to a
// multiple of 8, then the data.
func Safetensors(tensors ...Tensor) []byte {
	header := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	var data []byte
	sorted := append([]Tensor(nil), tensors...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, t := range sorted {
		begin := len(data)
		for _, v := range t.Values {
			data = appendValue(data, t.Dtype, v)
		}
		header[t.Name] = map[string]any{"dtype": t.Dtype, "shape": t.Shape, "data_offsets": []int{begin, len(data)}}
	}
	h, _ := json.Marshal(header)
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	return append(append(out, h...), data...)
}

func appendValue(b []byte, dtype string, v float64) []byte {
	switch dtype {
	case "F64":
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	case "F32":
		return binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(v)))
	case "F16":
		return binary.LittleEndian.AppendUint16(b, float16.Fromfloat32(float32(v)).Bits())
	case "BF16":
		return binary.LittleEndian.AppendUint16(b, uint16(math.Float32bits(float32(v))>>16))
	case "I8":
		return append(b, byte(int8(v)))
	case "I32":
		return binary.LittleEndian.AppendUint32(b, uint32(int32(v)))
	case "I64":
		return binary.LittleEndian.AppendUint64(b, uint64(int64(v)))
	}
	panic("model2vectest: unknown dtype " + dtype)
}
