package breaker

import (
	"fmt"
	"strconv"
	"strings"
)

// StatusSet is a set of HTTP statuses that count as upstream failures.
type StatusSet []statusRange

type statusRange struct{ lo, hi int }

// DefaultFailStatuses are every 5xx. 429 is not among them: callers
// usually bring their own keys, and one key's quota says nothing about the
// upstream's health, so one noisy caller must not open a breaker every
// caller shares. A tier whose upstream key is shared can list 429 itself.
var DefaultFailStatuses = StatusSet{{500, 599}}

// ParseStatuses reads codes ("503") and classes ("5xx").
func ParseStatuses(specs []string) (StatusSet, error) {
	var set StatusSet
	for _, s := range specs {
		if len(s) == 3 && strings.HasSuffix(strings.ToLower(s), "xx") && s[0] >= '1' && s[0] <= '5' {
			lo := int(s[0]-'0') * 100
			set = append(set, statusRange{lo, lo + 99})
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 100 || n > 599 {
			return nil, fmt.Errorf("not a status code or class (such as 503 or 5xx): %q", s)
		}
		set = append(set, statusRange{n, n})
	}
	return set, nil
}

// Contains reports whether status is in the set.
func (s StatusSet) Contains(status int) bool {
	for _, r := range s {
		if status >= r.lo && status <= r.hi {
			return true
		}
	}
	return false
}
