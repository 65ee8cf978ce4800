package semantic

import (
	"context"
	"math"
	"math/bits"
	"sync"
	"unicode"
)

// DefaultLocalThreshold is the cosine similarity at or above which the Local
// embedder's nearest cached question counts as the same question (and only
// then if TooShort and Compatible agree).
//
// It comes from `go run ./bench/semantic` on real data (Quora Question
// Pairs as published by GPTCache, seed 1): the smallest threshold, in steps
// of 0.01, at which hit precision with the guards on reaches 0.9 in both
// cache simulations, 300 cached questions / 1,000 queries (0.55) and 5,000
// cached / 15,000 queries (0.81); seeds 2 to 4 give 0.81 too. Precision
// there counts as right a hit on a question that Quora's duplicate labels
// join to the query through a chain of pairs: on the raw labels the large
// simulation reaches 0.9 only at 0.96-0.99, because a cache of 5,000
// questions holds many unlabelled rephrasings of popular ones. At 0.81 the
// 5,000 simulation has hit precision 0.90 (0.78 raw) and recall 0.30, the
// 300 one precision 0.98 and recall 0.32: precision first, a lexical
// embedder only catches rephrasings that keep most of the words.
const DefaultLocalThreshold = 0.81

// Local's features and weights, chosen on Quora Question Pairs by recall at
// 0.9 hit precision in the 5,000-question cache simulation (four seeds,
// guards on): n-grams within "<word>" beat n-grams across word boundaries
// (0.38 against 0.36); sizes 2-4 beat 3-4, 3-5 and 3-6; word bigrams add
// about 0.03, word unigrams nothing; stop-word weight 0.4 beats 1, 0.5,
// 0.25 and 0, and a longer stop list. Signed hashing and sublinear counts
// are neutral there but raise the pair AUCs (signing: QQP 0.745 to 0.750,
// LLM paraphrases 0.991 to 0.996). Dimensions barely matter: 0.376 at 256,
// 0.384 at 384 and 512, 0.390 at 1024; at 384 (1.5 KB a question) the
// threshold is the same for every seed tried.
const (
	localDefaultDim = 384 // 1.5 KB a cached question as float32
	localMinN       = 2   // character n-gram sizes, over "<word>"
	localMaxN       = 4
	localStopWeight = 0.4 // weight of stop words' n-grams and of stop-word bigrams
	localBigram     = 1.0 // weight of word bigrams
	localBigramTag  = 0x9e3779b97f4a7c15
	localFNVOffset  = 14695981039346656037
	localFNVPrime   = 1099511628211
	localMaxScratch = 1 << 16 // scratch buffers larger than this are not pooled
)

// localStopWords are words that say little about what a question asks:
// function words and the phrasing of a question ("how can I", "what is the
// best way to"). Their features keep localStopWeight of their weight.
var localStopWords = func() map[uint64]struct{} {
	m := make(map[uint64]struct{})
	for _, w := range []string{
		"a", "an", "the", "is", "are", "was", "were", "be", "been", "am",
		"do", "does", "did", "i", "me", "my", "you", "your", "we", "our",
		"to", "of", "in", "on", "for", "and", "or", "it", "its", "this",
		"that", "what", "how", "can", "should", "would", "could", "will",
		"with", "at", "by", "from", "as", "there", "some", "any", "which",
		"who", "why", "when", "where", "if", "so", "about", "get", "have",
		"has", "one", "whats", "im", "best", "way", "ways",
	} {
		h := uint64(localFNVOffset)
		for _, r := range w {
			h = (h ^ uint64(r)) * localFNVPrime
		}
		m[h] = struct{}{}
	}
	return m
}()

// localLogTF[c] is 1+ln(c), the sublinear weight of a feature seen c times.
var localLogTF = func() (t [64]float32) {
	for c := 1; c < len(t); c++ {
		t[c] = float32(1 + math.Log(float64(c)))
	}
	return t
}()

// Local embeds text as hashed character n-grams with sublinear term frequency, L2-normalised.
//
// The text is lowercased and split into words of letters and digits
// (apostrophes join, "what's" is "whats"; a decimal point between digits
// stays; any other punctuation separates). Each word, wrapped as "<word>",
// gives its character 2-, 3- and 4-grams; each pair of neighbouring words
// gives a word bigram. Features of stop words ("how", "can", "i", "the")
// weigh 0.4 instead of 1. A feature seen c times weighs 1+ln(c); it is
// hashed to one of Dim buckets with a sign taken from another bit of the
// hash, so that collisions cancel out on average instead of adding up; the
// vector is scaled to unit length.
//
// It needs no files and no network, embeds a question in a few
// microseconds, and is safe for concurrent use. It sees words, not meaning:
// "buy" and "purchase" share nothing, so it finds rephrasings that keep
// most of their words and misses the rest.
type Local struct {
	dim int
}

// NewLocal returns a Local embedder of dim dimensions; dim <= 0 means the
// default (384).
func NewLocal(dim int) *Local {
	if dim <= 0 {
		dim = localDefaultDim
	}
	return &Local{dim: dim}
}

// Dim is the length of the vectors l returns.
func (l *Local) Dim() int { return l.dim }

// Embed embeds each text with EmbedOne. It stops early, with the context's
// error, when ctx is done.
func (l *Local) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		out[i] = l.EmbedOne(t)
	}
	return out, nil
}

// EmbedOne returns text's vector: Dim values of unit length, or all zero
// when text has no letters or digits.
func (l *Local) EmbedOne(text string) []float32 {
	v := make([]float32, l.dim)
	s := localScratchPool.Get().(*localScratch)
	s.reset()
	s.split(text)
	if len(s.words) > 0 {
		s.features()
		s.accumulate(v)
		localNormalize(v)
	}
	if cap(s.runes) <= localMaxScratch && cap(s.feats) <= localMaxScratch && cap(s.table) <= 2*localMaxScratch {
		localScratchPool.Put(s)
	}
	return v
}

