package cache

import (
	"net/http"
	"net/textproto"
	"slices"
	"strings"
)

// RequestVary reads an answer's Vary header. star reports `Vary: *` (the
// answer depends on something no request header shows: it must not be
// stored). Otherwise vary holds, for every request header the answer's Vary
// names, the values the request that got it carried (all of them, in
// order; an empty slice when it carried none): a later request may receive
// the answer only if it carries the same (see VaryMatches). Accept-Encoding
// is left out, since the cache always asks the upstream for, and stores,
// the identity encoding. vary is nil when Vary names nothing else.
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
				vary[name] = append([]string{}, req[name]...)
			}
		}
	}
	return vary, false
}

// VaryMatches reports whether a request carries the same values as the
// request that an answer with the given vary (from RequestVary) was
// stored for, in every header its Vary names.
func VaryMatches(vary, req http.Header) bool {
	for name, vals := range vary {
		if !slices.Equal(req[name], vals) {
			return false
		}
	}
	return true
}
