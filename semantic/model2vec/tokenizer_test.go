package model2vec

import (
	"strings"
	"testing"

	"github.com/ragproxy/ragproxy/semantic/model2vec/model2vectest"
)

func TestWordPieceMatchesBERT(t *testing.T) {
	m, _ := writeTestModel(t, model2vectest.Spec{})
	for _, c := range []struct{ text, want string }{
		{"Hello World", "hello world"},               // lowercase
		{"HELLO   world\t\n", "hello world"},         // whitespace runs
		{"Café naïve", "cafe naive"},                 // accents stripped (NFD, drop Mn)
		{"CAFÉ", "cafe"},                             // accent on a capital
		{"hello,world!", "hello , world !"},          // punctuation split off
		{"$5?", "$ 5 ?"},                             // ASCII symbols are BERT punctuation
		{"unaffable", "un ##aff ##able"},             // greedy longest ## pieces
		{"unaffablex", "[UNK]"},                      // an uncovered tail: the whole word is [UNK]
		{"hellos worlds", "hello ##s world ##s"},     // a continuation piece
		{"hello中world", "hello 中 world"},             // CJK ideographs stand alone
		{"hel\u00adlo wor\u200bld", "hello world"},   // format characters dropped (clean_text)
		{"hello\x00\x01world", "[UNK]"},              // controls dropped: one unknown word
		{"hello\u00a0world", "hello world"},          // no-break space is whitespace
		{"İ", "i"},                                   // dotted capital I: decomposed, mark dropped
		{"hello “world”", "hello [UNK] world [UNK]"}, // Unicode punctuation split off
		{strings.Repeat("a", 101), "[UNK]"},          // past max_input_chars_per_word
		{strings.Repeat("a", 100), "[UNK]"},          // 100 chars, but "a"+"##a"… are not pieces
		{"", ""},
	} {
		if got := pieces(m, c.text); got != c.want {
			t.Errorf("%q: pieces %q, want %q", c.text, got, c.want)
		}
	}
}

func TestUnknownDroppedAndMaxTokens(t *testing.T) {
	m, _ := writeTestModel(t, model2vectest.Spec{})
	if ids, whole := m.tokenIDs("hello unaffablex world"); len(ids) != 2 || !whole {
		t.Errorf("tokens of a text with an unknown word: %d (whole %v), want 2 ([UNK] dropped), whole", len(ids), whole)
	}
	if ids, whole := m.tokenIDs(strings.Repeat("$", 600)); len(ids) != MaxTokens || whole {
		t.Errorf("tokens of a 600-token text: %d (whole %v), want %d, not whole", len(ids), whole, MaxTokens)
	}
	if ids, whole := m.tokenIDs(strings.Repeat("$", MaxTokens)); len(ids) != MaxTokens || !whole {
		t.Errorf("tokens of a %d-token text: %d (whole %v), want all, whole", MaxTokens, len(ids), whole)
	}
	// the text is cut to MaxTokens × median token length characters before tokenizing, as model2vec does
	long := strings.Repeat("x", MaxTokens*m.tok.medianLen) + " hello"
	if ids, whole := m.tokenIDs(long); len(ids) != 0 || whole {
		t.Errorf("a word past the character cut was counted: %d tokens (whole %v)", len(ids), whole)
	}
}

func TestUnigramMetaspace(t *testing.T) {
	tok := []byte(`{
		"normalizer": {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"}]},
		"pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true},
		"model": {"type": "Unigram", "unk_id": 0, "vocab": [
			["<unk>", 0], ["▁hello", -1], ["▁he", -2], ["llo", -2], ["▁world", -1.5],
			["▁", -3], ["w", -4], ["o", -4], ["r", -4], ["l", -4], ["d", -4], ["▁wor", -2.5], ["ld", -1]
		]}
	}`)
	tokens := []string{"<unk>", "▁hello", "▁he", "llo", "▁world", "▁", "w", "o", "r", "l", "d", "▁wor", "ld"}
	m, _ := writeTestModel(t, model2vectest.Spec{Tokens: tokens, Tokenizer: tok})
	for _, c := range []struct{ text, want string }{
		{"Hello World", "▁hello ▁world"},    // -1 + -1.5 beats every other split
		{"ｈｅｌｌｏ", "▁hello"},                 // NFKC folds full-width letters
		{"world", "▁world"},                 // ▁world (-1.5) beats ▁wor+ld (-3.5)
		{"hexllo", "▁he <unk> llo"},         // an uncovered character is <unk>
		{"hello  world", "▁hello ▁ ▁world"}, // a second space is its own ▁
	} {
		if got := pieces(m, c.text); got != c.want {
			t.Errorf("%q: pieces %q, want %q", c.text, got, c.want)
		}
	}
}

func TestUnsupportedTokenizersRefused(t *testing.T) {
	for _, c := range []struct{ json, want string }{
		{`{"model": {"type": "BPE", "vocab": {}, "merges": []}}`, `model "BPE" is not supported`},
		{`{"normalizer": {"type": "Precompiled", "precompiled_charsmap": ""}, "model": {"type": "WordPiece", "vocab": {"a": 0}}}`, `normalizer "Precompiled" is not supported`},
		{`{"pre_tokenizer": {"type": "ByteLevel"}, "model": {"type": "WordPiece", "vocab": {"a": 0}}}`, `pre_tokenizer "ByteLevel" is not supported`},
		{`{"model": {"vocab": {"a": 0}}}`, "model has no type"},
		{`{"model": {"type": "WordPiece", "vocab": {}}}`, "empty vocabulary"},
		{`{"model": {"type": "WordPiece", "vocab": {"a": -1}}}`, "negative id"},
		{`{"model": {"type": "Unigram", "vocab": [["a", "x"]]}}`, "want [piece, score]"},
		{`{"model": {"type": "Unigram", "unk_id": 5, "vocab": [["a", 0]]}}`, "past the vocabulary"},
		{`not json`, "tokenizer.json"},
	} {
		_, err := parseTokenizer([]byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.json, err, c.want)
		}
	}
}
