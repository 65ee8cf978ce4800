package semantic

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"slices"
	"strings"
	"sync"
)

// The contrast guard vetoes a match between two questions that swap a word
// for one that changes the answer: "Should I enable two-factor
// authentication?" and "Should I disable two-factor authentication?";
// "daily quota" and "monthly quota"; "Python" and "Ruby". Sentence
// embeddings score such pairs as high as true paraphrases (higher, often),
// so no threshold can tell them apart; words can.
//
// It compares the two questions' word stems. Words only one side has are
// the difference; swapping question words ("how do" / "how can", "what" /
// "which"), reordering, inflecting or adding words vetoes nothing. Then:
//
//   - contrast: a word of one side and a word of the other are opposites or
//     siblings: antonyms in WordNet, a pair of contrast_words.txt (written
//     by hand: directions, periods, units, plan tiers, roles, platforms…),
//     or the same word with opposite prefixes ("enable"/"disable",
//     "upload"/"download", "import"/"export", "login"/"logout");
//   - substitution: after setting aside pairs that mean the same (WordNet
//     synonyms in a sense its tagged corpus saw, irregular inflections,
//     derivations and abbreviations "pay"/"payment", "env"/"environment",
//     contrast_words.txt's "=" lines, and swaps Quora's duplicate labels
//     show to keep the meaning, quora_same.txt), exactly one content word
//     of one side stands where exactly one of the other side stood, and
//     the two are not both verbs, adjectives or adverbs; or names of
//     things are swapped in questions that otherwise agree (at most four
//     words differ, two content words shared); or two different words
//     qualify the same word ("sales tax"/"income tax"). A swapped name of
//     a thing is how one-word contrasts look that no lexicon lists
//     ("Klarna"/"Affirm", "shoes"/"jackets"); true paraphrases rarely
//     differ by one unknown noun.
//
// Both were measured on Quora Question Pairs and the hand-written pairs of
// bench/semantic (BENCHMARKS.md).

//go:embed contrast_words.txt
var contrastWordsFile string

//go:embed wordnet.txt.gz
var wordnetFile []byte

//go:embed quora_same.txt
var quoraSameFile string

// lexicon holds pairs of stems, each pair ordered.
type lexicon struct {
	contrast map[[2]string]bool
	same     map[[2]string]bool
	learned  map[[2]string]bool // swaps Quora's labels show to keep the meaning
	action   map[string]bool    // stems of words used mostly as verbs, adjectives or adverbs
	// contrasting holds the stems of contrast's pairs.
	contrasting map[string]bool
}

var (
	lexOnce sync.Once
	lex     *lexicon
)

func theLexicon() *lexicon {
	lexOnce.Do(func() {
		lex = loadLexicon(contrastWordsFile, wordnetFile)
		lex.learned = readPairs(quoraSameFile, lex.contrast)
		lex.contrasting = make(map[string]bool, len(lex.contrast))
		for p := range lex.contrast {
			lex.contrasting[p[0]], lex.contrasting[p[1]] = true, true
		}
	})
	return lex
}

// readPairs reads lines "a b …" of stems (text after '#' is a comment),
// leaving out the pairs in except.
func readPairs(text string, except map[[2]string]bool) map[[2]string]bool {
	m := map[[2]string]bool{}
	for _, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		if f := strings.Fields(line); len(f) >= 2 {
			if p := stemPair(f[0], f[1]); !except[p] {
				m[p] = true
			}
		}
	}
	return m
}

func stemPair(a, b string) [2]string {
	if a > b {
		a, b = b, a
	}
	return [2]string{a, b}
}

