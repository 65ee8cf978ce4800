package cache

import (
	"bytes"
	"encoding/json"
	"testing"
)

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
// an error exactly when the reference errs.
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
		if werr == nil && gerr != nil && bytes.Count(body, []byte("["))+bytes.Count(body, []byte("{")) > maxCanonDepth {
			return // nested deeper than the fast path takes
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
