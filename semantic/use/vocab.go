package use

import (
	_ "embed"
	"encoding/binary"
	"errors"
	"sync"
)

// modelFile is the converted model: vocabulary and weights (see gen/).
//
//go:embed use.bin
var modelFile string

// reservedPieces is how many leading vocabulary entries (unknown, <s>, </s>,
// three extra ids) the tokenizer never produces from text; id 0 stands for
// any unknown character, as in the reference.
const reservedPieces = 6

// vocabulary is the piece list and the scores of the SentencePiece model.
type vocabulary struct {
	pieces []string
	scores []float64 // exactly the reference's JSON numbers, for its tie rule
}

var (
	vocabOnce sync.Once
	vocabVal  vocabulary
	vocabErr  error
	files     func() (map[string]tensor, error) = sync.OnceValues(func() (map[string]tensor, error) { return parseModelFile(modelFile) })
)

// loadVocab decodes the embedded vocabulary once.
func loadVocab() (vocabulary, error) {
	vocabOnce.Do(func() {
		ts, err := files()
		if err != nil {
			vocabErr = err
			return
		}
		vocabVal, vocabErr = decodeVocab(ts)
	})
	return vocabVal, vocabErr
}

// decodeVocab reads vocab/pieces (uvarint-length-prefixed UTF-8 strings) and
// vocab/scores (float64, one per piece).
func decodeVocab(ts map[string]tensor) (vocabulary, error) {
	pt, ok1 := ts["vocab/pieces"]
	st, ok2 := ts["vocab/scores"]
	if !ok1 || !ok2 || pt.dtype != dtBytes || len(st.dims) != 1 {
		return vocabulary{}, errors.New("use: model file has no vocabulary")
	}
	n := st.dims[0]
	if err := st.check("vocab/scores", dtF64, n); err != nil {
		return vocabulary{}, err
	}
	v := vocabulary{pieces: make([]string, 0, n), scores: st.asF64()}
	b := pt.data
	for len(b) > 0 {
		l, k := binary.Uvarint([]byte(b[:min(len(b), binary.MaxVarintLen64)]))
		if k <= 0 || uint64(len(b)-k) < l {
			return vocabulary{}, errors.New("use: corrupt vocabulary")
		}
		v.pieces = append(v.pieces, b[k:k+int(l)])
		b = b[k+int(l):]
	}
	if len(v.pieces) != n || n <= reservedPieces {
		return vocabulary{}, errors.New("use: vocabulary pieces and scores disagree")
	}
	return v, nil
}

// Vocab returns the model's vocabulary: piece i is token id i, with its
// SentencePiece log-probability score. The first six ids are reserved
// (unknown, <s>, </s>, extras); words are prefixed with '▁' (U+2581).
// The slices are fresh copies. It panics if the embedded file is corrupt,
// which the package's tests rule out.
func Vocab() (pieces []string, scores []float32) {
	v, err := loadVocab()
	if err != nil {
		panic(err)
	}
	scores = make([]float32, len(v.scores))
	for i, s := range v.scores {
		scores[i] = float32(s)
	}
	return append([]string(nil), v.pieces...), scores
}
