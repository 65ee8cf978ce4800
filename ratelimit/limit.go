// Package ratelimit limits requests per key: a request rate (GCRA), an LLM
// token budget per window, and requests in flight. Each limit keeps its
// state in this process, or in Redis so that every instance behind a load
// balancer shares it. It knows nothing of Caddy.
package ratelimit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Decision is one limit's answer for one request, with what the
// RateLimit-* and Retry-After headers report.
type Decision struct {
	Allowed    bool
	Limit      int64         // the quota: burst, token budget or in-flight maximum
	Remaining  int64         // what is left of it now
	Reset      time.Duration // until the quota is whole again (rate, tokens)
	RetryAfter time.Duration // when refused: until a retry can succeed
	Full       bool          // refused: a new key found the zone's key table full of live keys
}

// Rate is a GCRA limit: Count requests per Per on average, of which up to
// Burst may come at once.
type Rate struct {
	Count int64
	Per   time.Duration
	Burst int64
}

// interval is GCRA's emission interval: the time one request "costs".
func (r Rate) interval() int64 {
	return max(int64(r.Per)/r.Count, 1)
}

// Budget is an LLM token budget: Tokens per Window. Windows are aligned to
// the Unix epoch, so every instance agrees on when one ends.
type Budget struct {
	Tokens int64
	Window time.Duration
}

// windowEnd returns the end of the window holding now, in Unix nanoseconds.
func (b Budget) windowEnd(now int64) int64 {
	w := int64(b.Window)
	return (now/w + 1) * w
}

// ParseRate reads "count/period", where period is s, m, h, d or a Go
// duration ("60/m", "100000/h", "5/30s").
func ParseRate(s string) (count int64, per time.Duration, err error) {
	num, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, 0, fmt.Errorf("rate %q: want count/period, like 60/m", s)
	}
	count, err = strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || count <= 0 {
		return 0, 0, fmt.Errorf("rate %q: count must be a positive integer", s)
	}
	switch unit = strings.TrimSpace(unit); unit {
	case "s":
		per = time.Second
	case "m":
		per = time.Minute
	case "h":
		per = time.Hour
	case "d":
		per = 24 * time.Hour
	default:
		per, err = time.ParseDuration(unit)
		if err != nil || per <= 0 {
			return 0, 0, fmt.Errorf("rate %q: period must be s, m, h, d or a positive duration", s)
		}
	}
	return count, per, nil
}

// ErrRemoteDown is reported when a decision was made locally because the
// shared store could not be reached.
var ErrRemoteDown = errors.New("ratelimit: shared store unreachable")
