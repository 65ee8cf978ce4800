package model2vec

import (
	"unicode/utf8"
)

// wordPiece is BERT's subword model: each word is split greedily into the
// longest pieces in the vocabulary, pieces after the first spelled with
// the continuation prefix (##). A word with a part no piece covers, or
// longer than maxChars characters, is the unknown token as a whole.
type wordPiece struct {
	vocab    map[string]int32
	unk      int32 // -1: the vocabulary has no unknown token
	prefix   string
	maxChars int
}

func (w *wordPiece) tokenize(word string, ids []int32, scratch []byte) ([]int32, []byte) {
	if utf8.RuneCountInString(word) > w.maxChars {
		return w.unknown(ids), scratch
	}
	first := len(ids)
	for start := 0; start < len(word); {
		end := len(word)
		for ; end > start; end = prevBoundary(word, end) {
			var id int32
			var ok bool
			if start == 0 {
				id, ok = w.vocab[word[:end]]
			} else {
				scratch = append(append(scratch[:0], w.prefix...), word[start:end]...)
				id, ok = w.vocab[string(scratch)] // no allocation: map index by converted bytes
			}
			if ok {
				ids = append(ids, id)
				break
			}
		}
		if end == start {
			return w.unknown(ids[:first]), scratch
		}
		start = end
	}
	return ids, scratch
}

func (w *wordPiece) unknown(ids []int32) []int32 {
	if w.unk < 0 {
		return ids // HuggingFace fails the whole text here; dropping the word is what model2vec would do with it anyway
	}
	return append(ids, w.unk)
}

// prevBoundary is the start of the character that ends at i.
func prevBoundary(s string, i int) int {
	i--
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}
