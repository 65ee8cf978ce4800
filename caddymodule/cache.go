package caddymodule

import (
	"fmt"
	"net/textproto"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/ragproxy/ragproxy/cache"
	"github.com/ragproxy/ragproxy/cache/rediscache"
)

func init() {
	caddy.RegisterModule(CacheHandler{})
}

// Defaults of the rag_cache handler.
const (
	defaultCacheName    = "default"
	defaultTTL          = 10 * time.Minute
	defaultMaxSize      = 256 << 20
	defaultMaxEntrySize = 1 << 20
	defaultMaxBody      = 1 << 20
	sharedScope         = "shared"
	defaultCoalesceWait = 30 * time.Second
)

// CacheHandler is the exact response cache for LLM and RAG APIs. It keys a
// request on its method, host, path and query, its JSON body in canonical
// form (key order and whitespace do not matter, ignored fields are dropped)
// and a scope that by default is the caller's credentials, so one tenant
// never receives another's answer. It stores only complete 200 answers,
// passes Server-Sent Event streams through as they arrive while recording
// them, replays them on a hit, and coalesces concurrent identical misses
// into one upstream call.
//
// Answers carry `X-Cache: HIT | MISS | BYPASS`; the placeholder
// `{rag.cache.status}` and the access log field `rag_cache` hold the same.
// Entries live in memory shared by every handler with the same name, and
// outlive config reloads that keep the cache's ttl and sizes.
type CacheHandler struct {
	// Name of the cache. Handlers with the same name (and the same ttl and
	// sizes) share entries, e.g. across routes. Default: "default".
	Name string `json:"name,omitempty"`

	// How long an answer is served from the cache. Default: 10m.
	TTL caddy.Duration `json:"ttl,omitempty"`

	// Memory bound of the cache in bytes, in whole MiB; when full the oldest
	// entries are evicted. Default: 256 MiB.
	MaxSize int64 `json:"max_size,omitempty"`

	// Largest answer (body plus headers, in bytes) that is stored; larger
	// ones pass through uncached. Default: 1 MiB, or a smaller value that
	// fits the cache's shards when max_size is small.
	MaxEntrySize int64 `json:"max_entry_size,omitempty"`

	// Largest request body accepted, in bytes; a larger one is rejected with
	// 413 and a JSON error. Default: 1 MiB.
	MaxBody int64 `json:"max_body,omitempty"`

	// Who may share an entry. Empty (the default) scopes entries to every
	// credential the request carries: a hash of all values of
	// Authorization, Proxy-Authorization, X-Api-Key, Api-Key,
	// X-Goog-Api-Key and Cookie, of the client TLS certificate's SHA-256
	// fingerprint, and of the ScopeHeaders; callers with no credential at
	// all share the anonymous scope. "shared" lets every caller share
	// entries. Anything else is a placeholder expression evaluated per
	// request, e.g. "{http.request.header.X-Tenant}" (a header renders as
	// its first value); a request for which any placeholder in it renders empty bypasses the
	// cache (X-Cache: BYPASS, reason empty_scope), never falling into a
	// shared scope.
	Scope string `json:"scope,omitempty"`

	// Request headers that identify the caller besides the credential
	// headers, e.g. the identity headers forward_auth copies from the
	// authentication service (X-Forwarded-User). They are hashed into the
	// default scope (with scope empty only). Default: none.
	ScopeHeaders []string `json:"scope_headers,omitempty"`

	// JSON fields of the request body that do not change the answer and are
	// left out of the key, as top-level names or dotted paths into nested
	// objects (e.g. "user", "metadata.trace_id"). Default: none.
	IgnoreFields []string `json:"ignore_fields,omitempty"`

	// How long past its ttl an answer is kept to stand in for a server
	// error: when the upstream (or rag_fallback) answers 5xx or fails
	// before answering, the expired answer is served with
	// `X-Cache: STALE`. Default: 0 (off).
	StaleIfError caddy.Duration `json:"stale_if_error,omitempty"`

	// Coalesce concurrent identical misses into one upstream call.
	// Default: true.
	Coalesce *bool `json:"coalesce,omitempty"`

	// Coalesce identical misses across instances too (Caddyfile:
	// `coalesce cluster`; needs redis): the first instance takes a short
	// lease in Redis and goes upstream, the others wait for its entry up
	// to coalesce_wait, then go upstream themselves. It costs a Redis
	// round trip on every miss. Default: false.
	CoalesceCluster bool `json:"coalesce_cluster,omitempty"`

	// How long an instance waits for another instance's answer with
	// coalesce cluster; the lease lasts as long. Default: 30s.
	CoalesceWait caddy.Duration `json:"coalesce_wait,omitempty"`

	// Also answer questions asked in other words from the cache. Default:
	// off (exact matches only).
	Semantic *SemanticCache `json:"semantic,omitempty"`

	// Redis shared by every instance, behind this instance's memory, as a
	// URL: redis://[user:password@]host:port/db (rediss:// for TLS),
	// redis+cluster://host:port?addr=host2:port2 for a Redis Cluster,
	// redis+sentinel://host:port/db?master_name=name for Sentinel. Stored
	// answers are written through to it; a memory miss is looked up in it.
	// Default: none (this instance's memory only).
	Redis string `json:"redis,omitempty"`

	// Bound on each Redis call, connecting included; a lookup that takes
	// longer is a miss, and after a failure Redis is left alone for a
	// second. Default: 100ms.
	RedisTimeout caddy.Duration `json:"redis_timeout,omitempty"`

	// Prefix of every key and channel the cache uses in Redis; the cache's
	// name follows it. Default: "ragproxy:".
	RedisPrefix string `json:"redis_prefix,omitempty"`

	// Largest entry (encoded, in bytes) written to Redis; larger ones stay
	// in this instance's memory only. Default: max_entry_size.
	RedisMaxEntrySize int64 `json:"redis_max_entry_size,omitempty"`

	store        *sharedStore
	redisMetrics cacheRedisMetrics
	semFeed      *rediscache.Feed // new questions to and from other instances (redis and semantic)
	feedKey      string
	scopeText    placeholder
	scopeParts   []placeholder // with several placeholders (or text) in Scope: each, to bypass when any renders empty
	scopeHeaders []string      // ScopeHeaders, canonical
	warnedAt     *atomic.Int64 // when an empty scope was last logged (unix seconds)
	poolKey      string
	canon        *cache.Canonicalizer
	coalesce     bool
	metrics      cacheMetrics
	semMetrics   semanticMetrics
	logger       *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (CacheHandler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.rag_cache",
		New: func() caddy.Module { return new(CacheHandler) },
	}
}

