package cache

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"
)

// allocBound is what canonicalizing a body of n bytes may allocate at
// most: the output (at most twice the input: a raw U+2028 becomes \u2028)
// plus the parser's index, a few words per object member.
func allocBound(n int) uint64 { return uint64(24*n + 64<<10) }

// allocated returns the bytes f allocated.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// nested builds a body nested depth levels deep (objects, arrays or both
// alternating) around a string that pads it to about size bytes.
func nested(depth, size int, open, close string) []byte {
	var b bytes.Buffer
	for range depth {
		b.WriteString(open)
	}
	pad := max(size-b.Len()*2, 1)
	b.WriteString(`"` + strings.Repeat("x", pad) + `"`)
	for range depth {
		b.WriteString(close)
	}
	return b.Bytes()
}

// TestCanonicalDeepNestingIsLinear: a body nested deep costs allocation
// proportional to its size, not to size × depth (1 MiB nested 1,000 deep
// used to cost about 1 GiB). Nesting past encoding/json's own limit is
// refused as malformed, cheaply.
func TestCanonicalDeepNestingIsLinear(t *testing.T) {
	c := NewCanonicalizer([]string{"user", "a.b"})
	for _, depth := range []int{1000, 10000, 100000} {
		for _, shape := range []struct{ name, open, close string }{
			{"objects", `{"a":`, `}`},
			{"arrays", `[`, `]`},
			{"mixed", `[{"a":`, `}]`},
			{"wide", `{"z":1,"a":`, `,"b":2}`},
		} {
			body := nested(depth, 1<<20, shape.open, shape.close)
			var err error
			got := allocated(func() { _, err = c.Canonicalize(body) })
			if depth <= maxCanonDepth && err != nil && !(shape.name == "mixed" && 2*depth > maxCanonDepth) {
				t.Errorf("%s depth %d: %v", shape.name, depth, err)
			}
			if depth > maxCanonDepth && !errors.Is(err, ErrMalformedJSON) {
				t.Errorf("%s depth %d: error %v, want ErrMalformedJSON", shape.name, depth, err)
			}
			if got > allocBound(len(body)) {
				t.Errorf("%s depth %d: %d-byte body allocated %d bytes, want at most %d",
					shape.name, depth, len(body), got, allocBound(len(body)))
			}
		}
	}
}

// TestCanonicalWideBodyIsLinear: many small members, the parser index's
// worst case, still cost a small multiple of the body.
func TestCanonicalWideBodyIsLinear(t *testing.T) {
	c := NewCanonicalizer(nil)
	for _, gen := range []func(i int) string{
		func(i int) string { return `"` + itoa(i) + `":0` },
		func(i int) string { return `"` + itoa(i) + `":{}` },
	} {
		var b bytes.Buffer
		b.WriteByte('{')
		for i := 0; b.Len() < 1<<20; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(gen(i))
		}
		b.WriteByte('}')
		var err error
		got := allocated(func() { _, err = c.Canonicalize(b.Bytes()) })
		if err != nil {
			t.Fatal(err)
		}
		if got > allocBound(b.Len()) {
			t.Errorf("%d-byte wide body allocated %d bytes, want at most %d", b.Len(), got, allocBound(b.Len()))
		}
	}
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		if i /= 10; i == 0 {
			return string(b[n:])
		}
	}
}

// FuzzCanonicalBounds checks what a hostile body can cost: the output is
// at most twice the input and the allocation a small multiple of it,
// whatever the nesting.
func FuzzCanonicalBounds(f *testing.F) {
	for _, s := range []string{
		`{"a":{"a":{"a":{"a":"x"}}}}`, `[[[[[[[[[[1]]]]]]]]]]`, `{"a":1,"b":[{"c":{}}]}`, "\"\u2028\u2028\"",
		`{"user":{"x":1},"a":{"b":2,"c":3}}`,
	} {
		f.Add([]byte(s), uint16(10))
	}
	c := NewCanonicalizer([]string{"user", "a.b"})
	f.Fuzz(func(t *testing.T, unit []byte, repeat uint16) {
		// Repeat a fragment to reach nesting no short input has.
		body := bytes.Repeat(unit, int(repeat%2000)+1)
		if len(body) > 1<<20 {
			return
		}
		var out []byte
		got := allocated(func() { out, _ = c.Canonicalize(body) })
		if len(out) > 2*len(body) {
			t.Fatalf("%d-byte body gave %d bytes", len(body), len(out))
		}
		if got > allocBound(len(body)) {
			t.Fatalf("%d-byte body allocated %d bytes", len(body), got)
		}
	})
}

// TestCanonicalizeRefusesAmbiguous: bodies that backends read in
// different ways have no canonical form, so they can never share a key
// with another body.
func TestCanonicalizeRefusesAmbiguous(t *testing.T) {
	c := NewCanonicalizer([]string{"user"})
	for _, b := range []string{
		`{"q":"X","q":"Y"}`, `{"q":"X","\u0071":"Y"}`, `{"a":{"q":1,"q":1}}`, `[{"q":1},{"r":1,"r":2}]`,
		"\"a\xff\"", "\"a\xfe\"", "{\"k\xff\":1}", `"\ud800"`, `"\udc00"`, `"\ud800x"`, `"\ud800\u0041"`,
		`{"\ud83d":1}`, "\"\xed\xa0\x80\"", // a surrogate encoded as UTF-8
	} {
		if _, err := c.Canonicalize([]byte(b)); !errors.Is(err, ErrAmbiguousJSON) {
			t.Errorf("Canonicalize(%q) error = %v, want ErrAmbiguousJSON", b, err)
		}
	}
	for _, b := range []string{`"\ud83d\ude00"`, `{"q":"Y","r":{"q":1}}`, `{"user":1,"user":2,"a":1}`, "\"\u2028é\""} {
		if _, err := c.Canonicalize([]byte(b)); err != nil {
			t.Errorf("Canonicalize(%q): %v", b, err)
		}
	}
}

// TestCanonicalizeHotPathAllocs: a usual chat body costs one allocation,
// the output (the parser's index comes from a pool).
func TestCanonicalizeHotPathAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector empties sync.Pool at random")
	}
	body := []byte(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"What does retrieval-augmented generation add?"}],"temperature":0.2,"user":"alice"}`)
	c := NewCanonicalizer([]string{"user"})
	if n := testing.AllocsPerRun(100, func() { _, _ = c.Canonicalize(body) }); n > 1 {
		t.Errorf("Canonicalize allocated %v times per call, want 1", n)
	}
}
