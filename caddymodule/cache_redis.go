package caddymodule

import (
	"context"
	"net/http"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ragproxy/ragproxy/cache"
	"github.com/ragproxy/ragproxy/contract"
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

// clusterPoll is how often an instance waiting on another's lease looks
// for the entry.
const clusterPoll = 20 * time.Millisecond

// clusterLead takes the cluster-wide lease on a miss (held: go upstream,
// then release it), or waits for the entry the instance holding it is
// fetching. It returns that entry, or nil when waiting gave nothing
// usable: the lease went without an entry, the wait ran out, Redis failed,
// or the entry does not fit this request (Vary); the caller then goes
// upstream itself.
func (h *CacheHandler) clusterLead(r *http.Request, m *miss) (e *cache.Entry, held bool) {
	wait := time.Duration(h.CoalesceWait)
	if held, _ := h.store.redis.Lease(m.tenant, m.key, wait); held {
		return nil, true
	}
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	e = h.store.redis.Wait(ctx, m.tenant, m.key, clusterPoll)
	if e == nil || e.Age(time.Now()) >= h.store.Config().TTL {
		return nil, false
	}
	_ = h.store.Set(m.key, e)
	if !e.Matches(r.Header) {
		return nil, false
	}
	return e, false
}

// serveShared answers with an entry another instance fetched, and hands it
// to this instance's followers of the same miss.
func (h *CacheHandler) serveShared(w http.ResponseWriter, r *http.Request, e *cache.Entry, flight *cache.Flight) error {
	flight.WriteHeader(e.Status, e.Header, e.Vary, true)
	_, _ = flight.Write(e.Body)
	flight.Finish(true)
	h.metrics.coalesced.Inc()
	return h.serveEntry(w, r, e, contract.CacheHit)
}
