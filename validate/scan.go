package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/ragproxy/ragproxy/llm"
)

// maxDepth bounds the nesting of a request body: deeper bodies are
// refused, so the scan's recursion stays small whatever the body.
const maxDepth = 64

var (
	errSyntax    = errors.New("not well-formed JSON")
	errDuplicate = errors.New("duplicate key")
	errTooDeep   = errors.New("nested too deep")
)

// checkJSON checks that body is one JSON value, as encoding/json reads
// it, nested at most maxDepth deep, with no key twice in one object —
// compared without regard to case (strings.ToLower of the decoded keys),
// since lenient backends match keys so: of {"model":"a","Model":"b"} one
// backend reads a and another b, and the request must not be judged by
// the one the upstream does not read. It returns the first fault in the
// body's order, so a body with several is refused for the one a
// decoder meets first.
//
// It is one pass over the bytes that decodes nothing (only keys with
// escapes, upper case or non-ASCII bytes are folded into a scratch
// buffer); the checks then read the body with llm.EachMember and
// llm.EachElement, which may trust its structure. Strings may hold
// invalid UTF-8 and lone surrogates, as encoding/json accepts them
// (decoding replaces them with U+FFFD).
func checkJSON(body []byte) error {
	s := scannerPool.Get().(*scanner)
	defer s.release()
	s.src = body
	s.skipSpace()
	if err := s.value(0); err != nil {
		return err
	}
	s.skipSpace()
	if s.pos != len(s.src) {
		return errSyntax
	}
	return nil
}

type scanner struct {
	src    []byte
	pos    int
	keys   []foldedKey // keys of the objects being scanned, folded
	folded []byte      // folded keys that are not the body's own bytes
}

// foldedKey is a key in lower case: in the body (off into src) or, when
// folding changed it, in the scratch buffer.
type foldedKey struct {
	off, n  int
	scratch bool
}

var scannerPool = sync.Pool{New: func() any { return new(scanner) }}

