package ratelimit

import (
	"testing"
	"time"
)

func TestParseCost(t *testing.T) {
	for s, want := range map[string]struct {
		micro int64
		per   time.Duration
	}{
		"5/h":     {5_000_000, time.Hour},
		"0.50/d":  {500_000, 24 * time.Hour},
		"$20/30m": {20_000_000, 30 * time.Minute},
		"0.29/s":  {290_000, time.Second}, // 0.29/1e-6 is 289999.99…: rounded, not cut
		"1e-9/h":  {1, time.Hour},         // never a budget of nothing
		" 3 / m ": {3_000_000, time.Minute},
	} {
		micro, per, err := ParseCost(s)
		if err != nil || micro != want.micro || per != want.per {
			t.Errorf("ParseCost(%q) = %d, %v, %v; want %d, %v", s, micro, per, err, want.micro, want.per)
		}
	}
	for _, s := range []string{"", "5", "0/h", "-1/h", "x/h", "NaN/h", "Inf/h", "1e13/h", "5/0s", "5/week"} {
		if _, _, err := ParseCost(s); err == nil {
			t.Errorf("ParseCost(%q) accepted", s)
		}
	}
}
