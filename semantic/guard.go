package semantic

import (
	"slices"
	"strings"
	"unicode"
)

// Guards veto semantic matches that embeddings get wrong: two questions can
// share nearly every word and still ask for different answers ("top 5" and
// "top 10", "v2" and "v3", "does X work" and "why doesn't X work"). A false
// hit serves a wrong answer, which is worse than a miss, so the guards veto
// on any such difference, even where the questions might mean the same.
//
// The vetoes were checked on Quora Question Pairs (bench/semantic): among
// matches above the threshold they cut a larger share of the false hits
// than of the true ones.

// Queries with fewer letters and digits than MinQueryChars, or fewer words
// than MinQueryWords, never match semantically: short queries ("hi", "help",
// "pricing?") carry too little to tell them apart, and the exact cache still
// serves them.
const (
	MinQueryChars = 8
	MinQueryWords = 3
)

// MaxQueryWords bounds the questions matched by meaning: the guards compare
// words pairwise, so a longer question (an attacker's, or a pasted
// document) skips the semantic step and is cached exactly only.
const MaxQueryWords = 256

// TooLong reports whether query has more than MaxQueryWords words.
func TooLong(query string) bool {
	words, in := 0, false
	for _, r := range query {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if !in {
				if words++; words > MaxQueryWords {
					return true
				}
				in = true
			}
		} else {
			in = false
		}
	}
	return false
}

// TooShort reports whether query is too short to match semantically: fewer
// than MinQueryChars letters and digits or fewer than MinQueryWords words
// (runs of letters and digits).
func TooShort(query string) bool {
	chars, words := 0, 0
	in := false
	for _, r := range query {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			chars++
			if !in {
				words++
				in = true
			}
		} else if r != '\'' && r != '’' {
			in = false
		}
	}
	return chars < MinQueryChars || words < MinQueryWords
}

// Guard names the guard that vetoed a match, for metrics and tests.
type Guard string

// The guards, in the order Veto tries them.
const (
	GuardNone         Guard = ""
	GuardNegation     Guard = "negation"
	GuardNumber       Guard = "number"
	GuardIdentifier   Guard = "identifier"
	GuardContrast     Guard = "contrast"
	GuardSubstitution Guard = "substitution"
)

// Guards lists every guard, for metrics that count each one.
var Guards = []Guard{GuardNegation, GuardNumber, GuardIdentifier, GuardContrast, GuardSubstitution}

// PrepareGuards reads the guards' lexicon (about 0.2 s, once per process)
// so that the first Veto does not wait for it; later calls return at once.
func PrepareGuards() { theLexicon() }

// Compatible reports whether two queries may be treated as the same
// question: Veto finds no guard against it.
func Compatible(a, b string) bool { return Veto(a, b) == GuardNone }

// Veto returns the first guard that tells queries a and b apart, or
// GuardNone. The guards are:
//   - number, identifier, negation: the two differ in numbers (e.g. "top 5"
//     vs "top 10", "2023" vs "2024"), identifiers/codes (tokens mixing
//     letters and digits or with - _ . / like "ERR-42", "v2", "gpt-4o",
//     "order #123"), or negation (one has not/no/never/n't/without/none/
//     cannot and the other does not, by count parity);
//   - contrast and substitution: the two swap a word for its opposite or
//     sibling, or swap exactly one content word (see contrast.go).
//
// In detail, comparing lowercased text:
//   - numbers: the sets of numbers must be equal; a number is a run of
//     digits ("1,000" is 1000, "5.0" is 5, "007" is 7) or a number word from
//     two to twelve, a ten up to fifty, or hundred ("two" is 2; "one" is
//     left out, being mostly a pronoun), and twice and thrice (2 and 3);
//   - identifiers: every identifier of one query must appear in the other,
//     compared without separators and as one or more consecutive words
//     there ("gpt-4o" matches "GPT 4o" and "gpt4o", not "gpt-4"; "e-mail"
//     matches "email"). An identifier is a token that mixes letters and
//     digits ("v2", "4o", "i9060"), but not a number with an ordinal or
//     plural ending ("21st", "1990s", left to numbers), or a token of
//     letters joined by '-', '_' or '.' ("non-blocking", "snake_case",
//     "node.js"); a possessive "'s" is not part of it. Letters joined only
//     by '/' are alternatives ("actors/actresses"), read as separate words;
//     tokens of digits and separators ("24/7", "2016-2017") are left to
//     numbers;
//   - negation: the number of negations must have the same parity; they are
//     not, no, never, without, none, cannot, nor, and n't in any spelling
//     ("don't", "dont", "can’t"); "or not" and "or why not" are not
//     negations.
//
// Veto is symmetric.
func Veto(a, b string) Guard {
	return guardAnalyze(a).veto(guardAnalyze(b))
}