// release returns the scanner to the pool, unless a large body grew it:
// the pool must not hold on to one hostile body's memory.
func (s *scanner) release() {
	const keep = 4096
	if cap(s.keys) > keep || cap(s.folded) > 16*keep {
		return
	}
	*s = scanner{keys: s.keys[:0], folded: s.folded[:0]}
	scannerPool.Put(s)
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.src) {
		switch s.src[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// value checks the value at s.pos, at the given depth.
func (s *scanner) value(depth int) error {
	if s.pos >= len(s.src) {
		return errSyntax
	}
	switch c := s.src[s.pos]; {
	case (c == '{' || c == '[') && depth >= maxDepth:
		return errTooDeep
	case c == '{':
		return s.object(depth)
	case c == '[':
		s.pos++
		s.skipSpace()
		if s.pos < len(s.src) && s.src[s.pos] == ']' {
			s.pos++
			return nil
		}
		for {
			s.skipSpace()
			if err := s.value(depth + 1); err != nil {
				return err
			}
			s.skipSpace()
			if s.pos >= len(s.src) {
				return errSyntax
			}
			switch s.src[s.pos] {
			case ',':
				s.pos++
			case ']':
				s.pos++
				return nil
			default:
				return errSyntax
			}
		}
	case c == '"':
		_, err := s.str()
		return err
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if bytes.HasPrefix(s.src[s.pos:], []byte(lit)) {
			s.pos += len(lit)
			return nil
		}
	}
	return errSyntax
}

// linearKeys is how many keys an object's duplicates are looked for
// among one by one; past it, in a map.
const linearKeys = 16

func (s *scanner) object(depth int) error {
	s.pos++ // {
	s.skipSpace()
	if s.pos < len(s.src) && s.src[s.pos] == '}' {
		s.pos++
		return nil
	}
	first := len(s.keys)
	defer func() { s.keys = s.keys[:first] }()
	var seen map[string]struct{} // once the object has more than linearKeys keys
	for {
		s.skipSpace()
		if s.pos >= len(s.src) || s.src[s.pos] != '"' {
			return errSyntax
		}
		start := s.pos
		plain, err := s.str()
		if err != nil {
			return err
		}
		// A decoder reads the key, and finds it twice, before it reads
		// the colon.
		k := s.fold(s.src[start:s.pos], plain)
		kb := s.key(k)
		if seen == nil {
			for _, o := range s.keys[first:] {
				if bytes.Equal(s.key(o), kb) {
					return errDuplicate
				}
			}
			if len(s.keys)-first == linearKeys {
				seen = make(map[string]struct{}, 2*linearKeys)
				for _, o := range s.keys[first:] {
					seen[string(s.key(o))] = struct{}{}
				}
			}
		}
		if seen != nil {
			if _, dup := seen[string(kb)]; dup {
				return errDuplicate
			}
			seen[string(kb)] = struct{}{}
		} else {
			s.keys = append(s.keys, k)
		}
		s.skipSpace()
		if s.pos >= len(s.src) || s.src[s.pos] != ':' {
			return errSyntax
		}
		s.pos++
		s.skipSpace()
		if err := s.value(depth + 1); err != nil {
			return err
		}
		s.skipSpace()
		if s.pos >= len(s.src) {
			return errSyntax
		}
		switch s.src[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return errSyntax
		}
	}
}

// fold returns the quoted key (checked by str) in lower case, as
// strings.ToLower of its decoded text: the body's own bytes when they
// are that already (plain ASCII in lower case, the usual key).
func (s *scanner) fold(quoted []byte, plain bool) foldedKey {
	raw := quoted[1 : len(quoted)-1]
	ascii, lower := plain, true
	for _, c := range raw {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
		lower = lower && !('A' <= c && c <= 'Z')
	}
	if ascii && lower {
		return foldedKey{off: s.pos - len(quoted) + 1, n: len(raw)}
	}
	off := len(s.folded)
	if ascii {
		for _, c := range raw {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			s.folded = append(s.folded, c)
		}
	} else {
		s.folded = append(s.folded, strings.ToLower(decodeString(quoted))...)
	}
	return foldedKey{off: off, n: len(s.folded) - off, scratch: true}
}

func (s *scanner) key(k foldedKey) []byte {
	if k.scratch {
		return s.folded[k.off : k.off+k.n]
	}
	return s.src[k.off : k.off+k.n]
}

// str moves past the string at s.pos, checking it as encoding/json does
// (escapes, no control characters; any bytes else), and reports whether
// it holds no escape.
func (s *scanner) str() (plain bool, err error) {
	src := s.src
	plain = true
	for i := s.pos + 1; i < len(src); {
		switch c := src[i]; {
		case c == '"':
			s.pos = i + 1
			return plain, nil
		case c == '\\':
			plain = false
			if i+1 >= len(src) {
				return false, errSyntax
			}
			switch src[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(src) || !isHex(src[i+2]) || !isHex(src[i+3]) || !isHex(src[i+4]) || !isHex(src[i+5]) {
					return false, errSyntax
				}
				i += 6
			default:
				return false, errSyntax
			}
		case c < 0x20:
			return false, errSyntax
		default:
			i++
		}
	}
	return false, errSyntax
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// number moves past a number in JSON's grammar.
func (s *scanner) number() error {
	end := llm.NumberEnd(s.src, s.pos)
	if end < 0 {
		return errSyntax
	}
	s.pos = end
	return nil
}

// decodeString decodes a JSON string that checkJSON has checked, as
// encoding/json does (invalid UTF-8 and lone surrogates become U+FFFD).
func decodeString(quoted []byte) string {
	var out string
	_ = json.Unmarshal(quoted, &out)
	return out
}

// text returns the decoded text of the JSON value v if it is a string:
// its own bytes when decoding would not change them (no escape, valid
// UTF-8: the usual string, read without a copy), else a decoded copy.
func text(v []byte) ([]byte, bool) {
	if len(v) < 2 || v[0] != '"' {
		return nil, false
	}
	if raw := v[1 : len(v)-1]; llm.PlainText(raw) {
		return raw, true
	}
	return []byte(decodeString(v)), true
}
