package ratelimit

import (
	"sync/atomic"
	"time"
)

// DefaultMaxKeys bounds the keys one local limiter tracks.
const DefaultMaxKeys = 1 << 20

// GCRA is an in-process rate limiter (the generic cell rate algorithm: a
// token bucket kept as one timestamp per key, the bucket's "theoretical
// arrival time"). It is safe for concurrent use.
type GCRA struct{ t *table[int64] }

// NewGCRA returns a rate limiter tracking at most maxKeys keys.
func NewGCRA(maxKeys int) *GCRA {
	return &GCRA{newTable(maxKeys, func(tat, now int64) bool { return tat <= now })}
}

// Allow takes one request from key's bucket, if it has one.
func (g *GCRA) Allow(key string, r Rate, now time.Time) Decision {
	n, T := now.UnixNano(), r.interval()
	s, h := g.t.shard(key)
	s.mu.Lock()
	tat, ok := s.m[h]
	if !ok || tat < n {
		tat = n
	}
	newTAT := tat + T
	allowAt := newTAT - r.Burst*T
	if n < allowAt {
		s.mu.Unlock()
		return Decision{Limit: r.Burst, Reset: time.Duration(tat - n), RetryAfter: time.Duration(allowAt - n)}
	}
	g.t.put(s, h, newTAT, n)
	s.mu.Unlock()
	return Decision{Allowed: true, Limit: r.Burst, Remaining: (n - allowAt) / T, Reset: time.Duration(newTAT - n)}
}

// Sweep forgets keys whose bucket is full again.
func (g *GCRA) Sweep(now time.Time) int { return g.t.sweep(now.UnixNano()) }

// Keys returns the number of keys tracked.
func (g *GCRA) Keys() int { return g.t.len() }

// Evicted returns how many live keys were dropped to stay within maxKeys.
func (g *GCRA) Evicted() int64 { return g.t.evicted.Load() }

// usage is one key's tokens spent in the window ending at end.
type usage struct{ end, used int64 }

// Windows is an in-process token budget: tokens spent per key in the
// current window. It is safe for concurrent use.
type Windows struct{ t *table[usage] }

// NewWindows returns a token budget tracking at most maxKeys keys.
func NewWindows(maxKeys int) *Windows {
	return &Windows{newTable(maxKeys, func(u usage, now int64) bool { return u.end <= now })}
}

// Check says whether key has budget left; it spends nothing.
func (w *Windows) Check(key string, b Budget, now time.Time) Decision {
	n := now.UnixNano()
	end := b.windowEnd(n)
	s, h := w.t.shard(key)
	s.mu.Lock()
	u := s.m[h]
	s.mu.Unlock()
	if u.end != end {
		u.used = 0
	}
	return budgetDecision(b, u.used, end-n)
}

// budgetDecision reports a budget with used tokens spent (or reserved) and
// reset left in its window.
func budgetDecision(b Budget, used, reset int64) Decision {
	d := Decision{Allowed: used < b.Tokens, Limit: b.Tokens, Remaining: max(b.Tokens-used, 0), Reset: time.Duration(reset)}
	if !d.Allowed {
		d.RetryAfter = d.Reset
	}
	return d
}

// Reserve is Check and a debit of tokens in one step, under the key's
// lock: when key has budget left (spent and reserved below the budget),
// tokens are debited at once and the decision is allowed; otherwise
// nothing changes. The decision's Remaining is what was left before this
// debit. It returns the end of the window debited, for Settle.
func (w *Windows) Reserve(key string, b Budget, tokens int64, now time.Time) (Decision, int64) {
	tokens = clampTokens(tokens)
	n := now.UnixNano()
	end := b.windowEnd(n)
	s, h := w.t.shard(key)
	s.mu.Lock()
	u := s.m[h]
	if u.end != end {
		u = usage{end: end}
	}
	d := budgetDecision(b, u.used, end-n)
	if d.Allowed {
		u.used += tokens
		w.t.put(s, h, u, n)
	}
	s.mu.Unlock()
	return d, end
}

