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
	local  *Windows
	remote *Redis
}

// NewTokenLimiter returns zone's token budget; remote may be nil.
func NewTokenLimiter(zone string, local *Windows, remote *Redis) *TokenLimiter {
	return &TokenLimiter{zone: zone, local: local, remote: remote}
}

// Check says whether key has tokens left in this window. A non-nil error
// (wrapping ErrRemoteDown) means Redis failed and the local budget decided.
func (l *TokenLimiter) Check(key string, b Budget, now time.Time) (Decision, error) {
	if l.remote == nil {
		return l.local.Check(key, b, now), nil
	}
	n := now.UnixNano()
	end := b.windowEnd(n)
	used, err := l.remote.used(redisKey(l.zone, "tokens", key), end)
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
	err := l.remote.spend(redisKey(l.zone, "tokens", key), tokens, b.windowEnd(now.UnixNano()))
	if err != nil {
		l.local.Spend(key, b, tokens, now)
	}
	return err
}
