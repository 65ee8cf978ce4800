package caddymodule

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ragproxy/ragproxy/cache"
	"github.com/ragproxy/ragproxy/cache/rediscache"
	"github.com/ragproxy/ragproxy/contract"
)

// miss is a request the store could not answer fresh.
type miss struct {
	key       string
	tenant    string         // cache.TenantID of the scope's tenant: stored with the entry, to purge it by tenant
	privateOK bool           // a Cache-Control: private answer may be stored (see scope)
	stale     *cache.Entry   // an expired answer that may stand in for an error (stale_if_error)
	sem       *semanticQuery // the question, to remember by meaning once answered
}

// ServeHTTP answers from the cache, or passes the request on and records
// the answer.
func (h *CacheHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	return serveTimed(h, w, r, next)
}

func (h *CacheHandler) serve(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return h.bypass(w, r, next, "method")
	}
	if r.ContentLength > h.MaxBody {
		return writeBodyTooLarge(w, h.MaxBody)
	}
	if cache.ClientBypass(r.Header) {
		return h.bypass(w, r, next, "client")
	}
	if cache.Conditional(r.Header) {
		// a part of the answer (206) or none (304, 412): not every caller's answer
		return h.bypass(w, r, next, "conditional")
	}
	body, err := readBody(r, h.MaxBody)
	if errors.Is(err, errBodyTooLarge) {
		return writeBodyTooLarge(w, h.MaxBody)
	}
	if err != nil {
		return caddyhttp.Error(http.StatusBadRequest, fmt.Errorf("reading request body: %w", err))
	}
	canonical, err := h.canon.Canonicalize(body)
	if errors.Is(err, cache.ErrAmbiguousJSON) {
		// Backends could read it in different ways: no key is safe for it.
		return h.bypass(w, r, next, "ambiguous_body")
	}
	if err != nil {
		// The backend owns validation: it gets the body as sent, uncached.
		return h.bypass(w, r, next, "malformed")
	}
	scope, privateOK, ok := h.scope(r)
	if !ok {
		h.warnEmptyScope(r)
		return h.bypass(w, r, next, "empty_scope")
	}
	key := cache.Key(cache.KeyParts{
		Method: r.Method,
		Host:   r.Host,
		Path:   r.URL.RequestURI(),
		Body:   canonical,
		Scope:  scope,
	})
	start := time.Now()
	entry, fresh, ok := h.store.Get(key, start)
	h.metrics.lookupDuration.Observe(time.Since(start).Seconds())
	if ok && !entry.Matches(r.Header) {
		// stored for a request that differs in a header the answer's Vary names
		entry, fresh, ok = nil, false, false
	}
	if fresh {
		h.metrics.hit.Inc()
		return h.serveEntry(w, r, entry, contract.CacheHit)
	}
	m := miss{key: key, tenant: cache.TenantID([]byte(cache.ScopeTenant(scope))), privateOK: privateOK}
	if ok {
		m.stale = entry
	}
	if h.store.redis != nil {
		if e, fresh := h.sharedLookup(&m, r.Header, start); fresh {
			h.redisMetrics.hit.Inc()
			return h.serveEntry(w, r, e, contract.CacheHit)
		}
	}
	if h.Semantic != nil {
		if e, similarity := h.semanticLookup(r, body, scope, &m); e != nil {
			w.Header().Set(contract.HeaderCacheSimilarity, similarity)
			h.metrics.semantic.Inc()
			return h.serveEntry(w, r, e, contract.CacheSemanticHit)
		}
	}
	limit := int(h.MaxEntrySize)
	if !h.coalesce {
		return h.fetch(w, r, next, m, cache.NewFlight(limit))
	}
	flight, leader := h.store.flights.Join(key, limit)
	if leader {
		if h.CoalesceCluster {
			e, held := h.clusterLead(r, &m)
			if e != nil {
				return h.serveShared(w, r, e, flight)
			}
			if held {
				// queued after the entry's write: a waiting instance finds the entry first
				defer h.store.redis.Release(m.tenant, m.key)
			}
		}
		ctx, stop := flight.Detach(r.Context())
		defer stop()
		return h.fetch(w, r.WithContext(ctx), next, m, flight)
	}
	return h.follow(w, r, next, m, flight)
}

