package cache

import (
	"net/http"
	"strings"
)

// ClientBypass reports whether the client asked not to be served from a
// cache (Cache-Control: no-cache or no-store, or Pragma: no-cache).
func ClientBypass(h http.Header) bool {
	return hasDirective(h.Values("Cache-Control"), "no-cache", "no-store") ||
		hasDirective(h.Values("Pragma"), "no-cache")
}

// SkipReason says why an answer is not stored; empty means store it.
type SkipReason string

// Reasons an answer is not stored.
const (
	Storable       SkipReason = ""
	SkipStatus     SkipReason = "status"     // not 2xx
	SkipNoStore    SkipReason = "no_store"   // Cache-Control: no-store (or private in a shared cache)
	SkipCookie     SkipReason = "set_cookie" // per-user state
	SkipEncoded    SkipReason = "encoded"    // compressed despite our identity request
	SkipTooLarge   SkipReason = "too_large"
	SkipIncomplete SkipReason = "incomplete" // the stream broke or the handler failed
	SkipFallback   SkipReason = "fallback"   // a fallback tier's stand-in answer
)

// StorePolicy decides whether a complete answer may be stored. shared is
// true when the cache serves every caller the same entries.
func StorePolicy(status int, h http.Header, shared bool) SkipReason {
	switch {
	case status < 200 || status > 299:
		return SkipStatus
	case hasDirective(h.Values("Cache-Control"), "no-store"),
		shared && hasDirective(h.Values("Cache-Control"), "private"):
		return SkipNoStore
	case len(h.Values("Set-Cookie")) > 0:
		return SkipCookie
	case h.Get("Content-Encoding") != "" && !strings.EqualFold(h.Get("Content-Encoding"), "identity"):
		return SkipEncoded
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
// or one request (the rate limit and experiment headers that handlers in
// front of the cache set), not the answer.
var hopHeaders = []string{
	"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade",
	"Trailer", "Te", "Date", "Content-Length", "Set-Cookie", "X-Cache", "Age",
	"Retry-After", "Ratelimit", "Ratelimit-Policy", "Ratelimit-Limit", "Ratelimit-Remaining", "Ratelimit-Reset",
	"X-Request-Id", "X-Rag-Variant",
}

// StoredHeader returns the part of a response header that is kept with an entry.
func StoredHeader(h http.Header) http.Header {
	out := h.Clone()
	for _, k := range hopHeaders {
		delete(out, k)
	}
	return out
}
