package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"net/http"
	"net/textproto"
	"strings"
)

// RequestVary reads an answer's Vary header. star reports `Vary: *` (the
// answer depends on something no request header shows: it must not be
// stored). Otherwise vary holds, for every request header the answer's Vary
// names, a SHA-256 digest of the values the request that got it carried
// (all of them, in order; none is a value too): a later request may
// receive the answer only if it carries the same (see VaryMatches). Only
// the digest is kept, so an answer that varies on Authorization or Cookie
// does not put the credential into the cache. Accept-Encoding is left out,
// since the cache always asks the upstream for, and stores, the identity
// encoding. vary is nil when Vary names nothing else.
func RequestVary(resp, req http.Header) (vary http.Header, star bool) {
	for _, v := range resp["Vary"] {
		for name := range strings.SplitSeq(v, ",") {
			name = strings.TrimSpace(name)
			switch {
			case name == "":
				continue
			case name == "*":
				return nil, true
			}
			name = textproto.CanonicalMIMEHeaderKey(name)
			if name == "Accept-Encoding" {
				continue
			}
			if vary == nil {
				vary = make(http.Header)
			}
			if _, ok := vary[name]; !ok {
				vary[name] = []string{varyDigest(req[name])}
			}
		}
	}
	return vary, false
}

// VaryMatches reports whether a request carries the same values as the
// request that an answer with the given vary (from RequestVary) was
// stored for, in every header its Vary names.
func VaryMatches(vary, req http.Header) bool {
	for name, digest := range vary {
		if len(digest) != 1 || varyDigest(req[name]) != digest[0] {
			return false
		}
	}
	return true
}

// varyDigest hashes a header's values, count and lengths included, so
// that no two different lists of values hash alike.
func varyDigest(vals []string) string {
	d := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(vals)))
	d.Write(n[:])
	for _, v := range vals {
		binary.BigEndian.PutUint64(n[:], uint64(len(v)))
		d.Write(n[:])
		d.Write([]byte(v))
	}
	return string(d.Sum(nil))
}