// veto is Veto on analysed queries, so a cached question is analysed once,
// when it is stored, not on every lookup.
func (ga guardFacts) veto(gb guardFacts) Guard {
	if ga.neg%2 != gb.neg%2 {
		return GuardNegation
	}
	if !guardSameSet(ga.nums, gb.nums) {
		return GuardNumber
	}
	if !guardIDsIn(ga.ids, gb.words) || !guardIDsIn(gb.ids, ga.words) {
		return GuardIdentifier
	}
	return contrastVeto(ga.tokens, gb.tokens)
}

// guardFacts is what Compatible compares of one query.
type guardFacts struct {
	nums  []string // canonical numbers
	ids   []string // identifiers without their separators
	words []string // the words, split at any separator, apostrophes dropped
	neg   int      // negations
	// tokens are the words of letters only, neither negations nor
	// numbers (other guards own those), with their stems.
	tokens  []guardToken
	content []string // stems of the content words, each once
}

var guardNumberWords = map[string]string{
	"two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
	"seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11",
	"twelve": "12", "twenty": "20", "thirty": "30", "forty": "40",
	"fifty": "50", "hundred": "100",
	"twice": "2", "thrice": "3", // "charged twice" is "charged two times", not "charged"
}

// guardNegations are the negation words, apostrophes removed.
var guardNegations = map[string]bool{
	"not": true, "no": true, "never": true, "without": true, "none": true,
	"cannot": true, "nor": true,
	"dont": true, "doesnt": true, "didnt": true, "cant": true, "wont": true,
	"isnt": true, "arent": true, "wasnt": true, "werent": true,
	"shouldnt": true, "wouldnt": true, "couldnt": true, "havent": true,
	"hasnt": true, "hadnt": true, "aint": true, "mustnt": true,
	"neednt": true, "mightnt": true, "shant": true,
}

func guardAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func guardApostrophe(r rune) bool { return r == '\'' || r == '’' || r == 'ʼ' || r == '`' }

func guardSeparator(r rune) bool { return r == '-' || r == '_' || r == '.' || r == '/' }

func guardAnalyze(s string) guardFacts {
	var g guardFacts
	s = strings.ToLower(s)
	for _, raw := range strings.Fields(s) {
		tok := strings.TrimFunc(raw, func(r rune) bool { return !guardAlnum(r) })
		tok = guardTrimPossessive(tok)
		if tok == "" {
			continue
		}
		g.numbers(tok)
		if id, ok := guardIdentifier(tok); ok {
			g.ids = append(g.ids, id)
		}
		for _, w := range strings.FieldsFunc(tok, func(r rune) bool { return !guardAlnum(r) && !guardApostrophe(r) }) {
			negation := strings.HasSuffix(w, "n't") || strings.HasSuffix(w, "n’t")
			w = strings.Map(func(r rune) rune {
				if guardApostrophe(r) {
					return -1
				}
				return r
			}, w)
			if w == "" {
				continue
			}
			if n, ok := guardNumberWords[w]; ok {
				g.nums = append(g.nums, n)
			}
			if guardNegations[w] {
				negation = true
			}
			if negation && w == "not" {
				// "… or not?", "… why or why not?" ask both ways.
				k := len(g.words)
				if k >= 1 && g.words[k-1] == "or" || k >= 2 && g.words[k-1] == "why" && g.words[k-2] == "or" {
					negation = false
				}
			}
			if negation {
				g.neg++
			}
			g.words = append(g.words, w)
			if !negation && guardNumberWords[w] == "" && strings.IndexFunc(w, unicode.IsDigit) < 0 {
				g.addToken(w)
			}
		}
	}
	return g
}

// addToken adds word w to g's tokens, and its stem to g's content stems if
// it is not a function word.
func (g *guardFacts) addToken(w string) {
	t := guardToken{word: w, stem: Stem(w), content: !functionWords[w]}
	g.tokens = append(g.tokens, t)
	if t.content && !slices.Contains(g.content, t.stem) {
		g.content = append(g.content, t.stem)
	}
}