func loadLexicon(curated string, wordnetGz []byte) *lexicon {
	l := &lexicon{contrast: map[[2]string]bool{}, same: map[[2]string]bool{}, action: map[string]bool{}}
	zr, err := gzip.NewReader(bytes.NewReader(wordnetGz))
	if err != nil {
		panic("semantic: embedded wordnet.txt.gz: " + err.Error())
	}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == "~" {
			l.action[f[1]] = true
		}
		if len(f) != 3 {
			continue
		}
		switch f[0] {
		case "!":
			l.contrast[stemPair(f[1], f[2])] = true
		case "=":
			l.same[stemPair(f[1], f[2])] = true
		}
	}
	if err := sc.Err(); err != nil {
		panic("semantic: embedded wordnet.txt.gz: " + err.Error())
	}
	// The hand-written lines come last: they override WordNet.
	for _, line := range strings.Split(curated, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "="); ok {
			ws := stems(strings.Fields(rest))
			for i := range ws {
				for j := i + 1; j < len(ws); j++ {
					if ws[i] != ws[j] {
						p := stemPair(ws[i], ws[j])
						l.same[p] = true
						delete(l.contrast, p)
					}
				}
			}
			continue
		}
		groups := strings.Split(line, "|")
		if len(groups) == 1 {
			ws := stems(strings.Fields(line))
			for i := range ws {
				for j := i + 1; j < len(ws); j++ {
					l.setContrast(ws[i], ws[j])
				}
			}
			continue
		}
		for i, g := range groups {
			for _, h := range groups[i+1:] {
				for _, a := range stems(strings.Fields(g)) {
					for _, b := range stems(strings.Fields(h)) {
						l.setContrast(a, b)
					}
				}
			}
		}
	}
	return l
}

func (l *lexicon) setContrast(a, b string) {
	if a == b {
		return
	}
	p := stemPair(a, b)
	l.contrast[p] = true
	delete(l.same, p)
}

func stems(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = Stem(w)
	}
	return out
}

// contrastPrefixes are pairs of prefixes (and suffixes) that turn a word
// into its opposite when swapped: "upload"/"download", "inbound"/
// "outbound", "import"/"export", "encrypt"/"decrypt", "login"/"logout".
var contrastPrefixes = [][2]string{
	{"up", "down"}, {"in", "out"}, {"im", "ex"}, {"in", "ex"}, {"en", "de"},
	{"en", "dis"}, {"in", "de"}, {"pre", "post"}, {"over", "under"},
	{"max", "min"}, {"inter", "intra"}, {"a", "de"}, {"as", "des"},
	{"im", "de"}, {"pro", "anti"}, {"pro", "con"}, {"on", "off"},
}

var contrastSuffixes = [][2]string{{"in", "out"}, {"on", "off"}, {"up", "down"}, {"ful", "less"}}

// negatingPrefixes make a word's opposite: "able"/"unable",
// "connect"/"disconnect", "install"/"uninstall", "activate"/"deactivate".
var negatingPrefixes = []string{"un", "dis", "de", "non", "non-", "anti", "in", "im", "il", "ir", "mis"}

// opposite reports whether words a and b (lowercase, whole) are each
// other's opposite by their prefixes or suffixes.
func opposite(a, b string) bool {
	const minRoot = 3
	// Opposites by prefix share their last minRoot letters, by suffix their
	// first: most pairs of words share neither.
	if len(a) < minRoot || len(b) < minRoot ||
		a[len(a)-minRoot:] != b[len(b)-minRoot:] && a[:minRoot] != b[:minRoot] {
		return false
	}
	for _, p := range negatingPrefixes {
		if r, ok := strings.CutPrefix(a, p); ok && r == b && len(r) >= minRoot {
			return true
		}
		if r, ok := strings.CutPrefix(b, p); ok && r == a && len(r) >= minRoot {
			return true
		}
	}
	for _, pp := range contrastPrefixes {
		for _, x := range [][2]string{{a, b}, {b, a}} {
			ra, oka := strings.CutPrefix(x[0], pp[0])
			rb, okb := strings.CutPrefix(x[1], pp[1])
			if oka && okb && ra == rb && len(ra) >= minRoot {
				return true
			}
		}
	}
	for _, ss := range contrastSuffixes {
		for _, x := range [][2]string{{a, b}, {b, a}} {
			ra, oka := strings.CutSuffix(x[0], ss[0])
			rb, okb := strings.CutSuffix(x[1], ss[1])
			if oka && okb && ra == rb && len(ra) >= minRoot {
				return true
			}
		}
	}
	return false
}

// guardToken is a word of a question with its stem.
type guardToken struct {
	word, stem string
	content    bool // not a function word
}

// contrastVeto returns the guard that tells a and b apart by their words,
// or GuardNone.
func contrastVeto(a, b []guardToken) Guard {
	g, _, _ := contrastSwap(a, b, true)
	return g
}

// SwapEvidence reports, for lexgen's learning from labelled pairs, the
// content words a and b swap when they differ by exactly one such swap,
// ignoring what was learned before.
func SwapEvidence(a, b string) (x, y string, ok bool) {
	g, x, y := contrastSwap(guardAnalyze(a).tokens, guardAnalyze(b).tokens, false)
	return x, y, g == GuardSubstitution && x != "" && y != "" && oneSwap(a, b, x, y)
}

