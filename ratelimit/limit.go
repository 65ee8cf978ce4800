// Package ratelimit limits requests per key: a request rate (GCRA), an LLM
// token budget per window, and requests in flight. Each limit keeps its
// state in this process, or in Redis so that every instance behind a load
// balancer shares it. It knows nothing of Caddy.
package ratelimit

import (
	"errors"
	"fmt"
	"math"
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
	per, err = parsePeriod(unit)
	if err != nil {
		return 0, 0, fmt.Errorf("rate %q: %w", s, err)
	}
	return count, per, nil
}

// parsePeriod reads s, m, h, d or a positive Go duration.
func parsePeriod(unit string) (time.Duration, error) {
	switch unit = strings.TrimSpace(unit); unit {
	case "s":
		return time.Second, nil
	case "m":
		return time.Minute, nil
	case "h":
		return time.Hour, nil
	case "d":
		return 24 * time.Hour, nil
	}
	per, err := time.ParseDuration(unit)
	if err != nil || per <= 0 {
		return 0, errors.New("period must be s, m, h, d or a positive duration")
	}
	return per, nil
}

// MicroUSD is a millionth of a US dollar: cost budgets count in it, so
// they share token budgets' integer windows.
const MicroUSD = 1e-6

// maxBudgetUSD bounds a cost budget, so its count in micro-dollars fits.
const maxBudgetUSD = 1e12

// ParseCost reads a cost budget, "usd/period" with usd a positive decimal
// ("5/h", "0.50/d", "$20/30m"), and returns it in micro-dollars (rounded,
// at least one).
func ParseCost(s string) (micro int64, per time.Duration, err error) {
	num, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, 0, fmt.Errorf("budget %q: want usd/period, like 5/h", s)
	}
	usd, err := strconv.ParseFloat(strings.TrimPrefix(strings.TrimSpace(num), "$"), 64)
	if err != nil || !(usd > 0) || usd > maxBudgetUSD {
		return 0, 0, fmt.Errorf("budget %q: the amount must be a positive number of US dollars, at most %g", s, float64(maxBudgetUSD))
	}
	per, err = parsePeriod(unit)
	if err != nil {
		return 0, 0, fmt.Errorf("budget %q: %w", s, err)
	}
	return max(int64(math.Round(usd/MicroUSD)), 1), per, nil
}

// ErrRemoteDown is reported when a decision was made locally because the
// shared store could not be reached.
var ErrRemoteDown = errors.New("ratelimit: shared store unreachable")
