package ratelimit

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragproxy/ragproxy/internal/redistest"
)

func TestWindowsReserveSettle(t *testing.T) {
	w := NewWindows(1000)
	b := Budget{Tokens: 100, Window: time.Minute}
	start := t0.Truncate(time.Minute)
	d, end := w.Reserve("k", b, 60, start)
	if !d.Allowed || d.Remaining != 100 {
		t.Fatalf("first reservation: %+v", d)
	}
	d2, end2 := w.Reserve("k", b, 60, start) // 60 < 100: allowed, debits to 120
	if !d2.Allowed || d2.Remaining != 40 {
		t.Fatalf("second reservation: %+v", d2)
	}
	if d, _ := w.Reserve("k", b, 1, start); d.Allowed || d.RetryAfter != time.Minute {
		t.Fatalf("third reservation over the budget: %+v", d)
	}
	// The answers cost less than reserved: the rest is given back.
	w.Settle("k", b, end, 60, 10, start.Add(time.Second))
	w.Settle("k", b, end2, 60, 20, start.Add(time.Second))
	if d := w.Check("k", b, start.Add(time.Second)); !d.Allowed || d.Remaining != 70 {
		t.Fatalf("after settling 10 and 20: %+v", d)
	}
	// Costing more than reserved debits the difference.
	d, end = w.Reserve("k", b, 5, start.Add(2*time.Second))
	w.Settle("k", b, end, 5, 500, start.Add(2*time.Second))
	if d := w.Check("k", b, start.Add(3*time.Second)); d.Allowed {
		t.Fatalf("after an answer past the budget: %+v", d)
	}
	// A reservation settled in the next window debits its cost there.
	_, end = w.Reserve("j", b, 50, start.Add(59*time.Second))
	w.Settle("j", b, end, 50, 30, start.Add(61*time.Second))
	if d := w.Check("j", b, start.Add(61*time.Second)); d.Remaining != 70 {
		t.Fatalf("settled in the next window: %+v", d)
	}
	// Never below zero: settling a reservation of a key that was dropped.
	w.Settle("gone", b, w.Check("gone", b, start).Reset.Nanoseconds(), 50, 0, start)
	if d := w.Check("gone", b, start); d.Remaining != 100 {
		t.Fatalf("settled an unknown key: %+v", d)
	}
}

// TestReserveParallel: N requests at once against a budget smaller than
// one request's reservation: exactly one is allowed.
func TestReserveParallel(t *testing.T) {
	srv := redistest.Start(t)
	remote := testRedis(t, srv.URL)
	b := Budget{Tokens: 100, Window: time.Hour}
	for name, l := range map[string]*TokenLimiter{
		"local": NewTokenLimiter("p", NewWindows(100), nil),
		"redis": NewTokenLimiter("p", NewWindows(100), remote),
	} {
		t.Run(name, func(t *testing.T) {
			var allowed atomic.Int64
			var wg sync.WaitGroup
			now := time.Now()
			for range 20 {
				wg.Go(func() {
					d, _, err := l.Reserve("team", b, 1010, now)
					if err != nil {
						t.Error(err)
					}
					if d.Allowed {
						allowed.Add(1)
					}
				})
			}
			wg.Wait()
			if allowed.Load() != 1 {
				t.Fatalf("%d of 20 parallel reservations allowed, want 1", allowed.Load())
			}
		})
	}
}

func TestRedisReserveSettle(t *testing.T) {
	srv := redistest.Start(t)
	remote := testRedis(t, srv.URL)
	l := NewTokenLimiter("rs", NewWindows(100), remote)
	b := Budget{Tokens: 100, Window: time.Hour}
	now := time.Now()
	d, res, err := l.Reserve("team", b, 80, now)
	if err != nil || !d.Allowed || d.Remaining != 100 || res.Tokens() != 80 {
		t.Fatalf("reserve: %+v %+v %v", d, res, err)
	}
	if err := l.Settle("team", b, res, 30, now); err != nil {
		t.Fatal(err)
	}
	if d, err := l.Check("team", b, now); err != nil || d.Remaining != 70 {
		t.Fatalf("after settling 80 as 30: %+v %v", d, err)
	}
	d, res, _ = l.Reserve("team", b, 1000, now)
	if !d.Allowed || d.Remaining != 70 {
		t.Fatalf("reservation crossing the budget: %+v", d)
	}
	if d, _, _ := l.Reserve("team", b, 1, now); d.Allowed || d.RetryAfter <= 0 {
		t.Fatalf("over budget: %+v", d)
	}
	_ = l.Settle("team", b, res, 0, now) // nothing spent (a cache hit)
	if d, _ := l.Check("team", b, now); d.Remaining != 70 {
		t.Fatalf("after settling to 0: %+v", d)
	}
	if l.local.Keys() != 0 {
		t.Fatal("reserved locally while Redis was up")
	}
	// Never below zero, even if the counter is gone.
	srv.Restart(t)
	_ = l.Settle("fresh", b, Reservation{key: redisKey("rs", "tokens", "fresh"), end: res.end, tokens: 50, remote: true}, 0, now)
	if d, err := l.Check("fresh", b, now); err == nil && d.Remaining != 100 {
		t.Fatalf("a settle below zero: %+v", d)
	}
}

// TestInflightFullNeverEvicts: a table full of keys with requests in
// flight refuses new keys and keeps counting the old ones.
func TestInflightFullNeverEvicts(t *testing.T) {
	c := NewInflight(64) // one key per shard
	_, release := c.Acquire("victim", 1)
	if release == nil {
		t.Fatal("victim refused")
	}
	refused := 0
	for i := range 1000 {
		d, r := c.Acquire("k"+strconv.Itoa(i), 1)
		switch {
		case d.Allowed:
			r()
		case d.Full:
			refused++
		default:
			t.Fatalf("new key refused without Full: %+v", d)
		}
	}
	if refused == 0 || c.Full() != int64(refused) {
		t.Fatalf("%d refused, Full() %d: the victim's shard never met a new key?", refused, c.Full())
	}
	if d, _ := c.Acquire("victim", 1); d.Allowed || d.Full {
		t.Fatalf("victim's second request: %+v, want refused by its own limit", d)
	}
	if c.Evicted() != 0 {
		t.Fatalf("%d keys in flight evicted", c.Evicted())
	}
	release()
	if d, r := c.Acquire("victim", 1); !d.Allowed {
		t.Fatal("victim refused after release")
	} else {
		r()
	}
}
