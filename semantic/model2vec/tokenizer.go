package model2vec

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// tokenizer turns text into token ids as a HuggingFace tokenizer.json
// says, without special tokens (model2vec adds none): normalise, split
// into words, split words into pieces.
type tokenizer struct {
	normalizer   normalizer   // nil: none
	preTokenizer preTokenizer // nil: the text is one word
	model        subwordModel
	unk          int32 // the unknown token's id, -1 if none
	maxID        int32 // largest id the model can produce
	medianLen    int   // median byte length of the vocabulary's tokens
}

// subwordModel splits one word into token ids, appending them to ids;
// scratch is a buffer it may reuse.
type subwordModel interface {
	tokenize(word string, ids []int32, scratch []byte) ([]int32, []byte)
}

// defaultMaxInputChars is WordPiece's max_input_chars_per_word default.
const defaultMaxInputChars = 100

// parseTokenizer reads a tokenizer.json. Only what changes token ids is
// read: normalizer, pre_tokenizer and model.
func parseTokenizer(data []byte) (*tokenizer, error) {
	var spec struct {
		Normalizer   json.RawMessage `json:"normalizer"`
		PreTokenizer json.RawMessage `json:"pre_tokenizer"`
		Model        struct {
			Type          string          `json:"type"`
			Vocab         json.RawMessage `json:"vocab"`
			UnkToken      *string         `json:"unk_token"`
			UnkID         *int32          `json:"unk_id"`
			Prefix        *string         `json:"continuing_subword_prefix"`
			MaxInputChars int             `json:"max_input_chars_per_word"`
			ByteFallback  bool            `json:"byte_fallback"`
		} `json:"model"`
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, fmt.Errorf("tokenizer.json: %v", err)
	}
	t := &tokenizer{unk: -1}
	var err error
	if t.normalizer, err = parseNormalizer(spec.Normalizer); err != nil {
		return nil, fmt.Errorf("tokenizer.json: %v", err)
	}
	if t.preTokenizer, err = parsePreTokenizer(spec.PreTokenizer); err != nil {
		return nil, fmt.Errorf("tokenizer.json: %v", err)
	}
	var lens []int
	switch m := spec.Model; m.Type {
	case "WordPiece":
		var vocab map[string]int32
		if err := json.Unmarshal(m.Vocab, &vocab); err != nil {
			return nil, fmt.Errorf("tokenizer.json: WordPiece vocab: %v", err)
		}
		wp := &wordPiece{vocab: vocab, unk: -1, prefix: "##", maxChars: defaultMaxInputChars}
		if m.Prefix != nil {
			wp.prefix = *m.Prefix
		}
		if m.MaxInputChars > 0 {
			wp.maxChars = m.MaxInputChars
		}
		unk := "[UNK]"
		if m.UnkToken != nil {
			unk = *m.UnkToken
		}
		if id, ok := vocab[unk]; ok {
			wp.unk = id
		}
		t.model, t.unk = wp, wp.unk
		for tok, id := range vocab {
			if id < 0 {
				return nil, fmt.Errorf("tokenizer.json: token %q has negative id %d", tok, id)
			}
			t.maxID = max(t.maxID, id)
			lens = append(lens, len(tok))
		}
	case "Unigram":
		var pieces [][2]any
		if err := json.Unmarshal(m.Vocab, &pieces); err != nil {
			return nil, fmt.Errorf("tokenizer.json: Unigram vocab: %v", err)
		}
		unk := int32(-1)
		if m.UnkID != nil {
			unk = *m.UnkID
		}
		u, err := newUnigram(pieces, unk, m.ByteFallback)
		if err != nil {
			return nil, fmt.Errorf("tokenizer.json: %v", err)
		}
		t.model, t.unk, t.maxID = u, u.unk, int32(len(pieces)-1)
		for _, p := range pieces {
			lens = append(lens, len(p[0].(string)))
		}
	case "":
		return nil, errors.New("tokenizer.json: model has no type")
	default:
		return nil, fmt.Errorf("tokenizer.json: model %q is not supported (want WordPiece or Unigram)", m.Type)
	}
	if len(lens) == 0 {
		return nil, errors.New("tokenizer.json: empty vocabulary")
	}
	sort.Ints(lens)
	t.medianLen = max(lens[len(lens)/2], 1)
	return t, nil
}

// encode appends the token ids of text to ids.
func (t *tokenizer) encode(text string, ids []int32) []int32 {
	if t.normalizer != nil {
		text = t.normalizer.normalize(text)
	}
	words := []string{text}
	if t.preTokenizer != nil {
		words = t.preTokenizer.split(words)
	}
	var scratch []byte
	for _, w := range words {
		if w != "" {
			ids, scratch = t.model.tokenize(w, ids, scratch)
		}
	}
	return ids
}
