package model2vec

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
)

// MaxTokens is the most tokens of a text that count, as model2vec's
// default max_length: the rest of a longer text is ignored.
const MaxTokens = 512

// The files of a model2vec model directory, and the most bytes read of
// each: a corrupt or wrong file gets an error, not all the memory.
const (
	ModelFile     = "model.safetensors"
	TokenizerFile = "tokenizer.json"
	ConfigFile    = "config.json"

	maxModelBytes     = 4 << 30   // potion-multilingual-128M is ~0.5 GB
	maxTokenizerBytes = 256 << 20 // a 500k-token vocabulary is ~30 MB
	maxConfigBytes    = 1 << 20
	maxDim            = 16384
)

// Model is a model2vec static embedding model: one vector per token, and
// a text's vector is the mean of its tokens' vectors (weighted when the
// model has per-token weights), L2-normalised when its config says so.
// It is safe for concurrent use.
type Model struct {
	tok       *tokenizer
	vectors   []float32 // rows × dim
	dim       int
	weights   []float32 // per token id; nil: all 1
	mapping   []int32   // token id → row; nil: the id is the row
	normalize bool
	identity  string
}

// Load reads a model2vec model from dir: model.safetensors (an
// "embeddings" matrix, F32, F16, BF16, F64 or I8, with optional
// "weights" and "mapping" per token), tokenizer.json (a HuggingFace
// tokenizer with a WordPiece or Unigram model) and config.json (its
// "normalize", default true). Anything missing, malformed, unsupported or
// inconsistent is an error naming the file.
func Load(dir string) (*Model, error) {
	files := make(map[string][]byte, 3)
	for _, f := range []struct {
		name  string
		limit int64
	}{{ConfigFile, maxConfigBytes}, {TokenizerFile, maxTokenizerBytes}, {ModelFile, maxModelBytes}} {
		name := f.name
		b, err := readBounded(filepath.Join(dir, name), f.limit)
		if err != nil {
			return nil, fmt.Errorf("model2vec: %v", err)
		}
		files[name] = b
	}
	m := &Model{normalize: true}
	var cfg struct {
		Normalize *bool `json:"normalize"`
		HiddenDim int   `json:"hidden_dim"`
	}
	if err := json.Unmarshal(files[ConfigFile], &cfg); err != nil {
		return nil, fmt.Errorf("model2vec: %s: %v", ConfigFile, err)
	}
	if cfg.Normalize != nil {
		m.normalize = *cfg.Normalize
	}
	tok, err := parseTokenizer(files[TokenizerFile])
	if err != nil {
		return nil, fmt.Errorf("model2vec: %v", err)
	}
	m.tok = tok
	if err := m.loadTensors(files[ModelFile]); err != nil {
		return nil, fmt.Errorf("model2vec: %s: %v", ModelFile, err)
	}
	if cfg.HiddenDim != 0 && cfg.HiddenDim != m.dim {
		return nil, fmt.Errorf("model2vec: %s says hidden_dim %d, %s has %d", ConfigFile, cfg.HiddenDim, ModelFile, m.dim)
	}
	m.identity = identity(files, m.dim)
	return m, nil
}

// loadTensors takes the embeddings, weights and mapping from the
// safetensors file and checks that every token id the tokenizer can
// produce has a row.
func (m *Model) loadTensors(file []byte) error {
	tensors, err := parseSafetensors(file)
	if err != nil {
		return err
	}
	emb, ok := tensors["embeddings"]
	if !ok {
		return fmt.Errorf("no \"embeddings\" tensor")
	}
	if len(emb.shape) != 2 || emb.shape[0] == 0 || emb.shape[1] == 0 || emb.shape[1] > maxDim {
		return fmt.Errorf("embeddings shape %v: want [tokens, dim] with 0 < dim <= %d", emb.shape, maxDim)
	}
	if emb.dtype == "I32" || emb.dtype == "I64" {
		return fmt.Errorf("embeddings dtype %s: want F32, F16, BF16, F64 or I8", emb.dtype)
	}
	rows := emb.shape[0]
	m.dim = emb.shape[1]
	m.vectors = emb.floats()
	ids := int(m.tok.maxID) + 1 // token ids the tokenizer can produce
	if w, ok := tensors["weights"]; ok {
		if len(w.shape) != 1 || w.shape[0] < ids {
			return fmt.Errorf("weights shape %v: want one per token (%d)", w.shape, ids)
		}
		m.weights = w.floats()
	}
	if mt, ok := tensors["mapping"]; ok {
		mapping, isInt := mt.ints()
		if !isInt || len(mt.shape) != 1 || len(mapping) < ids {
			return fmt.Errorf("mapping %s %v: want integer rows, one per token (%d)", mt.dtype, mt.shape, ids)
		}
		m.mapping = make([]int32, len(mapping))
		for i, r := range mapping {
			if r < 0 || r >= int64(rows) {
				return fmt.Errorf("mapping[%d] = %d is not a row of embeddings (%d rows)", i, r, rows)
			}
			m.mapping[i] = int32(r)
		}
	} else if ids > rows {
		return fmt.Errorf("embeddings has %d rows, the tokenizer has ids up to %d", rows, ids-1)
	}
	return nil
}

