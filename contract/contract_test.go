package contract

import (
	"net/textproto"
	"testing"
)

func TestHeadersAreCanonical(t *testing.T) {
	for _, h := range append([]string{HeaderCache, HeaderCacheSimilarity, HeaderUpstream, HeaderVariant, HeaderRequestID}, PerRequestHeaders...) {
		if c := textproto.CanonicalMIMEHeaderKey(h); c != h {
			t.Errorf("%q is not canonical (%q): http.Header lookups by it would miss", h, c)
		}
	}
}

func TestFromCache(t *testing.T) {
	for status, want := range map[string]bool{
		CacheHit: true, CacheSemanticHit: true, CacheStale: true,
		CacheMiss: false, CacheBypass: false, "": false, "hit": false,
	} {
		if got := FromCache(status); got != want {
			t.Errorf("FromCache(%q) = %v, want %v", status, got, want)
		}
	}
}