// Settle replaces tokens reserved in the window ending at end by the
// tokens actually spent. If that window is over, the spent tokens are
// debited from the current one instead. A count never goes below zero
// (the key may have been dropped and started over meanwhile).
func (w *Windows) Settle(key string, b Budget, end, reserved, spent int64, now time.Time) {
	reserved, spent = clampTokens(reserved), clampTokens(spent)
	n := now.UnixNano()
	cur := b.windowEnd(n)
	delta := spent - reserved
	if end != cur {
		delta = spent
	}
	if delta == 0 {
		return
	}
	s, h := w.t.shard(key)
	s.mu.Lock()
	u := s.m[h]
	if u.end != cur {
		u = usage{end: cur}
		if delta < 0 {
			s.mu.Unlock()
			return
		}
	}
	u.used = max(u.used+delta, 0)
	w.t.put(s, h, u, n)
	s.mu.Unlock()
}

// MaxTokens bounds one reservation or debit, so sums cannot overflow.
const MaxTokens = 1 << 50

func clampTokens(n int64) int64 { return min(max(n, 0), MaxTokens) }

// Spend debits tokens from key's budget in the current window.
func (w *Windows) Spend(key string, b Budget, tokens int64, now time.Time) {
	if tokens <= 0 {
		return
	}
	w.Settle(key, b, b.windowEnd(now.UnixNano()), 0, tokens, now)
}

// Sweep forgets keys whose window is over.
func (w *Windows) Sweep(now time.Time) int { return w.t.sweep(now.UnixNano()) }

// Keys returns the number of keys tracked.
func (w *Windows) Keys() int { return w.t.len() }

// Evicted returns how many live keys were dropped to stay within maxKeys.
func (w *Windows) Evicted() int64 { return w.t.evicted.Load() }

// Inflight counts requests in flight per key. It is safe for concurrent use.
//
// Every key it holds has a request in flight (a key is forgotten with its
// last release), so it never drops one to make room: a new key that finds
// its share of the table full is refused (Decision.Full), and the keys
// already in flight keep their counts.
type Inflight struct {
	t    *table[int64]
	full atomic.Int64
}

// NewInflight returns a counter tracking at most maxKeys keys.
func NewInflight(maxKeys int) *Inflight {
	return &Inflight{t: newTable(maxKeys, func(n, _ int64) bool { return n <= 0 })}
}

// Acquire takes one of key's max slots. When it is allowed, release must
// be called once the request is over.
func (c *Inflight) Acquire(key string, max int64) (d Decision, release func()) {
	s, h := c.t.shard(key)
	s.mu.Lock()
	n, ok := s.m[h]
	if n >= max {
		s.mu.Unlock()
		return Decision{Limit: max, RetryAfter: time.Second}, nil
	}
	if !ok && len(s.m) >= c.t.maxPerShard {
		s.mu.Unlock()
		c.full.Add(1)
		return Decision{Limit: max, RetryAfter: time.Second, Full: true}, nil
	}
	c.t.put(s, h, n+1, 0)
	s.mu.Unlock()
	return Decision{Allowed: true, Limit: max, Remaining: max - n - 1}, func() { c.release(s, h) }
}

func (c *Inflight) release(s *shard[int64], h uint64) {
	s.mu.Lock()
	switch n, ok := s.m[h]; {
	case !ok: // not held (cannot happen: in-flight keys are never dropped)
	case n <= 1:
		delete(s.m, h)
	default:
		s.m[h] = n - 1
	}
	s.mu.Unlock()
}

// Keys returns the number of keys with requests in flight.
func (c *Inflight) Keys() int { return c.t.len() }

// Evicted returns how many live keys were dropped to stay within maxKeys:
// always 0, an in-flight key is never dropped.
func (c *Inflight) Evicted() int64 { return c.t.evicted.Load() }

// Full returns how many requests of new keys were refused because the
// table was full of keys with requests in flight.
func (c *Inflight) Full() int64 { return c.full.Load() }
