package cache

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/ragproxy/ragproxy/llm"
)

// appendCanonical is the fast path of Canonicalize: it writes the canonical
// form of src straight from the bytes, without building map[string]any,
// and gives exactly what Encode(Decode(src)) gives for every body it
// accepts (a differential fuzz test holds it to that).
//
// It works in two passes so that its cost is linear in the body at any
// nesting depth. The first pass checks the grammar and records, for every
// object, its members sorted by key (the key and where the value starts in
// src): an index of a few words per member. The second writes the output
// once, front to back, taking each object's members in that order. Nothing
// is copied twice, so a body nested 1,000 deep costs what a flat one does
// (the earlier one-pass form copied each object's content once per level).
//
// Bodies that two backends could read differently are refused with
// errAmbiguous: duplicate keys in an object (first-key-wins and
// last-key-wins parsers disagree), invalid UTF-8 and lone surrogate
// escapes (decoders replace them with U+FFFD, so different bodies would
// canonicalize alike).
func (c *Canonicalizer) appendCanonical(dst, src []byte) ([]byte, error) {
	if uint64(len(src)) >= 1<<32-1 {
		return nil, errMalformed
	}
	p := parserPool.Get().(*canonParser)
	defer p.release()
	p.src = src
	p.skipSpace()
	if err := p.scan(c.ignore, 0); err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return nil, errMalformed
	}
	p.pos = 0
	p.skipSpace()
	return p.emit(dst), nil
}

var (
	errMalformed = errors.New("malformed JSON")
	errAmbiguous = errors.New("duplicate keys, invalid UTF-8 or a lone surrogate")
)

// maxCanonDepth bounds nesting as encoding/json does (its limit is 10,000
// too), so Canonicalize and Decode refuse the same bodies; it also bounds
// the two passes' recursion. Cost stays linear below it.
const maxCanonDepth = 10000

type canonParser struct {
	src []byte
	pos int

	stack   []canonMember // members of the objects being scanned
	members []canonMember // every object's kept members, sorted, each object's together
	objects []canonObject // every object, in source order
	keys    []byte        // keys that held escapes, decoded
}

// canonMember is one object member: its key, in src (plain) or in keys
// (decoded from escapes), and where its value starts in src.
type canonMember struct {
	keyOff, keyLen uint32
	val            uint32
	decoded        bool
}

// canonObject is one object: where it starts and ends in src, and its
// members in members[first:first+n].
type canonObject struct {
	start, end, first, n uint32
}

var parserPool = sync.Pool{New: func() any { return new(canonParser) }}

// release returns the parser to the pool, unless a large body grew its
// index: the pool must not hold on to one hostile body's memory.
func (p *canonParser) release() {
	const keep = 4096
	if cap(p.stack) > keep || cap(p.members) > keep || cap(p.objects) > keep || cap(p.keys) > 16*keep {
		return
	}
	*p = canonParser{stack: p.stack[:0], members: p.members[:0], objects: p.objects[:0], keys: p.keys[:0]}
	parserPool.Put(p)
}