// Dot is the dot product of a and b over their common length: the cosine
// similarity of two unit vectors. It runs on the index's kernel, the
// fastest for this CPU.
func Dot(a, b []float32) float32 {
	n := min(len(a), len(b))
	return dotF32(a[:n], b[:n])
}

// localWord is one normalised word: runes[start:end] is "<word>".
type localWord struct {
	start, end int32
	hash       uint64 // FNV-1a of the word without its markers
	stop       bool
}

// localSlot counts one distinct feature in accumulate's table.
type localSlot struct {
	h uint64
	w float32 // summed weights
	c int32   // occurrences; 0 marks an empty slot
}

// localFeat is one occurrence of a hashed feature.
type localFeat struct {
	h uint64
	w float32
}

// localScratch holds the buffers of one EmbedOne call.
type localScratch struct {
	runes []rune
	words []localWord
	feats []localFeat
	table []localSlot
	used  []int32 // table slots in use, in order of first appearance
}

var localScratchPool = sync.Pool{New: func() any {
	return &localScratch{
		runes: make([]rune, 0, 256),
		words: make([]localWord, 0, 32),
		feats: make([]localFeat, 0, 512),
		table: make([]localSlot, 1024),
		used:  make([]int32, 0, 512),
	}
}}

func (s *localScratch) reset() {
	s.runes, s.words, s.feats, s.used = s.runes[:0], s.words[:0], s.feats[:0], s.used[:0]
}

// split normalises text into s.words.
func (s *localScratch) split(text string) {
	start := -1   // index in s.runes of the current word's '<', or -1
	var pend rune // a '.' or ',' seen right after a digit, kept if a digit follows
	var lastDigit bool
	end := func() {
		if start < 0 {
			return
		}
		h := uint64(localFNVOffset)
		for _, r := range s.runes[start+1:] {
			h = (h ^ uint64(r)) * localFNVPrime
		}
		_, stop := localStopWords[h]
		s.runes = append(s.runes, '>')
		s.words = append(s.words, localWord{start: int32(start), end: int32(len(s.runes)), hash: h, stop: stop})
		start = -1
	}
	for _, r := range text {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			isDigit := unicode.IsDigit(r)
			if pend != 0 {
				if isDigit {
					if pend == '.' {
						s.runes = append(s.runes, '.')
					}
				} else {
					end()
				}
				pend = 0
			}
			if start < 0 {
				start = len(s.runes)
				s.runes = append(s.runes, '<')
			}
			s.runes = append(s.runes, unicode.ToLower(r))
			lastDigit = isDigit
		case r == '\'' || r == '’' || r == '`' || r == 'ʼ' || unicode.Is(unicode.Mn, r):
			// what's -> whats; combining marks go
			if pend != 0 {
				end()
				pend = 0
			}
		case (r == '.' || r == ',') && start >= 0 && lastDigit && pend == 0:
			pend = r
		default:
			pend = 0
			end()
		}
	}
	end()
}

// features lists the hashed features of s.words in s.feats.
func (s *localScratch) features() {
	for _, w := range s.words {
		wt := float32(1)
		if w.stop {
			wt = localStopWeight
		}
		p := s.runes[w.start:w.end]
		for i := range p {
			h := uint64(localFNVOffset)
			for k := 0; k < localMaxN && i+k < len(p); k++ {
				h = (h ^ uint64(p[i+k])) * localFNVPrime
				if k+1 >= localMinN {
					s.feats = append(s.feats, localFeat{localMix(h), wt})
				}
			}
		}
	}
	for i := 0; i+1 < len(s.words); i++ {
		a, b := s.words[i], s.words[i+1]
		wt := float32(localBigram)
		if a.stop && b.stop {
			wt *= localStopWeight
		}
		s.feats = append(s.feats, localFeat{localMix(a.hash*31 ^ b.hash ^ localBigramTag), wt})
	}
}

// accumulate adds the features, counted and weighted, into v. A small
// open-addressing table merges repeats of a feature; features are added in
// the order they first appear, so the result does not depend on the table.
func (s *localScratch) accumulate(v []float32) {
	size := 1 << bits.Len(uint(2*len(s.feats)))
	if cap(s.table) < size {
		s.table = make([]localSlot, size)
	}
	table := s.table[:size]
	clear(table)
	mask := size - 1
	for _, f := range s.feats {
		i := int(f.h>>40) & mask
		for {
			sl := &table[i]
			if sl.c == 0 {
				*sl = localSlot{h: f.h, w: f.w, c: 1}
				s.used = append(s.used, int32(i))
				break
			}
			if sl.h == f.h {
				sl.w += f.w
				sl.c++
				break
			}
			i = (i + 1) & mask
		}
	}
	dim := uint64(len(v))
	for _, i := range s.used {
		sl := table[i]
		w := sl.w
		if c := int(sl.c); c > 1 {
			var tf float32
			if c < len(localLogTF) {
				tf = localLogTF[c]
			} else {
				tf = float32(1 + math.Log(float64(c)))
			}
			w = w / float32(c) * tf
		}
		if sl.h>>63 != 0 {
			w = -w
		}
		v[(sl.h&0xffffffff)*dim>>32] += w
	}
}

// localMix finishes a hash so that all its bits depend on all the input
// (the murmur3 finaliser).
func localMix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// localNormalize scales v to unit length (a zero vector stays zero).
func localNormalize(v []float32) {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	if ss == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(ss))
	for i := range v {
		v[i] *= inv
	}
}