// contrastSwap is contrastVeto, also returning the swapped stems of a
// substitution; learned says whether swaps learned from Quora count as
// keeping the meaning.
func contrastSwap(a, b []guardToken, learned bool) (g Guard, x, y string) {
	l := theLexicon()
	if reversed(l, a, b) {
		return GuardContrast, "", ""
	}
	onlyA, onlyB := tokenDiff(a, b), tokenDiff(b, a)
	if len(onlyA) == 0 || len(onlyB) == 0 {
		return GuardNone, "", "" // nothing swapped: reordered, inflected, or words added
	}
	for _, x := range onlyA {
		for _, y := range onlyB {
			if l.contrast[stemPair(x.stem, y.stem)] || opposite(x.word, y.word) {
				return GuardContrast, x.stem, y.stem
			}
		}
	}
	// Set aside pairs that mean the same; what is left was swapped.
	usedB := make([]bool, len(onlyB))
	var swappedA, swappedB, nounsA, nounsB int
	for _, t := range onlyA {
		if !t.content {
			continue
		}
		same := false
		for j, u := range onlyB {
			if !usedB[j] && u.content && sameMeaning(l, t, u, learned) {
				usedB[j], same = true, true
				break
			}
		}
		if !same {
			swappedA++
			x = t.stem
			if !l.action[t.stem] {
				nounsA++
			}
		}
	}
	for j, u := range onlyB {
		if u.content && !usedB[j] {
			swappedB++
			y = u.stem
			if !l.action[u.stem] {
				nounsB++
			}
		}
	}
	if swappedA == 0 || swappedB == 0 {
		return GuardNone, "", ""
	}
	// Exactly one content word swapped, unless both are verbs, adjectives
	// or adverbs: those are more often a rewording ("offer"/"provide",
	// "usually"/"typically") than another question; on Quora's pairs
	// vetoing them too refused about as many duplicates as non-duplicates
	// (BENCHMARKS.md), and their opposites are in the lexicon.
	if swappedA == 1 && swappedB == 1 && !(l.action[x] && l.action[y]) {
		return GuardSubstitution, x, y
	}
	// Names of things swapped in questions that otherwise agree: a few
	// words differ, a thing on each side, and at least two content words
	// are shared ("pay the invoice with Visa"/"with Apple Pay").
	if nounsA >= 1 && nounsB >= 1 && swappedA+swappedB <= 4 && sharedContent(a, b) >= 2 {
		return GuardSubstitution, x, y
	}
	if headSwap(l, a, b, onlyA, onlyB) {
		return GuardSubstitution, x, y
	}
	return GuardNone, "", ""
}

func sameMeaning(l *lexicon, x, y guardToken, learned bool) bool {
	p := stemPair(x.stem, y.stem)
	if l.same[p] || learned && l.learned[p] {
		return true
	}
	// A word and its derivation: "pay"/"payment", "config"/"configuration".
	// Not agent nouns ("payer"/"payee"): those differ.
	short, long := x.stem, y.stem
	if len(short) > len(long) {
		short, long = long, short
	}
	ext, ok := strings.CutPrefix(long, short)
	// An abbreviation ("env"/"environment", "docs"/"documentation") leaves
	// at least three letters; an agent noun ("payer"/"payee") fewer.
	return ok && len(short) >= 3 && (derivationSuffixes[ext] || len(ext) >= 3)
}

// derivationSuffixes turn a word into another form of the same thing,
// where the stemmer leaves them on.
var derivationSuffixes = wordSet("ment ments ion ions ation ations ur ure ing ings al ali ity iti ness anc enc ance ence ive iv age ed s es ly")

// oneSwap reports whether x is the only content stem of a that b lacks, and
// y the only one of b that a lacks.
func oneSwap(a, b, x, y string) bool {
	ca, cb := guardAnalyze(a).content, guardAnalyze(b).content
	only := func(c, other []string) []string {
		var out []string
		for _, s := range c {
			if !slices.Contains(other, s) {
				out = append(out, s)
			}
		}
		return out
	}
	oa, ob := only(ca, cb), only(cb, ca)
	return len(oa) == 1 && len(ob) == 1 && oa[0] == x && ob[0] == y
}

