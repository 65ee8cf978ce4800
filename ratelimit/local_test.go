package ratelimit

import (
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

var t0 = time.Unix(1_700_000_000, 0)

func TestParseRate(t *testing.T) {
	for _, c := range []struct {
		in    string
		count int64
		per   time.Duration
	}{
		{"60/m", 60, time.Minute}, {"100000/h", 100000, time.Hour}, {" 5 / 30s ", 5, 30 * time.Second},
		{"1/s", 1, time.Second}, {"7/d", 7, 24 * time.Hour},
	} {
		count, per, err := ParseRate(c.in)
		if err != nil || count != c.count || per != c.per {
			t.Errorf("ParseRate(%q) = %d, %v, %v", c.in, count, per, err)
		}
	}
	for _, bad := range []string{"", "60", "0/m", "-1/m", "x/m", "60/", "60/fortnight", "60/-1s", "1.5/s"} {
		if _, _, err := ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) accepted", bad)
		}
	}
}

func TestGCRABurstThenSteady(t *testing.T) {
	g := NewGCRA(1000)
	r := Rate{Count: 10, Per: time.Second, Burst: 5} // one per 100ms
	for i := range 5 {
		d := g.Allow("k", r, t0)
		if !d.Allowed || d.Remaining != int64(4-i) || d.Limit != 5 {
			t.Fatalf("burst request %d: %+v", i, d)
		}
	}
	d := g.Allow("k", r, t0)
	if d.Allowed || d.RetryAfter != 100*time.Millisecond || d.Reset != 500*time.Millisecond {
		t.Fatalf("over burst: %+v", d)
	}
	if d := g.Allow("k", r, t0.Add(99*time.Millisecond)); d.Allowed {
		t.Fatalf("allowed before the interval: %+v", d)
	}
	// Steadily: exactly one per interval.
	allowed := 0
	for ms := 100; ms <= 1000; ms += 10 {
		if g.Allow("k", r, t0.Add(time.Duration(ms)*time.Millisecond)).Allowed {
			allowed++
		}
	}
	if allowed != 10 {
		t.Fatalf("allowed %d in the next second, want 10", allowed)
	}
	if g.Allow("other", r, t0).Allowed != true {
		t.Fatal("keys are not independent")
	}
}

func TestGCRAIdleKeysSwept(t *testing.T) {
	g := NewGCRA(1000)
	r := Rate{Count: 1, Per: time.Second, Burst: 2}
	g.Allow("a", r, t0)
	g.Allow("b", r, t0.Add(2*time.Second))
	if n := g.Sweep(t0.Add(1500 * time.Millisecond)); n != 1 || g.Keys() != 1 {
		t.Fatalf("swept %d, %d keys left; want 1, 1", n, g.Keys())
	}
}

func TestTableBounded(t *testing.T) {
	const maxKeys = 64 * 16
	g := NewGCRA(maxKeys)
	r := Rate{Count: 1, Per: time.Hour, Burst: 1}
	for i := range 20 * maxKeys {
		g.Allow(strconv.Itoa(i), r, t0) // every key stays live for an hour
	}
	if n := g.Keys(); n > maxKeys {
		t.Fatalf("%d keys held, bound %d", n, maxKeys)
	}
	if g.Evicted() == 0 {
		t.Fatal("no evictions counted")
	}
	// A new key in a full shard makes room among idle keys before it
	// drops a live one: with most of a full table idle, none is dropped.
	const big = 64 * 256
	g = NewGCRA(big)
	for i := range 4 * big {
		g.Allow(strconv.Itoa(i), r, t0)
	}
	if g.Keys() != big {
		t.Fatalf("%d keys after feeding %d, want the table full (%d)", g.Keys(), 4*big, big)
	}
	before := g.Evicted()
	later := t0.Add(2 * time.Hour)
	for i := range big / 8 {
		g.Allow("new"+strconv.Itoa(i), r, later)
	}
	if n := g.Evicted() - before; n != 0 {
		t.Fatalf("evicted %d live keys while most keys were idle", n)
	}
}

