package model2vec

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// preTokenizer splits normalised text into the words the model tokenizes,
// as the HuggingFace tokenizers pre-tokenizer of the same name does: it
// splits each of words further and returns the pieces in order.
type preTokenizer interface {
	split(words []string) []string
}

// parsePreTokenizer builds the pre-tokenizer a tokenizer.json describes;
// null means the whole text is one word.
func parsePreTokenizer(raw json.RawMessage) (preTokenizer, error) {
	if isNull(raw) {
		return nil, nil
	}
	var spec struct {
		Type           string            `json:"type"`
		PreTokenizers  []json.RawMessage `json:"pretokenizers"`
		Replacement    string            `json:"replacement"`
		PrependScheme  string            `json:"prepend_scheme"`
		AddPrefixSpace *bool             `json:"add_prefix_space"`
		Split          *bool             `json:"split"`
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		return nil, fmt.Errorf("pre_tokenizer: %v", err)
	}
	switch spec.Type {
	case "BertPreTokenizer":
		return splitter(isBertPunct), nil
	case "WhitespaceSplit":
		return splitter(nil), nil
	case "Whitespace":
		return whitespacePreTokenizer{}, nil
	case "Metaspace":
		m := metaspace{replacement: "▁", prepend: "always", splitWords: orTrue(spec.Split)}
		if spec.Replacement != "" {
			m.replacement = spec.Replacement
		}
		switch {
		case spec.PrependScheme != "":
			m.prepend = spec.PrependScheme
		case spec.AddPrefixSpace != nil && !*spec.AddPrefixSpace:
			m.prepend = "never"
		}
		if m.prepend != "always" && m.prepend != "first" && m.prepend != "never" {
			return nil, fmt.Errorf("pre_tokenizer Metaspace: unknown prepend_scheme %q", m.prepend)
		}
		return m, nil
	case "Sequence":
		var seq sequencePreTokenizer
		for _, r := range spec.PreTokenizers {
			p, err := parsePreTokenizer(r)
			if err != nil {
				return nil, err
			}
			if p != nil {
				seq = append(seq, p)
			}
		}
		return seq, nil
	}
	return nil, fmt.Errorf("pre_tokenizer %q is not supported (want BertPreTokenizer, Whitespace, WhitespaceSplit, Metaspace or a Sequence of them)", spec.Type)
}

type sequencePreTokenizer []preTokenizer

func (seq sequencePreTokenizer) split(words []string) []string {
	for _, p := range seq {
		words = p.split(words)
	}
	return words
}

// splitter splits on whitespace, which it drops, and isolates every
// character for which isolate is true (BertPreTokenizer: punctuation).
type splitter func(rune) bool

func (isolate splitter) split(words []string) []string {
	out := words[:0:0]
	for _, w := range words {
		start := -1
		for i, r := range w {
			switch {
			case unicode.IsSpace(r):
				if start >= 0 {
					out = append(out, w[start:i])
				}
				start = -1
			case isolate != nil && isolate(r):
				if start >= 0 {
					out = append(out, w[start:i])
				}
				out = append(out, w[i:i+utf8.RuneLen(r)])
				start = -1
			default:
				if start < 0 {
					start = i
				}
			}
		}
		if start >= 0 {
			out = append(out, w[start:])
		}
	}
	return out
}

// isBertPunct is BERT's punctuation: ASCII punctuation (which includes
// symbols such as $ + < = > ^ ` | ~) or Unicode category P.
func isBertPunct(r rune) bool {
	if r < utf8.RuneSelf {
		return r > ' ' && r < 0x7f && !('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z')
	}
	return unicode.IsPunct(r)
}

// whitespacePreTokenizer is the Whitespace pre-tokenizer: runs of word
// characters and runs of other non-space characters (the regex
// \w+|[^\w\s]+).
type whitespacePreTokenizer struct{}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || unicode.Is(unicode.Pc, r)
}

func (whitespacePreTokenizer) split(words []string) []string {
	out := words[:0:0]
	for _, w := range words {
		start, class := -1, 0 // class 1: word run, 2: other run
		for i, r := range w {
			c := 2
			if unicode.IsSpace(r) {
				c = 0
			} else if isWordRune(r) {
				c = 1
			}
			if c != class && start >= 0 {
				out = append(out, w[start:i])
				start = -1
			}
			if c != 0 && start < 0 {
				start = i
			}
			class = c
		}
		if start >= 0 {
			out = append(out, w[start:])
		}
	}
	return out
}

// metaspace is SentencePiece's word marking: spaces become the
// replacement (▁), one is put in front of the text (prepend "always", or
// "first": only in front of the first word), and with split each word
// starts at a replacement.
type metaspace struct {
	replacement string
	prepend     string
	splitWords  bool
}

func (m metaspace) split(words []string) []string {
	out := words[:0:0]
	for i, w := range words {
		w = strings.ReplaceAll(w, " ", m.replacement)
		if (m.prepend == "always" || m.prepend == "first" && i == 0) && !strings.HasPrefix(w, m.replacement) {
			w = m.replacement + w
		}
		if !m.splitWords {
			out = append(out, w)
			continue
		}
		for w != "" {
			skip := 0
			if strings.HasPrefix(w, m.replacement) {
				skip = len(m.replacement)
			}
			next := strings.Index(w[skip:], m.replacement)
			if next < 0 {
				out = append(out, w)
				break
			}
			cut := skip + next
			out = append(out, w[:cut])
			w = w[cut:]
		}
	}
	return out
}
