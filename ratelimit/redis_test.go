package ratelimit

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragproxy/ragproxy/internal/redistest"
)

func TestRedisRateShared(t *testing.T) {
	srv := redistest.Start(t)
	r := Rate{Count: 1, Per: time.Hour, Burst: 10}
	// Two instances: separate clients and local state, one Redis.
	var limiters []*RateLimiter
	for range 2 {
		remote := testRedis(t, srv.URL)
		limiters = append(limiters, NewRateLimiter("shared", NewGCRA(100), remote))
	}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			d, err := limiters[i%2].Allow("key", r, time.Now())
			if err != nil {
				t.Error(err)
			}
			if d.Allowed {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	if allowed.Load() != 10 {
		t.Fatalf("%d allowed across two instances, want the burst of 10", allowed.Load())
	}
	d, _ := limiters[0].Allow("key", r, time.Now())
	if d.Allowed || d.RetryAfter < 59*time.Minute || d.RetryAfter > time.Hour {
		t.Fatalf("refusal: %+v", d)
	}
	if d, _ := limiters[1].Allow("other", r, time.Now()); !d.Allowed || d.Remaining != 9 {
		t.Fatalf("other key: %+v", d)
	}
}

func TestRedisTokens(t *testing.T) {
	srv := redistest.Start(t)
	remote := testRedis(t, srv.URL)
	l := NewTokenLimiter("budget", NewWindows(100), remote)
	b := Budget{Tokens: 100, Window: time.Hour}
	now := time.Now()
	if d, err := l.Check("team", b, now); err != nil || !d.Allowed || d.Remaining != 100 {
		t.Fatalf("fresh: %+v %v", d, err)
	}
	for range 2 {
		if err := l.Spend("team", b, 55, now); err != nil {
			t.Fatal(err)
		}
	}
	d, err := l.Check("team", b, now)
	if err != nil || d.Allowed || d.Remaining != 0 || d.RetryAfter <= 0 {
		t.Fatalf("spent 110 of 100: %+v %v", d, err)
	}
	if l.local.Keys() != 0 {
		t.Fatal("spent locally while Redis was up")
	}
}

func TestRedisDownFallsBackLocally(t *testing.T) {
	srv := redistest.Start(t)
	var mu sync.Mutex
	var changes []bool
	remote, err := NewRedis(srv.URL, 200*time.Millisecond, func(_ string, up bool) {
		mu.Lock()
		changes = append(changes, up)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer remote.Close()
	l := NewRateLimiter("z", NewGCRA(100), remote)
	r := Rate{Count: 1, Per: time.Hour, Burst: 3}
	if _, err := l.Allow("k", r, time.Now()); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	allowed := 0
	for range 10 {
		d, err := l.Allow("k", r, time.Now())
		if !errors.Is(err, ErrRemoteDown) {
			t.Fatalf("err %v, want ErrRemoteDown", err)
		}
		if d.Allowed {
			allowed++
		}
	}
	if allowed != 3 {
		t.Fatalf("local limiter allowed %d, want its burst of 3", allowed)
	}
	mu.Lock()
	if len(changes) != 1 || changes[0] {
		t.Fatalf("state changes %v, want [down]", changes)
	}
	mu.Unlock()

	// Back up: within a second or so decisions are Redis's again.
	srv.Restart(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := l.Allow("k", r, time.Now()); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("still deciding locally 10s after Redis came back")
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(changes) != 2 || !changes[1] {
		t.Fatalf("state changes %v, want [down up]", changes)
	}
}

// TestRedisCostApartFromTokens: a cost budget and a token budget of the
// same zone name keep their own Redis counters, so a zone changed from
// tokens to budget never reads tokens as micro-dollars.
func TestRedisCostApartFromTokens(t *testing.T) {
	srv := redistest.Start(t)
	remote := testRedis(t, srv.URL)
	b := Budget{Tokens: 100, Window: time.Hour}
	now := time.Now()
	if err := NewTokenLimiter("team", NewWindows(100), remote).Spend("k", b, 500, now); err != nil {
		t.Fatal(err)
	}
	d, err := NewCostLimiter("team", NewWindows(100), remote).Check("k", b, now)
	if err != nil || !d.Allowed || d.Remaining != 100 {
		t.Fatalf("cost budget after 500 tokens of a token zone of the same name: %+v %v, want untouched", d, err)
	}
}

// testRedis connects to the test's redis-server, closed when the test ends.
func testRedis(t *testing.T, url string) *Redis {
	t.Helper()
	remote, err := NewRedis(url, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { remote.Close() })
	return remote
}