// sharedContent counts the content words of a that b has too.
func sharedContent(a, b []guardToken) int {
	n := 0
	for _, t := range a {
		if t.content && slices.ContainsFunc(b, func(u guardToken) bool { return u.stem == t.stem }) {
			n++
		}
	}
	return n
}

// headSwap reports whether a word only a has and a word only b has stand
// right before the same word of both: two kinds of one thing ("savings
// account"/"checking account", "sales tax"/"income tax").
func headSwap(l *lexicon, a, b, onlyA, onlyB []guardToken) bool {
	next := func(ts []guardToken, stem string) string {
		for i, t := range ts {
			if t.stem == stem && i+1 < len(ts) && ts[i+1].content {
				return ts[i+1].stem
			}
		}
		return ""
	}
	for _, x := range onlyA {
		if !x.content {
			continue
		}
		h := next(a, x.stem)
		if h == "" {
			continue
		}
		for _, y := range onlyB {
			if y.content && next(b, y.stem) == h && !(l.action[x.stem] && l.action[y.stem]) && !sameMeaning(l, x, y, true) {
				return true
			}
		}
	}
	return false
}

// reversed reports whether a and b hold the same two contrasting words in
// opposite orders: "from monthly to annual billing" and "from annual to
// monthly billing", "convert USD to EUR" and "convert EUR to USD".
// A symmetric relation ("the difference between X and Y", "X vs Y") reads
// the same both ways.
func reversed(l *lexicon, a, b []guardToken) bool {
	// Only words with a contrasting partner that both questions hold can
	// be reversed; most questions have none or one, so the pairs below
	// are few.
	var cand []guardToken
	for i, x := range a {
		if l.contrasting[x.stem] && hasStem(b, x.stem) && !hasStem(a[:i], x.stem) {
			cand = append(cand, x)
		}
	}
	if len(cand) < 2 || symmetric(a) || symmetric(b) {
		return false
	}
	for i, x := range cand {
		for _, y := range cand[i+1:] {
			if l.contrast[stemPair(x.stem, y.stem)] && firstIndex(b, x.stem) > firstIndex(b, y.stem) {
				return true
			}
		}
	}
	return false
}

func hasStem(ts []guardToken, stem string) bool { return firstIndex(ts, stem) >= 0 }

func firstIndex(ts []guardToken, stem string) int {
	for i, t := range ts {
		if t.stem == stem {
			return i
		}
	}
	return -1
}

func symmetric(ts []guardToken) bool {
	for _, t := range ts {
		switch t.stem {
		case "between", "vs", "versus", "compar", "differ", "comparison":
			return true
		}
	}
	return false
}

// tokenDiff returns the tokens of a whose stem b lacks, each stem once. A
// word written as one in one question and as two in the other ("NodeJS" /
// "node.js", "checkout" / "check out") is in both.
func tokenDiff(a, b []guardToken) []guardToken {
	var out []guardToken
next:
	for i, x := range a {
		for _, y := range b {
			if x.stem == y.stem {
				continue next
			}
		}
		for _, y := range a[:i] {
			if x.stem == y.stem {
				continue next
			}
		}
		if joinedIn(x.word, b) ||
			i > 0 && hasWord(b, a[i-1].word+x.word) ||
			i+1 < len(a) && hasWord(b, x.word+a[i+1].word) {
			continue
		}
		out = append(out, x)
	}
	return out
}

// joinedIn reports whether w is two adjacent words of ts written as one.
func joinedIn(w string, ts []guardToken) bool {
	for i := 0; i+1 < len(ts); i++ {
		if len(ts[i].word)+len(ts[i+1].word) == len(w) && ts[i].word+ts[i+1].word == w {
			return true
		}
	}
	return false
}

func hasWord(ts []guardToken, w string) bool {
	for _, t := range ts {
		if t.word == w {
			return true
		}
	}
	return false
}

// ContrastWords returns the first pair of words of a and b that the
// contrast guard finds opposed, for bench/semantic's evidence tables.
func ContrastWords(a, b string) (string, string) {
	ta, tb := guardAnalyze(a).tokens, guardAnalyze(b).tokens
	l := theLexicon()
	if reversed(l, ta, tb) {
		return "(order)", ""
	}
	for _, x := range tokenDiff(ta, tb) {
		for _, y := range tokenDiff(tb, ta) {
			if l.contrast[stemPair(x.stem, y.stem)] || opposite(x.word, y.word) {
				return x.word, y.word
			}
		}
	}
	return "", ""
}