// Provision applies defaults and attaches the handler to its named store.
func (h *CacheHandler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	h.scopeText = newPlaceholder(h.Scope)
	h.scopeParts = scopeParts(h.Scope)
	h.warnedAt = new(atomic.Int64)
	h.scopeHeaders = h.scopeHeaders[:0]
	for _, name := range h.ScopeHeaders {
		h.scopeHeaders = append(h.scopeHeaders, textproto.CanonicalMIMEHeaderKey(name))
	}
	// in one order, so that a tenant's scope can be computed again to purge it
	slices.Sort(h.scopeHeaders)
	h.scopeHeaders = slices.Compact(h.scopeHeaders)
	if h.Name == "" {
		h.Name = defaultCacheName
	}
	if h.TTL == 0 {
		h.TTL = caddy.Duration(defaultTTL)
	}
	if h.MaxSize == 0 {
		h.MaxSize = defaultMaxSize
	}
	if h.MaxEntrySize == 0 {
		h.MaxEntrySize = min(defaultMaxEntrySize, h.MaxSize/8)
	}
	if h.MaxBody == 0 {
		h.MaxBody = defaultMaxBody
	}
	h.coalesce = h.Coalesce == nil || *h.Coalesce
	if h.CoalesceCluster && h.CoalesceWait == 0 {
		h.CoalesceWait = caddy.Duration(defaultCoalesceWait)
	}
	h.canon = cache.NewCanonicalizer(h.IgnoreFields)
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	h.metrics = newCacheMetrics(h.Name)

	cfg := cache.StoreConfig{
		TTL:           time.Duration(h.TTL),
		StaleFor:      time.Duration(h.StaleIfError),
		MaxBytes:      h.MaxSize,
		MaxEntryBytes: int(h.MaxEntrySize),
	}
	var shared *redisSettings
	if h.Redis != "" {
		if h.RedisMaxEntrySize == 0 {
			h.RedisMaxEntrySize = h.MaxEntrySize
		}
		shared = &redisSettings{
			url:      h.Redis,
			timeout:  time.Duration(h.RedisTimeout),
			prefix:   h.RedisPrefix,
			maxEntry: int(h.RedisMaxEntrySize),
		}
		h.redisMetrics = newCacheRedisMetrics(h.Name)
	}
	store, key, err := acquireStore(h.Name, cfg, shared)
	if err != nil {
		return fmt.Errorf("rag_cache %q: %w", h.Name, err)
	}
	h.store, h.poolKey = store, key
	if h.Semantic != nil {
		if err := h.Semantic.provision(h.Name, time.Duration(h.TTL)); err != nil {
			return fmt.Errorf("rag_cache %q semantic: %w", h.Name, err)
		}
		h.semMetrics = newSemanticMetrics(h.Name)
		if h.store.redis != nil {
			feed, key, err := acquireFeed(h.poolKey, h.store, h.Semantic, time.Duration(h.TTL))
			if err != nil {
				return fmt.Errorf("rag_cache %q semantic: %w", h.Name, err)
			}
			h.semFeed, h.feedKey = feed, key
		}
	}
	return nil
}

