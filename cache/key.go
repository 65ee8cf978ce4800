package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ragproxy/ragproxy/llm"
)

// ErrMalformedJSON reports a request body that is not one well-formed JSON
// value (or is nested deeper than 10,000 levels, as encoding/json refuses).
var ErrMalformedJSON = errors.New("malformed JSON body")

// ErrAmbiguousJSON reports a body that backends could read in different
// ways, so that no canonical form is safe: an object with a duplicate key
// (first-key-wins and last-key-wins parsers disagree), invalid UTF-8, or a
// lone surrogate escape (decoders replace both with U+FFFD, merging
// different bodies). Such a request must bypass the cache.
var ErrAmbiguousJSON = errors.New("ambiguous JSON body")

// Canonicalizer rewrites a JSON request body into a canonical form: object
// keys sorted, insignificant whitespace removed, numbers kept as written and
// the configured volatile fields dropped. Two bodies that mean the same
// request get the same bytes, so they get the same cache key.
type Canonicalizer struct {
	ignore []llm.Path // e.g. ["metadata","trace_id"]
}

// NewCanonicalizer returns a Canonicalizer that drops the given fields.
// A field is a top-level name ("user") or a dotted path into nested
// objects ("metadata.trace_id").
func NewCanonicalizer(ignoreFields []string) *Canonicalizer {
	c := &Canonicalizer{}
	for _, f := range ignoreFields {
		if f = strings.TrimSpace(f); f != "" {
			c.ignore = append(c.ignore, llm.ParsePath(f))
		}
	}
	return c
}

// Canonicalize returns the canonical form of body. An empty (or all
// whitespace) body canonicalizes to nil. Anything that is not exactly one
// JSON value returns ErrMalformedJSON; a body with duplicate keys, invalid
// UTF-8 or a lone surrogate returns ErrAmbiguousJSON. Time and allocation
// are linear in the body's size at any nesting depth.
func (c *Canonicalizer) Canonicalize(body []byte) ([]byte, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	out, err := c.appendCanonical(make([]byte, 0, len(body)), body)
	if errors.Is(err, errAmbiguous) {
		return nil, ErrAmbiguousJSON
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedJSON, err)
	}
	return out, nil
}

// Decode parses body into plain Go values (numbers as json.Number, kept as
// written) and drops the ignored fields. An empty body decodes to nil.
func (c *Canonicalizer) Decode(body []byte) (any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // keep 1.0, 1e3 and big integers exactly as the client wrote them
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedJSON, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data after the JSON value", ErrMalformedJSON)
	}
	for _, path := range c.ignore {
		path.Delete(v)
	}
	return v, nil
}

// Encode writes a decoded value (from Decode) in canonical form: object
// keys sorted, no insignificant whitespace — the same bytes Canonicalize
// gives for the body it was decoded from.
func Encode(v any) []byte { return appendEncoded(nil, v) }

func appendEncoded(dst []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...)
	case bool:
		if v {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case json.Number:
		return append(dst, v...)
	case string:
		return appendQuoted(dst, v)
	case []any:
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendEncoded(dst, e)
		}
		return append(dst, ']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendQuoted(dst, k)
			dst = append(dst, ':')
			dst = appendEncoded(dst, v[k])
		}
		return append(dst, '}')
	}
	return appendStd(dst, v) // not produced by Decode
}

// appendStd encodes v with encoding/json, without HTML escaping.
func appendStd(dst []byte, v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return append(dst, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}

// KeyParts are what make two requests the same request.
type KeyParts struct {
	Method string
	Host   string
	Path   string // path and raw query
	Body   []byte // canonical body
	Scope  string // tenant, variant and selector headers (see AppendCredentialScope, AppendSelectors)
}

// Key hashes the parts into a fixed-size cache key. Every part is length
// prefixed, so no two different sets of parts can collide by concatenation.
func Key(p KeyParts) string {
	h := sha256.New()
	var n [8]byte
	for _, part := range [...][]byte{[]byte(p.Method), []byte(p.Host), []byte(p.Path), p.Body, []byte(p.Scope)} {
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	return string(h.Sum(nil))
}