func TestSweepGivesMemoryBack(t *testing.T) {
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	const keys = 1 << 18
	base := heap()
	g := NewGCRA(keys * 2)
	r := Rate{Count: 1, Per: time.Hour, Burst: 1}
	for i := range keys {
		g.Allow(strconv.Itoa(i), r, t0)
	}
	full := heap()
	if n := g.Sweep(t0.Add(2 * time.Hour)); n != keys {
		t.Fatalf("swept %d keys, want %d", n, keys)
	}
	swept := heap()
	grown := int64(full) - int64(base)
	kept := int64(swept) - int64(base)
	if grown < keys*20 || kept > grown/4 {
		t.Fatalf("heap grew %d B for %d keys and kept %d B after they were swept", grown, keys, kept)
	}
	runtime.KeepAlive(g)
}

func TestWindows(t *testing.T) {
	w := NewWindows(1000)
	b := Budget{Tokens: 100, Window: time.Minute}
	start := t0.Truncate(time.Minute)
	if d := w.Check("team", b, start); !d.Allowed || d.Remaining != 100 || d.Reset != time.Minute {
		t.Fatalf("fresh: %+v", d)
	}
	w.Spend("team", b, 60, start)
	if d := w.Check("team", b, start.Add(time.Second)); !d.Allowed || d.Remaining != 40 {
		t.Fatalf("after 60: %+v", d)
	}
	w.Spend("team", b, 60, start.Add(time.Second)) // the answer that crosses the budget still counts
	d := w.Check("team", b, start.Add(2*time.Second))
	if d.Allowed || d.Remaining != 0 || d.RetryAfter != 58*time.Second {
		t.Fatalf("over budget: %+v", d)
	}
	if !w.Check("other", b, start.Add(2*time.Second)).Allowed {
		t.Fatal("keys are not independent")
	}
	if d := w.Check("team", b, start.Add(time.Minute)); !d.Allowed || d.Remaining != 100 {
		t.Fatalf("next window: %+v", d)
	}
	if n := w.Sweep(start.Add(time.Minute)); n != 1 {
		t.Fatalf("swept %d, want 1", n)
	}
}

func TestInflight(t *testing.T) {
	c := NewInflight(1000)
	var releases []func()
	for i := range 3 {
		d, release := c.Acquire("k", 3)
		if !d.Allowed || d.Remaining != int64(2-i) {
			t.Fatalf("acquire %d: %+v", i, d)
		}
		releases = append(releases, release)
	}
	if d, release := c.Acquire("k", 3); d.Allowed || release != nil || d.RetryAfter <= 0 {
		t.Fatalf("fourth: %+v", d)
	}
	releases[0]()
	if d, release := c.Acquire("k", 3); !d.Allowed {
		t.Fatal("slot not given back")
	} else {
		release()
	}
	releases[1]()
	releases[2]()
	if c.Keys() != 0 {
		t.Fatalf("%d keys held with nothing in flight", c.Keys())
	}
}

func TestInflightConcurrent(t *testing.T) {
	c := NewInflight(1000)
	var mu sync.Mutex
	in, peak := 0, 0
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for range 200 {
				d, release := c.Acquire("k", 4)
				if !d.Allowed {
					continue
				}
				mu.Lock()
				in++
				peak = max(peak, in)
				mu.Unlock()
				mu.Lock()
				in--
				mu.Unlock()
				release()
			}
		})
	}
	wg.Wait()
	if peak > 4 || c.Keys() != 0 {
		t.Fatalf("peak %d in flight (limit 4), %d keys left", peak, c.Keys())
	}
}

func BenchmarkGCRAAllow(b *testing.B) {
	g := NewGCRA(DefaultMaxKeys)
	r := Rate{Count: 1e9, Per: time.Second, Burst: 1e9}
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "Bearer sk-" + strconv.Itoa(i)
	}
	now := time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			g.Allow(keys[i&1023], r, now)
			i++
		}
	})
}

// BenchmarkGCRANewKeyFullTable is a stream of distinct live keys into a
// full table (many clients, or one varying its key): every call evicts.
func BenchmarkGCRANewKeyFullTable(b *testing.B) {
	const maxKeys = 1 << 16
	g := NewGCRA(maxKeys)
	r := Rate{Count: 1, Per: time.Hour, Burst: 10}
	for i := range 2 * maxKeys {
		g.Allow(strconv.Itoa(i), r, t0)
	}
	keys := make([]string, 1<<16)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		g.Allow(keys[i&(1<<16-1)], r, t0)
	}
}