// fetch sends the request upstream and passes the answer through as it
// arrives, while the flight records it (and followers, if any, tail it).
// A complete, storable answer is stored before the flight ends, so a
// request arriving just after finds it in the store. With a stale entry at
// hand, a server error (5xx, or a handler error before any answer) is held
// back and the stale entry answers instead.
func (h *CacheHandler) fetch(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, m miss, flight *cache.Flight) error {
	h.setStatus(r, contract.CacheMiss)
	h.metrics.miss.Inc()
	finished := false
	defer func() {
		if !finished { // an error, or a panic such as a broken stream's
			flight.Finish(false)
		}
	}()
	// Ask for an identity body: one stored answer then serves every client,
	// and the encode handler compresses per client.
	r.Header.Del("Accept-Encoding")

	rec := &recordingWriter{
		ResponseWriterWrapper: &caddyhttp.ResponseWriterWrapper{ResponseWriter: w},
		flight:                flight,
		req:                   r,
		privateOK:             m.privateOK,
		holdErrors:            m.stale != nil,
	}
	var before http.Header
	if m.stale != nil {
		before = w.Header().Clone()
	}
	err := next.ServeHTTP(rec, r)
	if m.stale != nil && (rec.held || err != nil && rec.status == 0) {
		flight.Finish(false)
		finished = true
		cacheVecs.stores.WithLabelValues(h.Name, string(cache.SkipStatus)).Inc()
		h.metrics.stale.Inc()
		// the error's headers must not leak into the stale answer
		clear(w.Header())
		maps.Copy(w.Header(), before)
		return h.serveEntry(w, r, m.stale, contract.CacheStale)
	}
	if err != nil {
		cacheVecs.stores.WithLabelValues(h.Name, string(cache.SkipIncomplete)).Inc()
		return err
	}
	entry, reason := rec.entry()
	if reason == cache.Storable {
		entry.Tenant = m.tenant
		if h.store.Set(m.key, entry) != nil {
			reason = cache.SkipTooLarge
		} else if h.store.redis != nil {
			h.writeThrough(m, entry)
		}
	}
	flight.Finish(true)
	finished = true

	outcome := string(reason)
	if reason == cache.Storable {
		outcome = "stored"
		if m.sem != nil {
			h.Semantic.store.AddPlaced(m.sem.scope, m.sem.query, m.sem.vec, m.key, entry.StoredAt, m.sem.place)
			if h.semFeed != nil {
				h.semFeed.Publish(rediscache.Question{Scope: m.sem.scope, Query: m.sem.query, Vec: m.sem.vec, Key: m.key, Tenant: m.tenant, At: entry.StoredAt})
			}
		}
	} else if c := h.logger.Check(zapcore.DebugLevel, "answer not cached"); c != nil {
		c.Write(zap.String("cache", h.Name), zap.String("reason", outcome), zap.Int("status", rec.status))
	}
	cacheVecs.stores.WithLabelValues(h.Name, outcome).Inc()
	return nil
}

// follow answers with the answer another request for the same key is
// getting from upstream right now, passing it on as it arrives.
func (h *CacheHandler) follow(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, m miss, flight *cache.Flight) error {
	rc := http.NewResponseController(w)
	err := flight.Follow(r.Context(), r.Header,
		func(status int, header http.Header) {
			h.setStatus(r, contract.CacheHit)
			writeHeader(w, status, header, contract.CacheHit)
		},
		func(p []byte) error {
			if _, err := w.Write(p); err != nil {
				return err
			}
			_ = rc.Flush() // not every writer can flush; the bytes are written either way
			return nil
		})
	switch {
	case err == nil:
		h.metrics.coalesced.Inc()
		return nil
	case errors.Is(err, cache.ErrNotShared):
		return h.fetch(w, r, next, m, cache.NewFlight(int(h.MaxEntrySize)))
	case errors.Is(err, cache.ErrBroken):
		panic(http.ErrAbortHandler) // as reverse_proxy does for a stream that broke
	case r.Context().Err() != nil:
		return caddyhttp.Error(499, err) // the client went away
	}
	return nil // writing to the client failed: it is gone
}

// serveEntry answers with a stored entry.
func (h *CacheHandler) serveEntry(w http.ResponseWriter, r *http.Request, e *cache.Entry, status string) error {
	h.setStatus(r, status)
	w.Header().Set("Age", strconv.Itoa(int(e.Age(time.Now()).Seconds())))
	if !e.Stream {
		w.Header().Set("Content-Length", strconv.Itoa(len(e.Body)))
	}
	writeHeader(w, e.Status, e.Header, status)
	if err := cache.Replay(w, e); err != nil && !errors.Is(err, context.Canceled) {
		if c := h.logger.Check(zapcore.DebugLevel, "replaying cached answer"); c != nil {
			c.Write(zap.Error(err))
		}
	}
	return nil
}

// writeHeader sends a stored or shared answer's status and headers.
func writeHeader(w http.ResponseWriter, status int, header http.Header, cacheStatus string) {
	hdr := w.Header()
	for k, v := range header {
		hdr[k] = v
	}
	hdr.Set(contract.HeaderCache, cacheStatus)
	w.WriteHeader(status)
}

func (h *CacheHandler) bypass(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, reason string) error {
	h.setStatus(r, contract.CacheBypass)
	w.Header().Set(contract.HeaderCache, contract.CacheBypass)
	h.metrics.bypass.Inc()
	cacheBypasses.WithLabelValues(h.Name, reason).Inc()
	if c := h.logger.Check(zapcore.DebugLevel, "cache bypassed"); c != nil {
		c.Write(zap.String("cache", h.Name), zap.String("reason", reason))
	}
	return next.ServeHTTP(w, r)
}

// setStatus publishes the cache status to the placeholder, the request
// vars (for `vars` matchers) and the access log.
func (h *CacheHandler) setStatus(r *http.Request, status string) {
	publish(r, contract.VarCacheStatus, status)
	setLogField(r, zap.String("rag_cache", status))
}