func (p *canonParser) key(m canonMember) []byte {
	if m.decoded {
		return p.keys[m.keyOff : m.keyOff+m.keyLen]
	}
	return p.src[m.keyOff : m.keyOff+m.keyLen]
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

// scan checks the value at p.pos and indexes its objects. ignore holds the
// ignored paths that apply inside this value.
func (p *canonParser) scan(ignore []llm.Path, depth int) error {
	if p.pos >= len(p.src) {
		return errMalformed
	}
	switch b := p.src[p.pos]; {
	case (b == '{' || b == '[') && depth >= maxCanonDepth:
		return errMalformed
	case b == '{':
		return p.scanObject(ignore, depth)
	case b == '[':
		p.pos++
		p.skipSpace()
		if p.pos < len(p.src) && p.src[p.pos] == ']' {
			p.pos++
			return nil
		}
		for {
			p.skipSpace()
			if err := p.scan(nil, depth+1); err != nil {
				return err
			}
			p.skipSpace()
			if p.pos >= len(p.src) {
				return errMalformed
			}
			switch p.src[p.pos] {
			case ',':
				p.pos++
			case ']':
				p.pos++
				return nil
			default:
				return errMalformed
			}
		}
	case b == '"':
		_, err := p.skipString()
		return err
	case b == '-' || b >= '0' && b <= '9':
		if !p.skipNumber() {
			return errMalformed
		}
		return nil
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if bytes.HasPrefix(p.src[p.pos:], []byte(lit)) {
			p.pos += len(lit)
			return nil
		}
	}
	return errMalformed
}

func (p *canonParser) scanObject(ignore []llm.Path, depth int) error {
	idx := len(p.objects)
	p.objects = append(p.objects, canonObject{start: uint32(p.pos)})
	p.pos++ // {
	first := len(p.stack)
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		p.objects[idx].end = uint32(p.pos)
		p.objects[idx].first = uint32(len(p.members))
		return nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != '"' {
			return errMalformed
		}
		start := p.pos
		escaped, err := p.skipString()
		if err != nil {
			return err
		}
		m := canonMember{keyOff: uint32(start + 1), keyLen: uint32(p.pos - start - 2)}
		if escaped {
			off := len(p.keys)
			p.keys = appendUnescaped(p.keys, p.src[start+1:p.pos-1])
			m = canonMember{keyOff: uint32(off), keyLen: uint32(len(p.keys) - off), decoded: true}
		}
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return errMalformed
		}
		p.pos++
		p.skipSpace()
		var drop bool
		var inner []llm.Path
		if len(ignore) > 0 {
			drop, inner = matchIgnore(ignore, p.key(m))
		}
		m.val = uint32(p.pos)
		if err := p.scan(inner, depth+1); err != nil {
			return err
		}
		if !drop {
			p.stack = append(p.stack, m)
		}
		p.skipSpace()
		if p.pos >= len(p.src) {
			return errMalformed
		}
		if p.src[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.src[p.pos] != '}' {
			return errMalformed
		}
		p.pos++
		break
	}
	members := p.stack[first:]
	slices.SortFunc(members, func(a, b canonMember) int { return bytes.Compare(p.key(a), p.key(b)) })
	for i := 1; i < len(members); i++ {
		if bytes.Equal(p.key(members[i-1]), p.key(members[i])) {
			return errAmbiguous
		}
	}
	p.objects[idx].end = uint32(p.pos)
	p.objects[idx].first = uint32(len(p.members))
	p.objects[idx].n = uint32(len(members))
	p.members = append(p.members, members...)
	p.stack = p.stack[:first]
	return nil
}

// matchIgnore says whether key is ignored here, and which ignored paths
// apply inside its value.
func matchIgnore(ignore []llm.Path, key []byte) (drop bool, inner []llm.Path) {
	for _, path := range ignore {
		if path[0] != string(key) {
			continue
		}
		if len(path) == 1 {
			return true, nil
		}
		inner = append(inner, path[1:])
	}
	return false, inner
}

// emit appends the canonical form of the value at p.pos, which scan has
// checked and indexed.
func (p *canonParser) emit(dst []byte) []byte {
	switch b := p.src[p.pos]; {
	case b == '{':
		i, _ := slices.BinarySearchFunc(p.objects, uint32(p.pos), func(o canonObject, pos uint32) int {
			return int(int64(o.start) - int64(pos))
		})
		o := p.objects[i]
		dst = append(dst, '{')
		for j, m := range p.members[o.first : o.first+o.n] {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = appendQuotedBytes(dst, p.key(m))
			dst = append(dst, ':')
			p.pos = int(m.val)
			dst = p.emit(dst)
		}
		p.pos = int(o.end)
		return append(dst, '}')
	case b == '[':
		p.pos++
		dst = append(dst, '[')
		p.skipSpace()
		if p.src[p.pos] == ']' {
			p.pos++
			return append(dst, ']')
		}
		for {
			p.skipSpace()
			dst = p.emit(dst)
			p.skipSpace()
			if p.src[p.pos] == ']' {
				p.pos++
				return append(dst, ']')
			}
			p.pos++ // ,
			dst = append(dst, ',')
		}
	case b == '"':
		start := p.pos
		p.pos = stringEnd(p.src, p.pos)
		return appendCanonString(dst, p.src[start:p.pos])
	case b == '-' || b >= '0' && b <= '9':
		start := p.pos
		p.skipNumber()
		return append(dst, p.src[start:p.pos]...)
	case b == 't':
		p.pos += 4
		return append(dst, "true"...)
	case b == 'f':
		p.pos += 5
		return append(dst, "false"...)
	}
	p.pos += 4
	return append(dst, "null"...)
}

