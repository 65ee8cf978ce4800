package cache

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// ambiguous is the slow check of what Canonicalize refuses: invalid UTF-8,
// a lone surrogate escape (encoding/json turns both into U+FFFD), or a
// duplicate key at any level (a token walk).
func ambiguous(body []byte) bool {
	if !utf8.Valid(body) {
		return true
	}
	var v any
	if json.Unmarshal(body, &v) == nil && strings.ContainsRune(string(Encode(v)), utf8.RuneError) &&
		!strings.ContainsRune(string(body), utf8.RuneError) {
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		obj  bool
		key  bool // next string token is a key
		seen map[string]bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		isKey := top != nil && top.obj && top.key
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{', '[':
				stack = append(stack, &frame{obj: tok == '{', key: true, seen: map[string]bool{}})
				continue
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if isKey {
				if top.seen[tok] {
					return true
				}
				top.seen[tok] = true
				top.key = false
				continue
			}
		}
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].key = true
		}
	}
}

// reference is the slow, obviously right canonical form: encoding/json
// both ways (its maps encode with sorted keys).
func reference(c *Canonicalizer, body []byte) ([]byte, error) {
	v, err := c.Decode(body)
	if err != nil || v == nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// FuzzCanonicalMatchesReference holds the fast canonicalizer to the one
// built on encoding/json: the same bytes for every input it accepts, and
// an error exactly when the reference errs — except for the ambiguous
// bodies it refuses on purpose (duplicate keys, invalid UTF-8, lone
// surrogates), which the reference quietly merges with others.
func FuzzCanonicalMatchesReference(f *testing.F) {
	for _, s := range []string{
		`{"b":1,"a":[true,null,"x"],"user":"u"}`, `{"a":{"b":{"c":1}},"x":{"y":2,"z":3}}`,
		`{"a":1,"a":2}`, `{"\u0061":1,"a":0}`, `"\u003c\u2028\ud83d\ude00"`, `"\xff"`, `{"k":"a\"b\\c\/d\n"}`,
		`-0.5e+10`, `1.`, `01`, `[1,]`, `{"a" 1}`, ` [ ] `, `{}`, `nul`, "\"\x01\"", `{"m":"<b>&</b>"}`,
	} {
		f.Add([]byte(s))
	}
	c := NewCanonicalizer([]string{"user", "x.y"})
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(bytes.TrimSpace(body)) == 0 || bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
			return // the reference reads these as no body
		}
		want, werr := reference(c, body)
		got, gerr := c.Canonicalize(body)
		if errors.Is(gerr, ErrAmbiguousJSON) {
			if werr == nil && !ambiguous(body) {
				t.Fatalf("%q: refused as ambiguous, but has no duplicate key, invalid UTF-8 or lone surrogate", body)
			}
			return
		}
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("%q: reference error %v, fast error %v", body, werr, gerr)
		}
		if werr == nil && !bytes.Equal(got, want) {
			t.Fatalf("%q:\n fast %q\n  ref %q", body, got, want)
		}
		if werr == nil { // Encode of the decoded value agrees too
			v, _ := c.Decode(body)
			if enc := Encode(v); !bytes.Equal(enc, want) {
				t.Fatalf("%q:\n Encode %q\n    ref %q", body, enc, want)
			}
		}
	})
}

func BenchmarkCanonicalize(b *testing.B) {
	body := []byte(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"What does retrieval-augmented generation add to a language model?"}],"temperature":0.2,"user":"alice"}`)
	c := NewCanonicalizer([]string{"user"})
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c.Canonicalize(body)
		}
	})
	b.Run("reference", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			reference(c, body)
		}
	})
}
