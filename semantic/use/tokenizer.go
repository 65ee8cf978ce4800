package use

import (
	"slices"
	"sync"
	"unicode/utf16"

	"golang.org/x/text/unicode/norm"
)

// wordSep is SentencePiece's word-boundary symbol, '▁'.
const wordSep = '\u2581'

// Tokenizer splits text into vocabulary ids exactly as the reference
// @energetic-ai/embeddings@0.2.0 does: NFKC, spaces to '▁' with one leading
// '▁', then a Viterbi search over the pieces (ties go to the later
// candidate), unknown characters as id 0, runs of unknowns merged into one.
// It is safe for concurrent use.
type Tokenizer struct {
	// children maps (node<<32 | rune) to the child node of a trie over the
	// pieces' runes; node 0 is the root. One map keeps 8k pieces compact.
	children map[uint64]int32
	// rootChild is the root's children for ASCII runes and, last, for
	// wordSep (0: none), read without hashing: every position's search
	// starts at the root.
	rootChild [129]int32
	// end holds, per node, the id of the piece ending there, or -1.
	end    []int32
	scores []float64
	// back is each piece's length in UTF-16 units: the reference steps back
	// by the JavaScript string length, which this must reproduce.
	back []int
	bufs sync.Pool
}

// encodeScratch is the per-call lattice, pooled.
type encodeScratch struct {
	norm  []byte
	runes []rune
	best  []float64
	words []int32
	ids   []int32
}

// NewTokenizer returns the tokenizer of the embedded vocabulary.
func NewTokenizer() (*Tokenizer, error) {
	v, err := loadVocab()
	if err != nil {
		return nil, err
	}
	return newTokenizer(v), nil
}

// newTokenizer builds the trie, inserting pieces in id order so a duplicate
// piece resolves to its last id and score, as in the reference.
func newTokenizer(v vocabulary) *Tokenizer {
	t := &Tokenizer{children: make(map[uint64]int32), end: []int32{-1}, scores: v.scores, back: make([]int, len(v.pieces))}
	t.bufs.New = func() any { return new(encodeScratch) }
	for id, p := range v.pieces {
		for _, r := range p {
			t.back[id] += utf16.RuneLen(r)
		}
		if id < reservedPieces || p == "" {
			continue
		}
		node := int32(0)
		for _, r := range p {
			k := uint64(node)<<32 | uint64(uint32(r))
			child, ok := t.children[k]
			if !ok {
				child = int32(len(t.end))
				t.end = append(t.end, -1)
				t.children[k] = child
			}
			node = child
		}
		t.end[node] = int32(id)
	}
	for r := range rune(128) {
		t.rootChild[r] = t.children[uint64(uint32(r))]
	}
	t.rootChild[128] = t.children[uint64(uint32(wordSep))]
	return t
}

// child returns node's child by rune r, or false.
func (t *Tokenizer) child(node int32, r rune) (int32, bool) {
	if node == 0 {
		switch {
		case r < 128:
			c := t.rootChild[r]
			return c, c != 0
		case r == wordSep:
			c := t.rootChild[128]
			return c, c != 0
		}
	}
	c, ok := t.children[uint64(node)<<32|uint64(uint32(r))]
	return c, ok
}

// Encode returns the ids of s; the empty string has none.
func (t *Tokenizer) Encode(s string) []int32 {
	sc := t.bufs.Get().(*encodeScratch)
	ids := append([]int32(nil), t.encode(s, sc)...)
	t.bufs.Put(sc)
	return ids
}

// encode runs the Viterbi search into sc and returns sc.ids.
func (t *Tokenizer) encode(s string, sc *encodeScratch) []int32 {
	sc.norm = norm.NFKC.AppendString(sc.norm[:0], s)
	sc.runes = sc.runes[:0]
	if len(sc.norm) > 0 {
		sc.runes = append(sc.runes, wordSep)
	}
	for _, r := range string(sc.norm) {
		if r == ' ' {
			r = wordSep
		}
		sc.runes = append(sc.runes, r)
	}
	rs := sc.runes
	n := len(rs)
	sc.best = slices.Grow(sc.best[:0], n+1)[:n+1]
	sc.words = slices.Grow(sc.words[:0], n+1)[:n+1]
	best, words := sc.best, sc.words
	clear(best)
	clear(words)
	// relax offers the edge start→end. Edges reach each end in increasing
	// start order, the order the reference's lattice walk uses, so its
	// ">= wins" tie rule picks the same candidate.
	relax := func(start, end int, score float64, id int32) {
		sum := score + best[start]
		if best[end] == 0 || sum >= best[end] {
			best[end] = sum
			words[end] = id
		}
	}
	for i := range n {
		node, found := int32(0), false
		for j := i; j < n; j++ {
			child, ok := t.child(node, rs[j])
			if !ok {
				break
			}
			node = child
			if id := t.end[node]; id >= 0 {
				relax(i, j+1, t.scores[id], id)
				found = true
			}
		}
		if !found {
			relax(i, i+1, 0, 0) // an unknown character: id 0, score 0
		}
	}
	ids := sc.ids[:0]
	for at := n; at > 0; at -= t.back[words[at]] {
		ids = append(ids, words[at])
	}
	// Merge runs of unknowns, then put the ids in reading order.
	out := ids[:0]
	prevUnk := false
	for _, id := range ids {
		if !(prevUnk && id == 0) {
			out = append(out, id)
		}
		prevUnk = id == 0
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	sc.ids = ids
	return out
}
