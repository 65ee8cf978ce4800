package cache

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"
)

// appendCanonical is the fast path of Canonicalize: it writes the canonical
// form of src straight from the bytes, without building map[string]any,
// and gives exactly what Encode(Decode(src)) gives (a differential fuzz
// test holds it to that). On a cache hit this is most of the handler's
// work, so it matters.
func (c *Canonicalizer) appendCanonical(dst, src []byte) ([]byte, error) {
	p := canonParser{src: src, ignore: c.ignore}
	p.skipSpace()
	out, err := p.value(dst, p.ignore, 0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return nil, errMalformed
	}
	return out, nil
}

var errMalformed = errors.New("malformed JSON")

// maxCanonDepth bounds nesting: each object level copies what it holds
// once, so deep nesting costs depth × size. A body nested deeper is
// reported malformed and passes through uncached.
const maxCanonDepth = 1000

type canonParser struct {
	src    []byte
	pos    int
	ignore [][]string
	keys   []canonMember // reused across objects
}

type canonMember struct {
	key        string
	start, end int // the member's canonical value in the output
}

func (p *canonParser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// value appends the canonical form of the value at p.pos. ignore holds the
// ignored paths that apply inside this value.
func (p *canonParser) value(dst []byte, ignore [][]string, depth int) ([]byte, error) {
	if p.pos >= len(p.src) || depth > maxCanonDepth {
		return nil, errMalformed
	}
	switch b := p.src[p.pos]; {
	case b == '{':
		return p.object(dst, ignore, depth)
	case b == '[':
		return p.array(dst, depth)
	case b == '"':
		start := p.pos
		if err := p.skipString(); err != nil {
			return nil, err
		}
		return appendCanonString(dst, p.src[start:p.pos])
	case b == '-' || b >= '0' && b <= '9':
		start := p.pos
		if !p.skipNumber() {
			return nil, errMalformed
		}
		return append(dst, p.src[start:p.pos]...), nil
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if bytes.HasPrefix(p.src[p.pos:], []byte(lit)) {
			p.pos += len(lit)
			return append(dst, lit...), nil
		}
	}
	return nil, errMalformed
}

func (p *canonParser) array(dst []byte, depth int) ([]byte, error) {
	p.pos++ // [
	dst = append(dst, '[')
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		return append(dst, ']'), nil
	}
	for {
		p.skipSpace()
		var err error
		if dst, err = p.value(dst, nil, depth+1); err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, errMalformed
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
			dst = append(dst, ',')
		case ']':
			p.pos++
			return append(dst, ']'), nil
		default:
			return nil, errMalformed
		}
	}
}

// object writes the members' values one after another at the end of dst,
// then rewrites that tail with the members sorted by key (the last of
// duplicate keys wins, as when decoding into a map) and the ignored ones
// left out.
func (p *canonParser) object(dst []byte, ignore [][]string, depth int) ([]byte, error) {
	p.pos++ // {
	base := len(dst)
	first := len(p.keys)
	defer func() { p.keys = p.keys[:first] }()
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		return append(dst, '{', '}'), nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != '"' {
			return nil, errMalformed
		}
		start := p.pos
		if err := p.skipString(); err != nil {
			return nil, err
		}
		key, err := decodeKey(p.src[start:p.pos])
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return nil, errMalformed
		}
		p.pos++
		p.skipSpace()
		drop, inner := matchIgnore(ignore, key)
		vstart := len(dst)
		if dst, err = p.value(dst, inner, depth+1); err != nil {
			return nil, err
		}
		if drop {
			dst = dst[:vstart]
		} else {
			p.keys = append(p.keys, canonMember{key: key, start: vstart, end: len(dst)})
		}
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, errMalformed
		}
		if p.src[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.src[p.pos] != '}' {
			return nil, errMalformed
		}
		p.pos++
		break
	}
	members := p.keys[first:]
	slices.SortStableFunc(members, func(a, b canonMember) int { return strings.Compare(a.key, b.key) })
	values := bytes.Clone(dst[base:])
	dst = append(dst[:base], '{')
	wrote := false
	for i, m := range members {
		if i+1 < len(members) && members[i+1].key == m.key {
			continue // a later duplicate wins
		}
		if wrote {
			dst = append(dst, ',')
		}
		wrote = true
		dst = appendQuoted(dst, m.key)
		dst = append(dst, ':')
		dst = append(dst, values[m.start-base:m.end-base]...)
	}
	return append(dst, '}'), nil
}

// matchIgnore says whether key is ignored here, and which ignored paths
// apply inside its value.
func matchIgnore(ignore [][]string, key string) (drop bool, inner [][]string) {
	for _, path := range ignore {
		if path[0] != key {
			continue
		}
		if len(path) == 1 {
			return true, nil
		}
		inner = append(inner, path[1:])
	}
	return false, inner
}

// skipString moves past the string at p.pos, checking its escapes.
func (p *canonParser) skipString() error {
	p.pos++ // opening quote
	for p.pos < len(p.src) {
		switch b := p.src[p.pos]; {
		case b == '"':
			p.pos++
			return nil
		case b == '\\':
			if p.pos+1 >= len(p.src) {
				return errMalformed
			}
			switch p.src[p.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.pos += 2
			case 'u':
				if p.pos+6 > len(p.src) || !isHex4(p.src[p.pos+2:p.pos+6]) {
					return errMalformed
				}
				p.pos += 6
			default:
				return errMalformed
			}
		case b < 0x20:
			return errMalformed
		default:
			p.pos++
		}
	}
	return errMalformed
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// skipNumber moves past a number in JSON's grammar.
func (p *canonParser) skipNumber() bool {
	s, i := p.src, p.pos
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	p.pos = i
	return true
}

// appendCanonString writes a quoted JSON string as Encode would: copied
// as is when it holds nothing to escape or unescape (the common case),
// else decoded and encoded again.
func appendCanonString(dst, quoted []byte) ([]byte, error) {
	inner := quoted[1 : len(quoted)-1]
	if plainString(inner) {
		return append(dst, quoted...), nil
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return nil, errMalformed
	}
	return appendQuoted(dst, s), nil
}

// plainString reports whether a string's bytes are already canonical:
// valid UTF-8, no escapes, nothing Encode would escape.
func plainString(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c == '\\' || c == '"' || c < 0x20 {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError || r == '\u2028' || r == '\u2029' {
			return false
		}
		i += size
	}
	return true
}

func decodeKey(quoted []byte) (string, error) {
	if plainString(quoted[1 : len(quoted)-1]) {
		return string(quoted[1 : len(quoted)-1]), nil
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return "", errMalformed
	}
	return s, nil
}

// appendQuoted writes s quoted as Encode does (no HTML escaping).
func appendQuoted(dst []byte, s string) []byte {
	if plainString([]byte(s)) {
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	}
	return appendStd(dst, s)
}
