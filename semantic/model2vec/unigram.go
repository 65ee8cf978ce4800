package model2vec

import (
	"fmt"
	"math"
	"unicode/utf8"
)

// unigram is SentencePiece's unigram model: a word is split into the
// pieces whose scores (log probabilities) add up highest (Viterbi). A
// character no piece covers is the unknown token (scored the lowest score
// minus 10, as HuggingFace does) or, with byte fallback, its UTF-8 bytes as
// <0xXX> pieces.
type unigram struct {
	vocab        map[string]int32
	scores       []float64
	unk          int32 // -1: none
	unkScore     float64
	maxPieceLen  int // bytes
	byteFallback bool
}

const unigramUnkPenalty = 10.0

func newUnigram(pieces [][2]any, unk int32, byteFallback bool) (*unigram, error) {
	u := &unigram{vocab: make(map[string]int32, len(pieces)), scores: make([]float64, len(pieces)), unk: unk, byteFallback: byteFallback}
	minScore := math.Inf(1)
	for i, p := range pieces {
		piece, ok1 := p[0].(string)
		score, ok2 := p[1].(float64)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("unigram vocab entry %d: want [piece, score], got %v", i, p)
		}
		if _, dup := u.vocab[piece]; !dup {
			u.vocab[piece] = int32(i)
		}
		u.scores[i] = score
		minScore = min(minScore, score)
		u.maxPieceLen = max(u.maxPieceLen, len(piece))
	}
	if len(pieces) == 0 {
		minScore = 0
	}
	u.unkScore = minScore - unigramUnkPenalty
	if unk >= int32(len(pieces)) {
		return nil, fmt.Errorf("unigram unk_id %d is past the vocabulary (%d pieces)", unk, len(pieces))
	}
	return u, nil
}

func (u *unigram) tokenize(word string, ids []int32, scratch []byte) ([]int32, []byte) {
	n := len(word)
	// best[i]: the best split of word[:i]; from[i]: where its last piece starts, id that piece
	type node struct {
		score float64
		from  int
		id    int32
		set   bool
	}
	nodes := make([]node, n+1)
	nodes[0].set = true
	for i := 0; i < n; {
		if !nodes[i].set {
			i += runeLenAt(word, i)
			continue
		}
		single := runeLenAt(word, i)
		hasSingle := false
		for l := 1; l <= u.maxPieceLen && i+l <= n; l++ {
			id, ok := u.vocab[word[i:i+l]]
			if !ok {
				continue
			}
			if l == single {
				hasSingle = true
			}
			cand := nodes[i].score + u.scores[id]
			if t := &nodes[i+l]; !t.set || cand > t.score {
				*t = node{score: cand, from: i, id: id, set: true}
			}
		}
		if !hasSingle {
			cand := nodes[i].score + u.unkScore
			if t := &nodes[i+single]; !t.set || cand > t.score {
				*t = node{score: cand, from: i, id: -1, set: true}
			}
		}
		i += single
	}
	// walk back from the end, then append in order
	first := len(ids)
	for end := n; end > 0; end = nodes[end].from {
		nd := nodes[end]
		if nd.id >= 0 {
			ids = append(ids, nd.id)
			continue
		}
		if !u.byteFallback && len(ids) > first && ids[len(ids)-1] == u.unk {
			continue // consecutive unknown characters are one unknown token (fuse_unk)
		}
		ids = u.unknownBytes(ids, word[nd.from:end])
	}
	for i, j := first, len(ids)-1; i < j; i, j = i+1, j-1 {
		ids[i], ids[j] = ids[j], ids[i]
	}
	return ids, scratch
}

// unknownBytes appends, in reverse order (the caller reverses), the ids for
// a character no piece covers: its bytes as <0xXX> pieces with byte
// fallback, else the unknown token.
func (u *unigram) unknownBytes(ids []int32, char string) []int32 {
	if u.byteFallback {
		start := len(ids)
		for i := len(char) - 1; i >= 0; i-- {
			id, ok := u.vocab[fmt.Sprintf("<0x%02X>", char[i])]
			if !ok {
				break
			}
			ids = append(ids, id)
		}
		if len(ids)-start == len(char) {
			return ids
		}
		ids = ids[:start]
	}
	if u.unk >= 0 {
		ids = append(ids, u.unk)
	}
	return ids
}

func runeLenAt(s string, i int) int {
	_, size := utf8.DecodeRuneInString(s[i:])
	return size
}
