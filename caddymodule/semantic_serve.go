package caddymodule

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ragproxy/ragproxy/cache"
	"github.com/ragproxy/ragproxy/contract"
	"github.com/ragproxy/ragproxy/llm"
	"github.com/ragproxy/ragproxy/semantic"
)

// semanticQuery is a request's question: its text, its vector, and the
// scope it may match in (the request with the question taken out, hashed
// with the tenant scope).
type semanticQuery struct {
	scope string
	query string
	vec   []float32
	place semantic.Placement // where the lookup found it belongs
}

// semanticLookup looks for a cached answer to the same question in other
// words. It returns the entry and its similarity as sent in
// X-Cache-Similarity, or nil. On a miss it leaves the question in m, so
// the answer can be remembered by meaning once stored. Any trouble
// (no question, a short one, the embedder failing or slow) only skips it.
func (h *CacheHandler) semanticLookup(r *http.Request, body []byte, scope string, m *miss) (*cache.Entry, string) {
	sc, sm := h.Semantic, h.semMetrics
	// Only a POST to an API that asks a question (chat, completions,
	// responses, Anthropic messages, RAG queries) has one: an embedding or
	// a moderation verdict belongs to its exact input.
	if r.Method != http.MethodPost || llm.APIOf(r.URL.Path) == llm.NoQuestion {
		sm.skipped.Inc()
		return nil, ""
	}
	decoded, err := h.canon.Decode(body)
	if err != nil {
		sm.skipped.Inc()
		return nil, ""
	}
	q, ok := llm.TakeQuery(r.URL.Path, decoded, sc.Field) // takes the question out of decoded
	if !ok || semantic.TooShort(q) || semantic.TooLong(q) {
		sm.skipped.Inc()
		return nil, ""
	}
	ctx, cancel := context.WithTimeout(r.Context(), time.Duration(sc.Timeout))
	defer cancel()
	start := time.Now()
	vec, err := sc.embed(ctx, scope, q)
	sm.embedDuration.Observe(time.Since(start).Seconds())
	if err != nil {
		sm.errors.Inc()
		if c := h.logger.Check(zapcore.DebugLevel, "semantic step skipped: embedder failed"); c != nil {
			c.Write(zap.String("cache", h.Name), zap.Error(err))
		}
		return nil, ""
	}
	m.sem = &semanticQuery{
		scope: cache.Key(cache.KeyParts{
			Method: r.Method,
			Host:   r.Host,
			Path:   r.URL.RequestURI(),
			Body:   cache.Encode(decoded),
			Scope:  scope,
		}),
		query: q,
		vec:   vec,
	}
	now := time.Now()
	match, best, hit := sc.store.Lookup(m.sem.scope, q, vec, sc.threshold, now)
	m.sem.place = match.Place
	if best > 0 {
		sm.bestSimilarity.Observe(float64(best))
	}
	if !hit {
		if match.Vetoed != semantic.GuardNone {
			sm.vetoes[match.Vetoed].Inc()
		}
		sm.misses.Inc()
		return nil, ""
	}
	e, fresh, ok := h.store.Get(match.Key, now)
	if !fresh && h.store.redis != nil { // remembered from another instance's answer
		e, fresh = h.sharedLookup(&miss{key: match.Key, tenant: m.tenant}, r.Header, now)
		ok = e != nil
	}
	if !ok || !fresh || !e.Matches(r.Header) { // the answer is gone, or was for other Vary values
		sm.misses.Inc()
		return nil, ""
	}
	sm.hits.Inc()
	similarity := strconv.FormatFloat(float64(match.Score), 'f', 2, 32)
	publishPlaceholder(r, contract.VarCacheSimilarity, similarity)
	return e, similarity
}