// numbers adds the digit runs of tok to g.nums.
func (g *guardFacts) numbers(tok string) {
	if strings.IndexFunc(tok, unicode.IsDigit) < 0 {
		return
	}
	rs := []rune(tok)
	for i := 0; i < len(rs); {
		if !unicode.IsDigit(rs[i]) {
			i++
			continue
		}
		j := i
		for j < len(rs) && (unicode.IsDigit(rs[j]) || (rs[j] == '.' || rs[j] == ',') && j+1 < len(rs) && unicode.IsDigit(rs[j+1])) {
			j++
		}
		g.nums = append(g.nums, guardCanonNumber(string(rs[i:j])))
		i = j
	}
}

// guardCanonNumber writes a number one way: "1,000" -> "1000", "007" -> "7",
// "5.50" -> "5.5", "5.0" -> "5". Digits of other scripts are read as their
// value.
func guardCanonNumber(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ',':
		case r == '.':
			b.WriteByte('.')
		case '0' <= r && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteRune(guardDigitValue(r))
		}
	}
	t := b.String()
	// With several points ("1.2.3", a version) the digits stand as they are.
	if strings.Count(t, ".") == 1 {
		t = strings.TrimRight(t, "0")
		t = strings.TrimSuffix(t, ".")
	}
	t = strings.TrimLeft(t, "0")
	if t == "" || t[0] == '.' {
		t = "0" + t
	}
	return t
}

// guardDigitValue maps a decimal digit of any script to '0'…'9', and any
// other rune to itself.
func guardDigitValue(r rune) rune {
	if !unicode.IsDigit(r) {
		return r
	}
	// Unicode decimal digits come in runs of ten from a zero, some runs
	// back to back (the mathematical digits).
	z := r
	for unicode.IsDigit(z - 1) {
		z--
	}
	return '0' + (r-z)%10
}

// guardNumberSuffix reports whether rest, what follows a number in a token,
// is an ordinal's or a plural's ending: "st", "nd", "rd", "th" ("21st"),
// "s" ("1990s", "80's"). Such a token is a number, not a code.
func guardNumberSuffix(rest string) bool {
	switch rest {
	case "st", "nd", "rd", "th", "s", "'s", "’s":
		return true
	}
	return false
}

// guardTrimPossessive drops a possessive "'s" ("GPT-4's" is "GPT-4",
// "what's" is "what": guards lose nothing by it).
func guardTrimPossessive(tok string) string {
	for _, suffix := range []string{"'s", "’s", "ʼs"} {
		if t, ok := strings.CutSuffix(tok, suffix); ok && t != "" {
			return t
		}
	}
	return tok
}

// guardIdentifier reports whether tok (trimmed, lowercased) is an
// identifier, and returns it without separators.
func guardIdentifier(tok string) (string, bool) {
	var letters, digits, slash, otherSep bool
	for _, r := range tok {
		switch {
		case unicode.IsLetter(r):
			letters = true
		case unicode.IsDigit(r):
			digits = true
		case r == '/':
			slash = true
		case guardSeparator(r):
			otherSep = true
		}
	}
	switch {
	case letters && digits:
		i := strings.IndexFunc(tok, func(r rune) bool { return !unicode.IsDigit(r) })
		if i > 0 && guardNumberSuffix(tok[i:]) {
			return "", false
		}
	case letters && otherSep:
		// "non-blocking", "max_tokens", "node.js"
	case letters && slash:
		return "", false // alternatives: "actors/actresses"
	default:
		return "", false
	}
	return strings.Map(func(r rune) rune {
		if guardAlnum(r) {
			return r
		}
		return -1
	}, tok), true
}

// guardIDsIn reports whether every identifier in ids is one or more
// consecutive words of words, joined.
func guardIDsIn(ids, words []string) bool {
next:
	for _, id := range ids {
		for i := range words {
			if !strings.HasPrefix(id, words[i]) {
				continue
			}
			joined := words[i]
			for k := 1; ; k++ {
				if joined == id {
					continue next
				}
				if i+k >= len(words) || len(joined) >= len(id) {
					break
				}
				joined += words[i+k]
			}
		}
		return false
	}
	return true
}

// guardSameSet reports whether a and b hold the same strings, ignoring order
// and repeats.
func guardSameSet(a, b []string) bool {
	for _, x := range a {
		if !guardContains(b, x) {
			return false
		}
	}
	for _, x := range b {
		if !guardContains(a, x) {
			return false
		}
	}
	return true
}

func guardContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
