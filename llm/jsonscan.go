package llm

import (
	"bytes"
	"encoding/json"
	"strings"
)

// topLevelValue returns the value of the last top-level key of the JSON
// object b that is key (see keyIs), or nil if b is not a well-formed
// object or has no such key.
func topLevelValue(b []byte, key string) []byte {
	var found []byte
	if !eachMember(b, func(name, value []byte) {
		if keyIs(name, key) {
			found = value
		}
	}) {
		return nil
	}
	return found
}

// HasMember reports whether body, a JSON object, has a top-level member
// named name (as encoding/json matches names: exactly or case-insensitively),
// and whether body is a well-formed object at all (structure checked, as
// eachMember does; scalars are left to the upstream's decoder).
func HasMember(body []byte, name string) (has, object bool) {
	object = eachMember(body, func(n, _ []byte) {
		has = has || keyIs(n, name)
	})
	return has && object, object
}

// EachMember calls fn with the name (a JSON string, quotes included) and
// the value of each member of the JSON object b, in order, and reports
// whether b is a well-formed object, checking its structure only (see
// eachMember): for a body a strict parser has already checked, it is a
// way to walk it without decoding it.
func EachMember(b []byte, fn func(name, value []byte)) bool { return eachMember(b, fn) }

// EachElement calls fn with each element of the JSON array b, in order,
// and reports whether b is a well-formed array, checking its structure
// only, as EachMember does.
func EachElement(b []byte, fn func(value []byte)) bool {
	i := skipSpaceAt(b, 0)
	if i >= len(b) || b[i] != '[' {
		return false
	}
	i = skipSpaceAt(b, i+1)
	if i < len(b) && b[i] == ']' {
		return skipSpaceAt(b, i+1) == len(b)
	}
	for {
		end := valueEnd(b, i)
		if end < 0 {
			return false
		}
		fn(b[i:end])
		i = skipSpaceAt(b, end)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipSpaceAt(b, i+1)
		case ']':
			return skipSpaceAt(b, i+1) == len(b)
		default:
			return false
		}
	}
}

// eachMember calls fn with the name (a JSON string, quotes included) and
// the value of each member of the JSON object b, in order, and reports
// whether b is a well-formed object.
//
// It steps over values without decoding them: finding the usage of an
// answer then costs one pass that jumps from quote to quote, not a full
// decode. It checks the structure (brackets, strings, separators, nothing
// after the object) but not the spelling of the scalars it steps over, so
// fn may be called before it finds b malformed; the values it hands over
// are left to a real decoder.
func eachMember(b []byte, fn func(name, value []byte)) bool {
	i := skipSpaceAt(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpaceAt(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipSpaceAt(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false
		}
		end := stringEnd(b, i)
		if end < 0 {
			return false
		}
		name := b[i:end]
		i = skipSpaceAt(b, end)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpaceAt(b, i+1)
		end = valueEnd(b, i)
		if end < 0 {
			return false
		}
		fn(name, b[i:end])
		i = skipSpaceAt(b, end)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipSpaceAt(b, i+1)
		case '}':
			return skipSpaceAt(b, i+1) == len(b) // nothing after the object
		default:
			return false
		}
	}
}

// keyIs reports whether the JSON string name (quotes included) names the
// struct field tagged want, as encoding/json matches them: exactly or
// case-insensitively, escapes decoded.
func keyIs(name []byte, want string) bool {
	raw := name[1 : len(name)-1]
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw) == want || bytes.EqualFold(raw, []byte(want))
	}
	var s string
	return json.Unmarshal(name, &s) == nil && strings.EqualFold(s, want)
}

// stringEnd returns the index just past the string that starts at b[i]
// (a '"'), or -1 if it is not closed.
func stringEnd(b []byte, i int) int {
	for j := i + 1; ; {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1
		}
		j += k
		// The quote closes the string unless an odd run of backslashes
		// escapes it.
		n := 0
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return j + 1
		}
		j++
	}
}

// valueEnd returns the index just past the value that starts at b[i], or
// -1 if there is no well-nested value there.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		// Brackets of either kind must pair up: keep the open ones.
		var stack [64]byte
		open := stack[:0]
		for j := i; j < len(b); j++ {
			switch c := b[j]; c {
			case '"':
				e := stringEnd(b, j)
				if e < 0 {
					return -1
				}
				j = e - 1
			case '{', '[':
				open = append(open, c)
			case '}', ']':
				if len(open) == 0 || open[len(open)-1] != c-2 { // '{'+2 == '}', '['+2 == ']'
					return -1
				}
				if open = open[:len(open)-1]; len(open) == 0 {
					return j + 1
				}
			}
		}
		return -1
	case ',', '}', ']', ':':
		return -1
	}
	// A number, true, false or null: up to the next separator.
	j := i
	for j < len(b) {
		switch b[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return j
		case '"', '{', '[', ':':
			return -1
		}
		j++
	}
	return j
}

// skipSpaceAt returns the index of the first byte at or after i that is
// not JSON whitespace (len(b) if there is none).
func skipSpaceAt(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
