package model2vec

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalizer rewrites text before it is split into words, as the
// HuggingFace tokenizers normalizer of the same name does.
type normalizer interface {
	normalize(s string) string
}

// parseNormalizer builds the normalizer a tokenizer.json describes; null
// means none. Types this package does not implement are refused: a
// tokenizer that normalised differently would give other token ids, and so
// silently worse vectors.
func parseNormalizer(raw json.RawMessage) (normalizer, error) {
	if isNull(raw) {
		return nil, nil
	}
	var spec struct {
		Type         string            `json:"type"`
		CleanText    *bool             `json:"clean_text"`
		ChineseChars *bool             `json:"handle_chinese_chars"`
		StripAccents *bool             `json:"strip_accents"`
		Lowercase    *bool             `json:"lowercase"`
		Normalizers  []json.RawMessage `json:"normalizers"`
		Left         bool              `json:"left"`
		Right        bool              `json:"right"`
		Prepend      string            `json:"prepend"`
		Content      string            `json:"content"`
		Pattern      map[string]string `json:"pattern"`
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		return nil, fmt.Errorf("normalizer: %v", err)
	}
	switch spec.Type {
	case "BertNormalizer":
		b := bertNormalizer{clean: orTrue(spec.CleanText), chinese: orTrue(spec.ChineseChars), lower: orTrue(spec.Lowercase)}
		b.strip = b.lower // HuggingFace: strip_accents null follows lowercase
		if spec.StripAccents != nil {
			b.strip = *spec.StripAccents
		}
		return b, nil
	case "Lowercase":
		return funcNormalizer(lowercase), nil
	case "StripAccents":
		return funcNormalizer(stripMarks), nil
	case "NFD":
		return funcNormalizer(norm.NFD.String), nil
	case "NFKD":
		return funcNormalizer(norm.NFKD.String), nil
	case "NFC":
		return funcNormalizer(norm.NFC.String), nil
	case "NFKC":
		return funcNormalizer(norm.NFKC.String), nil
	case "Strip":
		return stripNormalizer{left: spec.Left, right: spec.Right}, nil
	case "Prepend":
		return funcNormalizer(func(s string) string {
			if s == "" {
				return s
			}
			return spec.Prepend + s
		}), nil
	case "Replace":
		pattern, ok := spec.Pattern["String"]
		if !ok || pattern == "" {
			return nil, fmt.Errorf("normalizer Replace: only a plain String pattern is supported, got %v", spec.Pattern)
		}
		return funcNormalizer(func(s string) string { return strings.ReplaceAll(s, pattern, spec.Content) }), nil
	case "Sequence":
		var seq sequenceNormalizer
		for _, r := range spec.Normalizers {
			n, err := parseNormalizer(r)
			if err != nil {
				return nil, err
			}
			if n != nil {
				seq = append(seq, n)
			}
		}
		return seq, nil
	}
	return nil, fmt.Errorf("normalizer %q is not supported (want BertNormalizer, Lowercase, StripAccents, NFD, NFKD, NFC, NFKC, Strip, Prepend, Replace or a Sequence of them)", spec.Type)
}

func orTrue(b *bool) bool { return b == nil || *b }

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

type funcNormalizer func(string) string

func (f funcNormalizer) normalize(s string) string { return f(s) }

type sequenceNormalizer []normalizer

func (seq sequenceNormalizer) normalize(s string) string {
	for _, n := range seq {
		s = n.normalize(s)
	}
	return s
}

type stripNormalizer struct{ left, right bool }

func (n stripNormalizer) normalize(s string) string {
	if n.left {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
	}
	if n.right {
		s = strings.TrimRightFunc(s, unicode.IsSpace)
	}
	return s
}

// bertNormalizer is BERT's: drop control characters and map whitespace to
// spaces (clean), put spaces around CJK ideographs (chinese), decompose and
// drop nonspacing marks (strip), lowercase (lower) — in that order.
type bertNormalizer struct{ clean, chinese, strip, lower bool }

func (b bertNormalizer) normalize(s string) string {
	if ascii(s) {
		return b.normalizeASCII(s)
	}
	var sb strings.Builder
	sb.Grow(len(s) + 8)
	for _, r := range s {
		if r < utf8.RuneSelf {
			if b.clean {
				switch {
				case r == '\t' || r == '\n' || r == '\r':
					r = ' '
				case r < 0x20 || r == 0x7f:
					continue
				}
			}
			sb.WriteByte(byte(r))
			continue
		}
		if b.clean {
			if r == 0 || r == utf8.RuneError || isControl(r) {
				continue
			}
			if unicode.IsSpace(r) {
				r = ' '
			}
		}
		if b.chinese && isCJK(r) {
			sb.WriteByte(' ')
			sb.WriteRune(r)
			sb.WriteByte(' ')
			continue
		}
		sb.WriteRune(r)
	}
	out := sb.String()
	if b.strip {
		out = stripMarks(norm.NFD.String(out))
	}
	if b.lower {
		out = lowercase(out)
	}
	return out
}

// normalizeASCII is normalize for pure ASCII text: one pass, no
// decomposition (ASCII has no accents to strip).
func (b bertNormalizer) normalizeASCII(s string) string {
	buf := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if b.clean {
			switch {
			case c == '\t' || c == '\n' || c == '\r':
				c = ' '
			case c < 0x20 || c == 0x7f:
				continue // controls, \v and \f included, as HuggingFace drops them before mapping whitespace
			}
		}
		if b.lower && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf = append(buf, c)
	}
	return string(buf)
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// isControl is HuggingFace's is_control: Unicode category C (Cc, Cf, Co,
// Cs and unassigned), but not tab, newline or carriage return.
func isControl(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	return unicode.Is(unicode.C, r) || !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z)
}

// isCJK is BERT's range list of CJK ideographs.
func isCJK(r rune) bool {
	return r >= 0x4E00 && r <= 0x9FFF || r >= 0x3400 && r <= 0x4DBF ||
		r >= 0x20000 && r <= 0x2A6DF || r >= 0x2A700 && r <= 0x2B73F ||
		r >= 0x2B740 && r <= 0x2B81F || r >= 0x2B920 && r <= 0x2CEAF ||
		r >= 0xF900 && r <= 0xFAFF || r >= 0x2F800 && r <= 0x2FA1F
}

// stripMarks drops nonspacing marks (category Mn): after NFD, the accents.
func stripMarks(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return r
	}, s)
}

// lowercase is Rust's char::to_lowercase applied to every character, which
// differs from Go's simple mapping only for U+0130 (İ → i + U+0307).
func lowercase(s string) string {
	if !strings.ContainsRune(s, 'İ') {
		return strings.ToLower(s)
	}
	return strings.ToLower(strings.ReplaceAll(s, "İ", "i\u0307"))
}