// skipString moves past the string at p.pos, checking its escapes, that
// it is valid UTF-8 and that every \u escape of a surrogate is half of a
// pair. It reports whether the string holds escapes.
func (p *canonParser) skipString() (escaped bool, err error) {
	p.pos++ // opening quote
	s := p.src
	for p.pos < len(s) {
		switch b := s[p.pos]; {
		case b == '"':
			p.pos++
			return escaped, nil
		case b == '\\':
			escaped = true
			if p.pos+1 >= len(s) {
				return false, errMalformed
			}
			switch s[p.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.pos += 2
			case 'u':
				r, ok := hex4(s[p.pos+2:])
				if !ok {
					return false, errMalformed
				}
				p.pos += 6
				if utf16.IsSurrogate(r) {
					// only a high surrogate followed by a low one is a character
					if r >= 0xdc00 || p.pos+1 >= len(s) || s[p.pos] != '\\' || s[p.pos+1] != 'u' {
						return false, errAmbiguous
					}
					r2, ok := hex4(s[p.pos+2:])
					if !ok {
						return false, errMalformed
					}
					if r2 < 0xdc00 || r2 > 0xdfff {
						return false, errAmbiguous
					}
					p.pos += 6
				}
			default:
				return false, errMalformed
			}
		case b < 0x20:
			return false, errMalformed
		case b < utf8.RuneSelf:
			p.pos++
		default:
			r, size := utf8.DecodeRune(s[p.pos:])
			if r == utf8.RuneError && size == 1 {
				return false, errAmbiguous
			}
			p.pos += size
		}
	}
	return false, errMalformed
}

// stringEnd returns the position just past the string that starts at
// pos, which scan has checked: the first quote not escaped.
func stringEnd(s []byte, pos int) int {
	i := pos + 1
	for {
		j := bytes.IndexAny(s[i:], `"\\`)
		i += j
		if s[i] == '"' {
			return i + 1
		}
		i += 2 // an escape: \u's four digits hold no quote or backslash
	}
}

// hex4 reads the four hex digits of a \u escape.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// appendUnescaped appends the characters of a string's content (without
// its quotes) that skipString has checked.
func appendUnescaped(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		if s[i] != '\\' {
			j := bytes.IndexByte(s[i:], '\\')
			if j < 0 {
				return append(dst, s[i:]...)
			}
			dst = append(dst, s[i:i+j]...)
			i += j
			continue
		}
		switch c := s[i+1]; c {
		case 'u':
			r, _ := hex4(s[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				r2, _ := hex4(s[i+2:])
				r = utf16.DecodeRune(r, r2)
				i += 6
			}
			dst = utf8.AppendRune(dst, r)
			continue
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		default: // " \\ /
			dst = append(dst, c)
		}
		i += 2
	}
	return dst
}

// skipNumber moves past a number in JSON's grammar.
func (p *canonParser) skipNumber() bool {
	end := llm.NumberEnd(p.src, p.pos)
	if end < 0 {
		return false
	}
	p.pos = end
	return true
}

// appendCanonString writes a quoted JSON string (checked by skipString) as
// Encode would: copied as is when it holds nothing to escape or unescape
// (the common case), else decoded and encoded again.
func appendCanonString(dst, quoted []byte) []byte {
	inner := quoted[1 : len(quoted)-1]
	if plainString(inner) {
		return append(dst, quoted...)
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return append(dst, quoted...) // not reached: skipString checked it
	}
	return appendQuoted(dst, s)
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

// appendQuotedBytes writes a decoded key quoted as Encode does.
func appendQuotedBytes(dst, s []byte) []byte {
	if plainString(s) {
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	}
	return appendStd(dst, string(s))
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
