// Package contract is what ragproxy's handlers say to each other and to
// the client: the cache statuses, the request vars (and placeholders) one
// handler sets for the next, and the answer headers. The handlers talk
// only through these names, so each is spelled here once; renaming one is
// a change to this file, and every handler and domain package that reads
// it follows. It knows nothing of Caddy.
package contract

// Cache statuses: the X-Cache header, the {rag.cache.status} placeholder
// and the rag.cache.status var.
const (
	CacheHit         = "HIT"          // answered from the cache (or a coalesced upstream call)
	CacheSemanticHit = "SEMANTIC-HIT" // answered from the cache, by meaning
	CacheMiss        = "MISS"         // asked upstream; the answer may be stored
	CacheBypass      = "BYPASS"       // the cache stood aside (method, client, body, scope)
	CacheStale       = "STALE"        // an expired answer standing in for an upstream error
)

// FromCache reports whether a cache status means no upstream worked on
// the answer (so no tokens were spent on it).
func FromCache(status string) bool {
	switch status {
	case CacheHit, CacheSemanticHit, CacheStale:
		return true
	}
	return false
}

// Request vars, each also a placeholder of the same name ({rag.variant}).
const (
	VarCacheStatus     = "rag.cache.status"     // set by rag_cache: one of the cache statuses
	VarCacheSimilarity = "rag.cache.similarity" // set by rag_cache on a semantic hit (placeholder only)
	VarVariant         = "rag.variant"          // set by rag_split: the variant assigned
	VarRequestID       = "rag.request_id"       // set by rag_split: the id feedback refers to (placeholder only)
	VarUpstream        = "rag.upstream"         // set by rag_fallback: the tier that answered
	VarModel           = "rag.model"            // set by rag_fallback when a tier's set_json names the model: the model that answered
	VarPrices          = "rag.cost.prices"      // set by rag_cost: its price table for the handlers after it (var only)
	VarCostRecorder    = "rag.cost.recorder"    // set by rag_split: its variant, which the metered cost is also recorded to, wherever the meter is (var only)
	VarFallback        = "rag.fallback"         // set by rag_fallback on a stand-in answer, or a stream that failed its tier's checks: never cache it
	VarTimed           = "rag.timed"            // set by the outermost ragproxy handler: it times the request and meters its cost (var only)
	VarAnswerCost      = "rag.cost.answer"      // set by the handler metering the cost, once the answer is over: its tokens and cost (var only)
)

// Answer headers the handlers set, in canonical form (so they can be
// stored in an http.Header without canonicalizing again).
const (
	HeaderCache           = "X-Cache"
	HeaderCacheSimilarity = "X-Cache-Similarity"
	HeaderUpstream        = "X-Rag-Upstream"
	HeaderVariant         = "X-Rag-Variant"
	HeaderRequestID       = "X-Request-Id"
)

// PerRequestHeaders are answer headers that describe one request, not the
// answer: the cache must not store them with an entry.
var PerRequestHeaders = []string{
	HeaderCache, HeaderRequestID, HeaderVariant,
	"Retry-After", "Ratelimit", "Ratelimit-Policy", "Ratelimit-Limit", "Ratelimit-Remaining", "Ratelimit-Reset",
}

// PlaceholderCostUSD is what the answer cost in US dollars, by the price
// table (0 for an answer from the cache), set once the answer is over:
// for the access log.
const PlaceholderCostUSD = "rag.cost_usd"

// Placeholders rag_rate_limit sets when it refuses a request, for
// handle_errors (with refuse_with_error) and the access log.
const (
	PlaceholderRateLimitZone       = "rag.rate_limit.zone"        // the zone that refused
	PlaceholderRateLimitRetryAfter = "rag.rate_limit.retry_after" // whole seconds, as in Retry-After
)
