package mockupstream

import (
	"cmp"
	"encoding/base64"
	"encoding/binary"
	"hash/fnv"
	"math"
	"net/http"
	"strconv"
)

// Embedding dimensions: the default and the largest accepted.
const (
	defaultDimensions = 16
	maxDimensions     = 8192
)

// embeddingRequest is the part of an OpenAI embeddings request the mock reads.
type embeddingRequest struct {
	Input          stringList `json:"input"`
	Model          string     `json:"model"`
	Dimensions     *int       `json:"dimensions"`
	EncodingFormat string     `json:"encoding_format"`
}

// embedding is one vector of an embeddings answer; Embedding is a
// []float32, or a base64 string of little-endian float32s.
type embedding struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"`
}

// embeddings answers POST /v1/embeddings with one deterministic vector per
// input text.
func (s *Server) embeddings(ex *exchange) {
	var req embeddingRequest
	if !ex.decode(&req) {
		return
	}
	dims := defaultDimensions
	if req.Dimensions != nil {
		dims = *req.Dimensions
	}
	switch {
	case len(req.Input) == 0:
		ex.invalid("input is required")
		return
	case dims < 1 || dims > maxDimensions:
		ex.invalid("dimensions must be between 1 and " + strconv.Itoa(maxDimensions))
		return
	case req.EncodingFormat != "" && req.EncodingFormat != "float" && req.EncodingFormat != "base64":
		ex.invalid(`encoding_format must be "float" or "base64"`)
		return
	}
	data := make([]embedding, len(req.Input))
	for i, text := range req.Input {
		vec := embed(text, dims)
		var v any = vec
		if req.EncodingFormat == "base64" {
			v = encodeBase64(vec)
		}
		data[i] = embedding{Object: "embedding", Index: i, Embedding: v}
	}
	tokens := countWords(req.Input...)
	ex.json(http.StatusOK, struct {
		Object string      `json:"object"`
		Data   []embedding `json:"data"`
		Model  string      `json:"model"`
		Usage  any         `json:"usage"`
	}{"list", data, cmp.Or(req.Model, defaultModel), struct {
		PromptTokens int `json:"prompt_tokens"`
		TotalTokens  int `json:"total_tokens"`
	}{tokens, tokens}})
}

// embed returns a deterministic, L2-normalised vector of dims values for
// text, drawn from a splitmix64 sequence seeded with the text's FNV-1a hash.
func embed(text string, dims int) []float32 {
	h := fnv.New64a()
	h.Write([]byte(text))
	state := h.Sum64()
	raw := make([]float64, dims)
	norm := 0.0
	for i := range raw {
		state += 0x9e3779b97f4a7c15
		z := state
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		z ^= z >> 31
		raw[i] = float64(z>>11)/(1<<53)*2 - 1 // uniform in [-1, 1)
		norm += raw[i] * raw[i]
	}
	norm = math.Sqrt(norm)
	if norm == 0 {
		raw[0], norm = 1, 1
	}
	v := make([]float32, dims)
	for i, x := range raw {
		v[i] = float32(x / norm)
	}
	return v
}

// encodeBase64 encodes v as OpenAI's base64 format: little-endian float32s.
func encodeBase64(v []float32) string {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(b)
}
