package split

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
var cacheStatusNames = [numCacheStatuses]string{"HIT", "SEMANTIC-HIT", "MISS", "BYPASS", "STALE", "OTHER"}

// cacheIndex returns the counter index for status, or -1 for the empty
// status, which means the route has no cache and so nothing to count.
func cacheIndex(status string) int {
	switch status {
	case "":
		return -1
	case "HIT":
		return cacheHit
	case "SEMANTIC-HIT":
		return cacheSemanticHit
	case "MISS":
		return cacheMiss
	case "BYPASS":
		return cacheBypass
	case "STALE":
		return cacheStale
	}
	return cacheOther
}
