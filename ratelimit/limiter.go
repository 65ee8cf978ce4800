package ratelimit

import "time"

// RateLimiter is a rate zone: decided in Redis when one is set and
// reachable, in this process otherwise.
type RateLimiter struct {
	zone   string
	local  *GCRA
	remote *Redis
}

// NewRateLimiter returns zone's rate limiter; remote may be nil.
func NewRateLimiter(zone string, local *GCRA, remote *Redis) *RateLimiter {
	return &RateLimiter{zone: zone, local: local, remote: remote}
}

// Allow takes one request from key's bucket. A non-nil error (wrapping
// ErrRemoteDown) means Redis failed and the local limiter decided.
func (l *RateLimiter) Allow(key string, r Rate, now time.Time) (Decision, error) {
	if l.remote == nil {
		return l.local.Allow(key, r, now), nil
	}
	d, err := l.remote.allow(redisKey(l.zone, "rate", key), r)
	if err != nil {
		return l.local.Allow(key, r, now), err
	}
	return d, nil
}

// TokenLimiter is a token budget zone: kept in Redis when one is set and
// reachable, in this process otherwise.
type TokenLimiter struct {
	zone   string
	kind   string // in Redis keys: "tokens", or "usd" for a cost budget
	local  *Windows
	remote *Redis
}

// NewTokenLimiter returns zone's token budget; remote may be nil.
func NewTokenLimiter(zone string, local *Windows, remote *Redis) *TokenLimiter {
	return &TokenLimiter{zone: zone, kind: "tokens", local: local, remote: remote}
}

// NewCostLimiter returns zone's budget in micro-dollars (see ParseCost):
// a token budget whose Redis counters are apart from a token zone's of
// the same name, so a zone changed from tokens to budget never reads
// tokens as dollars.
func NewCostLimiter(zone string, local *Windows, remote *Redis) *TokenLimiter {
	return &TokenLimiter{zone: zone, kind: "usd", local: local, remote: remote}
}

// Check says whether key has tokens left in this window. A non-nil error
// (wrapping ErrRemoteDown) means Redis failed and the local budget decided.
func (l *TokenLimiter) Check(key string, b Budget, now time.Time) (Decision, error) {
	if l.remote == nil {
		return l.local.Check(key, b, now), nil
	}
	n := now.UnixNano()
	end := b.windowEnd(n)
	used, err := l.remote.used(redisKey(l.zone, l.kind, key), end)
	if err != nil {
		return l.local.Check(key, b, now), err
	}
	return budgetDecision(b, used, end-n), nil
}

// Spend debits tokens from key's budget. When Redis fails they are
// debited locally, and the error says so.
func (l *TokenLimiter) Spend(key string, b Budget, tokens int64, now time.Time) error {
	if tokens <= 0 {
		return nil
	}
	if l.remote == nil {
		l.local.Spend(key, b, tokens, now)
		return nil
	}
	err := l.remote.spend(redisKey(l.zone, l.kind, key), tokens, b.windowEnd(now.UnixNano()))
	if err != nil {
		l.local.Spend(key, b, tokens, now)
	}
	return err
}

// Reservation is tokens a request holds in a budget until its answer is
// known; Settle replaces them by what the answer cost.
type Reservation struct {
	key    string // the key as given (local) or its Redis key
	end    int64  // the end of the window debited, Unix nanoseconds
	tokens int64  // tokens reserved
	remote bool   // reserved in Redis
}

// Tokens returns the tokens reserved.
func (r Reservation) Tokens() int64 { return r.tokens }

// Reserve says whether key has tokens left in this window (spent and
// reserved below the budget) and, if so, debits tokens at once, in one
// atomic step: N requests at the same moment cannot all pass a check made
// before any of them is debited. A refused request reserves nothing. A
// non-nil error (wrapping ErrRemoteDown) means Redis failed and the local
// budget decided (and holds the reservation).
func (l *TokenLimiter) Reserve(key string, b Budget, tokens int64, now time.Time) (Decision, Reservation, error) {
	tokens = clampTokens(tokens)
	if l.remote != nil {
		rk := redisKey(l.zone, l.kind, key)
		n := now.UnixNano()
		end := b.windowEnd(n)
		d, err := l.remote.reserve(rk, b, tokens, end, end-n)
		if err == nil {
			return d, Reservation{key: rk, end: end, tokens: tokens, remote: true}, nil
		}
		d, end = l.local.Reserve(key, b, tokens, now)
		return d, Reservation{key: key, end: end, tokens: tokens}, err
	}
	d, end := l.local.Reserve(key, b, tokens, now)
	return d, Reservation{key: key, end: end, tokens: tokens}, nil
}

// Settle replaces reservation r, made for key, by the tokens spent: the
// difference is given back or debited. If r's window is over, spent is
// debited from the current window. When Redis fails, spent is debited
// locally, and the error says so.
func (l *TokenLimiter) Settle(key string, b Budget, r Reservation, spent int64, now time.Time) error {
	spent = clampTokens(spent)
	if !r.remote {
		l.local.Settle(key, b, r.end, r.tokens, spent, now)
		return nil
	}
	cur := b.windowEnd(now.UnixNano())
	delta, end := spent-r.tokens, r.end
	if end != cur {
		delta, end = spent, cur
	}
	if delta == 0 {
		return nil
	}
	err := l.remote.settle(r.key, delta, end)
	if err != nil {
		l.local.Spend(key, b, spent, now)
	}
	return err
}
