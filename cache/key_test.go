package cache

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

func TestCanonicalizeEquivalentBodies(t *testing.T) {
	c := NewCanonicalizer([]string{"user", "metadata.trace_id"})
	base := `{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.5}`
	same := []string{
		`{ "temperature": 0.5, "messages": [ {"content":"hi","role":"user"} ], "model": "m" }`,
		"{\n\t\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":0.5,\"user\":\"alice\"}",
		`{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.5,"user":"bob"}`,
	}
	want := mustCanon(t, c, base)
	for _, b := range same {
		if got := mustCanon(t, c, b); !bytes.Equal(got, want) {
			t.Errorf("Canonicalize(%s) = %s, want %s", b, got, want)
		}
	}
	withMeta := mustCanon(t, c, `{"a":1,"metadata":{"trace_id":"x","team":"t"}}`)
	otherTrace := mustCanon(t, c, `{"metadata":{"team":"t","trace_id":"y"},"a":1}`)
	if !bytes.Equal(withMeta, otherTrace) {
		t.Errorf("nested ignored field changed the form: %s vs %s", withMeta, otherTrace)
	}
}

func TestCanonicalizeDistinguishes(t *testing.T) {
	c := NewCanonicalizer([]string{"user"})
	pairs := [][2]string{
		{`{"a":1}`, `{"a":1.0}`},                                     // written differently: conservative, not equal
		{`{"a":"1"}`, `{"a":1}`},                                     // types differ
		{`{"a":[1,2]}`, `{"a":[2,1]}`},                               // array order matters
		{`{"a":12345678901234567890}`, `{"a":12345678901234567891}`}, // big integers keep precision
		{`{"m":"<b>"}`, `{"m":"\u003cb\u003e"}`},                     // the same string, must be equal (checked below)
	}
	for i, p := range pairs[:4] {
		if bytes.Equal(mustCanon(t, c, p[0]), mustCanon(t, c, p[1])) {
			t.Errorf("pair %d: %s and %s canonicalize alike", i, p[0], p[1])
		}
	}
	if !bytes.Equal(mustCanon(t, c, pairs[4][0]), mustCanon(t, c, pairs[4][1])) {
		t.Errorf("escaped and literal forms of one string differ")
	}
}

func TestCanonicalizeMalformed(t *testing.T) {
	c := NewCanonicalizer(nil)
	for _, b := range []string{`{`, `{"a":1} {"b":2}`, `{"a":1}x`, `nope`, `{"a":}`} {
		if _, err := c.Canonicalize([]byte(b)); !errors.Is(err, ErrMalformedJSON) {
			t.Errorf("Canonicalize(%q) error = %v, want ErrMalformedJSON", b, err)
		}
	}
	if got, err := c.Canonicalize([]byte("  \n")); err != nil || got != nil {
		t.Errorf("empty body = %q, %v; want nil, nil", got, err)
	}
}

func TestKeySeparatesParts(t *testing.T) {
	base := KeyParts{Method: "POST", Host: "h", Path: "/v1/chat/completions", Body: []byte(`{}`), Scope: "s"}
	variants := []KeyParts{
		{Method: "GET", Host: "h", Path: base.Path, Body: base.Body, Scope: "s"},
		{Method: "POST", Host: "h2", Path: base.Path, Body: base.Body, Scope: "s"},
		{Method: "POST", Host: "h", Path: "/v1/completions", Body: base.Body, Scope: "s"},
		{Method: "POST", Host: "h", Path: base.Path, Body: []byte(`{"a":1}`), Scope: "s"},
		{Method: "POST", Host: "h", Path: base.Path, Body: base.Body, Scope: "t"},
		{Method: "POST", Host: "h", Path: base.Path, Body: base.Body, Scope: ""},
		// shifting bytes between parts must not collide
		{Method: "POSTh", Host: "", Path: base.Path, Body: base.Body, Scope: "s"},
	}
	k := Key(base)
	if len(k) != 32 {
		t.Fatalf("key length %d, want 32", len(k))
	}
	for i, v := range variants {
		if Key(v) == k {
			t.Errorf("variant %d has the base key", i)
		}
	}
	if Key(base) != k {
		t.Error("key is not deterministic")
	}
}

func mustCanon(t *testing.T, c *Canonicalizer, body string) []byte {
	t.Helper()
	out, err := c.Canonicalize([]byte(body))
	if err != nil {
		t.Fatalf("Canonicalize(%s): %v", body, err)
	}
	return out
}

// FuzzCanonicalize checks that canonical forms are valid JSON, stable
// (canonicalizing them again changes nothing) and that nothing panics.
func FuzzCanonicalize(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[true,null,"x"]}`, `[1,2]`, `"s"`, `{"user":"u","x":{"y":1e5}}`, `{`, ``, `{"a":"\u00e9\ud83d\ude00"}`} {
		f.Add([]byte(s))
	}
	c := NewCanonicalizer([]string{"user", "x.y"})
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := c.Canonicalize(body)
		if err != nil {
			if !errors.Is(err, ErrMalformedJSON) && !errors.Is(err, ErrAmbiguousJSON) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if out == nil {
			return
		}
		if len(out) > 2*len(body) {
			t.Fatalf("%d-byte body gave a %d-byte canonical form", len(body), len(out))
		}
		if !json.Valid(out) {
			t.Fatalf("canonical form is not JSON: %q", out)
		}
		again, err := c.Canonicalize(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q -> %q (%v)", out, again, err)
		}
	})
}
