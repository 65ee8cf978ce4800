package split

import "github.com/ragproxy/ragproxy/contract"

// Cache statuses counted per variant, as the cache handler reports them.
// They index a fixed array so Record needs no map and no allocation.
const (
	cacheHit = iota
	cacheSemanticHit
	cacheMiss
	cacheBypass
	cacheStale
	cacheOther
	numCacheStatuses
)

// cacheStatusNames are the report keys, indexed like the constants above.
var cacheStatusNames = [numCacheStatuses]string{contract.CacheHit, contract.CacheSemanticHit, contract.CacheMiss, contract.CacheBypass, contract.CacheStale, "OTHER"}

// cacheIndex returns the counter index for status, or -1 for the empty
// status, which means the route has no cache and so nothing to count.
func cacheIndex(status string) int {
	switch status {
	case "":
		return -1
	case contract.CacheHit:
		return cacheHit
	case contract.CacheSemanticHit:
		return cacheSemanticHit
	case contract.CacheMiss:
		return cacheMiss
	case contract.CacheBypass:
		return cacheBypass
	case contract.CacheStale:
		return cacheStale
	}
	return cacheOther
}
