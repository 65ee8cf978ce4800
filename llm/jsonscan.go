package llm

import "bytes"

// topLevelValue returns the value of the last top-level key of the JSON
// object b that equals key (a JSON string with its quotes, such as
// `"usage"`), or nil if b is not an object or has no such key.
//
// It steps over the rest of the document without decoding it: finding the
// usage of an answer then costs one pass that jumps from quote to quote,
// not a full decode. It checks the document's structure (brackets, strings,
// separators, nothing after the object) but not the spelling of the
// scalars it steps over; the value it returns is left to a real decoder.
func topLevelValue(b, key []byte) []byte {
	i := skipSpaceAt(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil
	}
	var found []byte
	i = skipSpaceAt(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil
		}
		end := stringEnd(b, i)
		if end < 0 {
			return nil
		}
		name := b[i:end]
		i = skipSpaceAt(b, end)
		if i >= len(b) || b[i] != ':' {
			return nil
		}
		i = skipSpaceAt(b, i+1)
		end = valueEnd(b, i)
		if end < 0 {
			return nil
		}
		if bytes.Equal(name, key) {
			found = b[i:end]
		}
		i = skipSpaceAt(b, end)
		if i >= len(b) {
			return nil
		}
		switch b[i] {
		case ',':
			i = skipSpaceAt(b, i+1)
		case '}':
			if skipSpaceAt(b, i+1) != len(b) {
				return nil // something after the object
			}
			return found
		default:
			return nil
		}
	}
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

func skipSpaceAt(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
