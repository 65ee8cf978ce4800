package caddymodule

import (
	"net/http"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ragproxy/ragproxy/cache"
)

// sharedLookup looks a memory miss up in the cache's Redis (at most
// redis_timeout; an error is a miss). An entry found is copied into
// memory. It returns the entry and whether it is fresh; a stale one
// (within stale_if_error) becomes m.stale if memory had none.
func (h *CacheHandler) sharedLookup(m *miss, header http.Header, now time.Time) (*cache.Entry, bool) {
	e, err := h.store.redis.Get(m.tenant, m.key)
	if err != nil {
		if c := h.logger.Check(zapcore.DebugLevel, "shared cache lookup failed: a miss"); c != nil {
			c.Write(zap.String("cache", h.Name), zap.Error(err))
		}
		return nil, false
	}
	if e == nil {
		return nil, false
	}
	cfg := h.store.Config()
	age := e.Age(now)
	if age >= cfg.TTL+cfg.StaleFor {
		return nil, false
	}
	_ = h.store.Set(m.key, e) // too large for this instance's memory: served, not kept
	if !e.Matches(header) {
		return nil, false
	}
	if age < cfg.TTL {
		return e, true
	}
	if m.stale == nil {
		m.stale = e
	}
	return nil, false
}

// writeThrough queues a stored entry for Redis with the rest of its life
// (ttl and stale window); a full queue drops it.
func (h *CacheHandler) writeThrough(m miss, e *cache.Entry) {
	cfg := h.store.Config()
	if !h.store.redis.Put(m.tenant, m.key, e, cfg.TTL+cfg.StaleFor-e.Age(time.Now())) {
		if c := h.logger.Check(zapcore.DebugLevel, "entry not written to the shared cache"); c != nil {
			c.Write(zap.String("cache", h.Name))
		}
	}
}