// identity names the model by its files' content, so two models never
// share cached vectors and the same files always do.
func identity(files map[string][]byte, dim int) string {
	h := sha256.New()
	for _, name := range []string{ConfigFile, TokenizerFile, ModelFile} {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(files[name])))
		h.Write(n[:])
		h.Write(files[name])
	}
	return fmt.Sprintf("model2vec/%d/%s", dim, hex.EncodeToString(h.Sum(nil)[:16]))
}

// Dim is the length of the model's vectors.
func (m *Model) Dim() int { return m.dim }

// Identity is a stable name of the model: its vector length and a hash of
// its three files' content.
func (m *Model) Identity() string { return m.identity }

// Embed returns the vectors of texts, in order.
func (m *Model) Embed(texts []string) [][]float32 {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = m.EmbedOne(t)
	}
	return out
}

// EmbedOne returns the vector of text: the mean of its first MaxTokens
// known tokens' vectors, unit length if the model normalises. A text with
// no known token has the zero vector.
func (m *Model) EmbedOne(text string) []float32 {
	vec, _ := m.EmbedWhole(text)
	return vec
}

// EmbedWhole is EmbedOne, and whether all of text counted: false when it
// was cut to MaxTokens tokens, so that two texts differing only past the
// cut would have the same vector.
func (m *Model) EmbedWhole(text string) (vec []float32, whole bool) {
	ids, whole := m.tokenIDs(text)
	return m.pool(ids), whole
}

// pool is the (weighted) mean of the rows of ids.
func (m *Model) pool(ids []int32) []float32 {
	sum := make([]float32, m.dim)
	for _, id := range ids {
		row := int(id)
		if m.mapping != nil {
			row = int(m.mapping[id])
		}
		w := float32(1)
		if m.weights != nil {
			w = m.weights[id]
		}
		addScaled(sum, m.vectors[row*m.dim:(row+1)*m.dim], w)
	}
	n := float32(max(len(ids), 1))
	var sq float64
	for i := range sum {
		sum[i] /= n
		sq += float64(sum[i]) * float64(sum[i])
	}
	if m.normalize && sq > 0 {
		inv := float32(1 / max(math.Sqrt(sq), 1e-12))
		for i := range sum {
			sum[i] *= inv
		}
	}
	return sum
}

// tokenIDs is what model2vec pools for text: the text cut to MaxTokens ×
// the median token length in characters (model2vec's shortcut before
// tokenizing), tokenized, the unknown token dropped, the first MaxTokens.
// whole is false if either cut dropped anything.
func (m *Model) tokenIDs(text string) (ids []int32, whole bool) {
	cut := truncateChars(text, MaxTokens*m.tok.medianLen)
	ids = m.tok.encode(cut, make([]int32, 0, 32))
	known := ids[:0]
	for _, id := range ids {
		if id != m.tok.unk {
			known = append(known, id)
		}
	}
	whole = len(cut) == len(text) && len(known) <= MaxTokens
	if len(known) > MaxTokens {
		known = known[:MaxTokens]
	}
	return known, whole
}

// truncateChars is s cut to its first n characters.
func truncateChars(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// addScaled adds w·v to dst, eight at a time (the pooling is most of an
// embedding's time).
func addScaled(dst, v []float32, w float32) {
	v = v[:len(dst)]
	for len(dst) >= 8 {
		d, x := dst[:8:8], v[:8:8]
		d[0] += w * x[0]
		d[1] += w * x[1]
		d[2] += w * x[2]
		d[3] += w * x[3]
		d[4] += w * x[4]
		d[5] += w * x[5]
		d[6] += w * x[6]
		d[7] += w * x[7]
		dst, v = dst[8:], v[8:]
	}
	for i := range dst {
		dst[i] += w * v[i]
	}
}
