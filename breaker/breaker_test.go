package breaker

import (
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestBreaker(cfg Config) (*Breaker, *clock, *[]string) {
	c := &clock{t: time.Unix(1000, 0)}
	var changes []string
	b := New("b", cfg, func(_ string, from, to State) { changes = append(changes, from.String()+">"+to.String()) })
	b.now = c.now
	return b, c, &changes
}

func fail(t *testing.T, b *Breaker, o Outcome) {
	t.Helper()
	done, err := b.Allow()
	if err != nil {
		t.Fatalf("Allow: %v", err)
	}
	done(o)
}

func TestBreakerOpensAfterFailuresInWindow(t *testing.T) {
	b, c, changes := newTestBreaker(Config{Failures: 3, Window: 10 * time.Second, Open: 5 * time.Second})
	fail(t, b, Failure)
	fail(t, b, Failure)
	c.add(11 * time.Second) // the first two fall out of the window
	fail(t, b, Failure)
	fail(t, b, Success)
	fail(t, b, Failure)
	if b.State() != Closed {
		t.Fatalf("opened with only 2 failures in the window")
	}
	fail(t, b, Failure)
	if b.State() != Open {
		t.Fatalf("state %v after 3 failures in the window, want open", b.State())
	}
	if _, err := b.Allow(); err != ErrOpen {
		t.Errorf("open breaker allowed a request")
	}
	c.add(5 * time.Second)
	if b.State() != HalfOpen {
		t.Errorf("state %v after the open time, want half-open", b.State())
	}
	if got := *changes; len(got) != 2 || got[0] != "closed>open" || got[1] != "open>half-open" {
		t.Errorf("changes %v", got)
	}
}

func TestBreakerHalfOpenAdmitsLimitedProbes(t *testing.T) {
	b, c, _ := newTestBreaker(Config{Failures: 1, Open: time.Second, HalfOpenProbes: 2, Successes: 2})
	fail(t, b, Failure)
	c.add(time.Second)
	p1, err1 := b.Allow()
	p2, err2 := b.Allow()
	_, err3 := b.Allow()
	if err1 != nil || err2 != nil || err3 != ErrOpen {
		t.Fatalf("probes: %v %v %v; want two admitted, the third refused", err1, err2, err3)
	}
	p1(Success)
	if b.State() != HalfOpen {
		t.Fatalf("closed after 1 of 2 successes")
	}
	p3, err := b.Allow() // p1's slot is free again
	if err != nil {
		t.Fatal(err)
	}
	p2(Success)
	if b.State() != Closed {
		t.Fatalf("state %v after 2 successes, want closed", b.State())
	}
	p3(Failure) // a probe of a half-open period that is over does not count
	if b.State() != Closed {
		t.Errorf("late probe reopened the breaker")
	}
}

func TestBreakerFailedProbeReopens(t *testing.T) {
	b, c, _ := newTestBreaker(Config{Failures: 1, Open: time.Second})
	fail(t, b, Failure)
	c.add(time.Second)
	fail(t, b, Failure)
	if b.State() != Open {
		t.Fatalf("state %v after a failed probe, want open", b.State())
	}
}

func TestBreakerIgnoredOutcomes(t *testing.T) {
	b, _, _ := newTestBreaker(Config{Failures: 2})
	for range 10 {
		fail(t, b, Ignored)
	}
	if b.State() != Closed {
		t.Error("ignored outcomes opened the breaker")
	}
}

func TestBreakerForceOpenAndClose(t *testing.T) {
	b, c, _ := newTestBreaker(Config{Open: time.Second})
	b.ForceOpen()
	c.add(time.Hour)
	if b.State() != Open {
		t.Fatalf("forced-open breaker moved to %v", b.State())
	}
	b.Close()
	if b.State() != Closed || b.Snapshot().RecentFailures != 0 {
		t.Errorf("after Close: %+v", b.Snapshot())
	}
}

func TestBreakerConcurrent(t *testing.T) {
	b := New("c", Config{Failures: 3, Open: time.Millisecond, HalfOpenProbes: 2}, nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 500 {
				if done, err := b.Allow(); err == nil {
					done(Outcome((i + j) % 3))
				}
				_ = b.Snapshot()
			}
		}()
	}
	wg.Wait()
}

func TestStatusSet(t *testing.T) {
	set, err := ParseStatuses([]string{"5xx", "429"})
	if err != nil {
		t.Fatal(err)
	}
	for status, want := range map[int]bool{500: true, 503: true, 599: true, 429: true, 200: false, 404: false, 428: false} {
		if set.Contains(status) != want {
			t.Errorf("Contains(%d) = %v", status, !want)
		}
	}
	for _, bad := range []string{"6xx", "abc", "42", "700"} {
		if _, err := ParseStatuses([]string{bad}); err == nil {
			t.Errorf("ParseStatuses(%q) accepted", bad)
		}
	}
}

// TestDefaultFailStatusesLeaveOutQuotas: a caller's 429 is its own quota,
// not the upstream's health.
func TestDefaultFailStatusesLeaveOutQuotas(t *testing.T) {
	for status, want := range map[int]bool{429: false, 500: true, 502: true, 503: true, 504: true, 599: true, 200: false, 404: false} {
		if DefaultFailStatuses.Contains(status) != want {
			t.Errorf("DefaultFailStatuses.Contains(%d) = %v", status, !want)
		}
	}
}

// TestBreakerTransitions: a snapshot lists the latest state changes,
// newest first, at most MaxTransitions of them, each at the time it
// happened (half-open when the open time ended, not when someone asked).
func TestBreakerTransitions(t *testing.T) {
	b, c, _ := newTestBreaker(Config{Failures: 1, Open: 5 * time.Second, HalfOpenProbes: 1, Successes: 1})
	if got := b.Snapshot().Transitions; got == nil || len(got) != 0 {
		t.Fatalf("new breaker: transitions %v, want none (an empty list)", got)
	}
	start := c.now()
	for range 4 { // closed > open > half-open > closed, four times: 12 changes
		fail(t, b, Failure)
		c.add(7 * time.Second) // asked 2s after it turned half-open
		fail(t, b, Success)
	}
	b.Close() // already closed: no change
	got := b.Snapshot().Transitions
	if len(got) != MaxTransitions {
		t.Fatalf("%d transitions kept, want %d: %v", len(got), MaxTransitions, got)
	}
	// The newest: the fourth cycle, which began at start+21s.
	want := []Transition{
		{start.Add(28 * time.Second), "half-open", "closed"},
		{start.Add(26 * time.Second), "open", "half-open"},
		{start.Add(21 * time.Second), "closed", "open"},
		{start.Add(21 * time.Second), "half-open", "closed"},
	}
	for i, w := range want {
		if !got[i].Time.Equal(w.Time) || got[i].From != w.From || got[i].To != w.To {
			t.Errorf("transition %d: %+v, want %+v", i, got[i], w)
		}
	}
	if last := got[MaxTransitions-1]; last.From != "half-open" || last.To != "closed" || !last.Time.Equal(start.Add(7*time.Second)) {
		t.Errorf("oldest kept %+v, want the first cycle's half-open > closed at +7s (its first two dropped)", last)
	}
}
