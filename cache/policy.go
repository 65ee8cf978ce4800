package cache

import (
	"net/http"
	"strings"

	"github.com/ragproxy/ragproxy/contract"
)

// ClientBypass reports whether the client asked not to be served from a
// cache (Cache-Control: no-cache or no-store, or Pragma: no-cache).
func ClientBypass(h http.Header) bool {
	return hasDirective(h.Values("Cache-Control"), "no-cache", "no-store") ||
		hasDirective(h.Values("Pragma"), "no-cache")
}

// Conditional reports whether a request asks for part of an answer or for
// an answer only under a condition (Range, If-Match, If-None-Match,
// If-Modified-Since, If-Unmodified-Since, If-Range). Its answer (206, 304,
// 412) is not the answer every caller gets, so such a request bypasses the
// cache: it is neither served from nor stored.
func Conditional(h http.Header) bool {
	for _, name := range [...]string{"Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range"} {
		if len(h[name]) > 0 {
			return true
		}
	}
	return false
}

// SkipReason says why an answer is not stored; empty means store it.
type SkipReason string

// Reasons an answer is not stored.
const (
	Storable       SkipReason = ""
	SkipStatus     SkipReason = "status"   // not 200
	SkipNoStore    SkipReason = "no_store" // Cache-Control: no-store (or private where private is not allowed)
	SkipVary       SkipReason = "vary"     // Vary: *
	SkipStreamErr  SkipReason = "stream_error"
	SkipStreamEnd  SkipReason = "stream_unterminated" // the stream did not end with its API's terminal event
	SkipCookie     SkipReason = "set_cookie"          // per-user state
	SkipEncoded    SkipReason = "encoded"             // compressed despite our identity request
	SkipTooLarge   SkipReason = "too_large"
	SkipIncomplete SkipReason = "incomplete" // the stream broke or the handler failed
	SkipFallback   SkipReason = "fallback"   // a fallback tier's stand-in answer
)

// StorePolicy decides whether a complete answer may be stored: only a 200
// (a 206, a redirect or a 204 is not what every caller of the scope should
// receive), without Cache-Control no-store, without Set-Cookie, not
// compressed, and without Vary: *. A Cache-Control: private answer is
// stored only when privateOK: the scope is the default one of a request
// that carried at least one credential, so the entry is that caller's
// alone — never with scope shared, a placeholder scope or the anonymous
// scope.
func StorePolicy(status int, h http.Header, privateOK bool) SkipReason {
	switch {
	case status != http.StatusOK:
		return SkipStatus
	case hasDirective(h.Values("Cache-Control"), "no-store"),
		!privateOK && hasDirective(h.Values("Cache-Control"), "private"):
		return SkipNoStore
	case len(h.Values("Set-Cookie")) > 0:
		return SkipCookie
	case h.Get("Content-Encoding") != "" && !strings.EqualFold(h.Get("Content-Encoding"), "identity"):
		return SkipEncoded
	}
	if _, star := RequestVary(h, nil); star {
		return SkipVary
	}
	return Storable
}

func hasDirective(values []string, names ...string) bool {
	for _, v := range values {
		for d := range strings.SplitSeq(v, ",") {
			d, _, _ = strings.Cut(strings.TrimSpace(d), "=")
			for _, n := range names {
				if strings.EqualFold(d, n) {
					return true
				}
			}
		}
	}
	return false
}

// hopHeaders are not stored: they describe one connection, one transfer
// or one request (the cache status, and the rate limit and experiment
// headers that handlers in front of the cache set), not the answer.
var hopHeaders = append([]string{
	"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade",
	"Trailer", "Te", "Date", "Content-Length", "Set-Cookie", "Age",
}, contract.PerRequestHeaders...)

// StoredHeader returns the part of a response header that is kept with an entry.
func StoredHeader(h http.Header) http.Header {
	out := h.Clone()
	for _, k := range hopHeaders {
		delete(out, k)
	}
	return out
}