// Validate checks the configuration.
func (h *CacheHandler) Validate() error {
	switch {
	case h.TTL < 0 || h.StaleIfError < 0:
		return fmt.Errorf("rag_cache: ttl and stale_if_error must not be negative")
	case h.MaxBody < 0 || h.MaxEntrySize < 0 || h.MaxSize < 0 || h.RedisMaxEntrySize < 0:
		return fmt.Errorf("rag_cache: sizes must not be negative")
	case h.CoalesceCluster && (h.Redis == "" || h.Coalesce != nil && !*h.Coalesce):
		return fmt.Errorf("rag_cache: coalesce cluster needs redis and coalescing on")
	case h.CoalesceWait < 0:
		return fmt.Errorf("rag_cache: coalesce_wait must not be negative")
	case h.RedisTimeout < 0:
		return fmt.Errorf("rag_cache: redis_timeout must not be negative")
	case h.Redis == "" && (h.RedisTimeout != 0 || h.RedisPrefix != "" || h.RedisMaxEntrySize != 0):
		return fmt.Errorf("rag_cache: redis_timeout, redis_prefix and redis_max_entry_size need redis")
	case len(h.ScopeHeaders) > 0 && h.Scope != "":
		return fmt.Errorf("rag_cache: scope_headers adds to the default scope; it has no effect with scope %q", h.Scope)
	}
	for _, name := range h.ScopeHeaders {
		if name == "" || strings.ContainsAny(name, " \t:") {
			return fmt.Errorf("rag_cache: scope_headers: %q is not a header name", name)
		}
	}
	if h.Semantic != nil {
		if err := h.Semantic.validate(); err != nil {
			return fmt.Errorf("rag_cache %q semantic: %w", h.Name, err)
		}
	}
	return nil
}

// Cleanup lets go of the store; it is freed when no config uses it.
func (h *CacheHandler) Cleanup() error {
	if h.feedKey != "" {
		_, _ = semanticFeeds.Delete(h.feedKey)
	}
	if h.Semantic != nil {
		h.Semantic.cleanup()
	}
	if h.poolKey == "" {
		return nil
	}
	_, err := stores.Delete(h.poolKey)
	return err
}

// Interface guards
var (
	_ caddy.Provisioner           = (*CacheHandler)(nil)
	_ caddy.Validator             = (*CacheHandler)(nil)
	_ caddy.CleanerUpper          = (*CacheHandler)(nil)
	_ caddyhttp.MiddlewareHandler = (*CacheHandler)(nil)
)
