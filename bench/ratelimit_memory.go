package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/ragproxy/ragproxy/ratelimit"
)

// rateMemResult is what one local limiter grows the heap by when fed
// distinct keys that all stay live, and what a sweep gives back once
// they are idle.
type rateMemResult struct {
	Kind    string // "gcra" or "windows"
	MaxKeys int
	Fed     int // distinct keys fed

	Insert     time.Duration // total time of the calls that stored the keys
	InsertTail time.Duration // of the last tailKeys calls alone (the table full if it is bounded below Fed)

	Held    int   // Keys() after feeding
	Evicted int64 // Evicted() after feeding

	Sweep     time.Duration // the Sweep call once every key is idle
	Swept     int           // what it returned
	HeldAfter int           // Keys() after it

	// Memory: before, after feeding, after the sweep; all after a full GC.
	HeapInuse, HeapAlloc, RSS [3]uint64
	RSSFreed                  uint64 // RSS after the sweep and returning free memory to the OS
}

// tailKeys is how many of the last keys fed are timed on their own.
const tailKeys = 100_000

// runRateMemory measures every kind × max-keys combination, each in a
// fresh child process so one run's heap does not blur the next; with
// child set it measures the single combination given, here.
func runRateMemory(keys int, maxKeys, kinds []string, child bool) error {
	if keys < tailKeys {
		return fmt.Errorf("-keys: want at least %d", tailKeys)
	}
	for _, k := range kinds {
		if k != "gcra" && k != "windows" {
			return fmt.Errorf("-kinds: unknown limiter %q (have gcra, windows)", k)
		}
	}
	var bounds []int
	for _, m := range maxKeys {
		n, err := strconv.Atoi(m)
		if err != nil || n < 64 {
			return fmt.Errorf("-max-keys: want a number of at least 64, got %q", m)
		}
		bounds = append(bounds, n)
	}
	if child {
		if len(kinds) != 1 || len(bounds) != 1 {
			return fmt.Errorf("-child measures one -kinds and one -max-keys")
		}
		r := measureRateMemory(kinds[0], bounds[0], keys)
		return json.NewEncoder(os.Stdout).Encode(r)
	}
	var results []rateMemResult
	for _, kind := range kinds {
		for _, m := range bounds {
			fmt.Fprintf(os.Stderr, "ratelimit-memory: %d keys into %s, max_keys %d ...\n", keys, kind, m)
			var r rateMemResult
			if err := runChild(&r, "ratelimit-memory", "-child", "-keys", strconv.Itoa(keys),
				"-max-keys", strconv.Itoa(m), "-kinds", kind); err != nil {
				return fmt.Errorf("measuring %s with max_keys %d: %w", kind, m, err)
			}
			results = append(results, r)
		}
	}
	fmt.Print(rateMemoryReport(results))
	return nil
}

// measureRateMemory feeds keys distinct API keys to a fresh limiter of
// the given kind, each at a limit that keeps it live for an hour, then
// sweeps it two hours later, when every key is idle.
func measureRateMemory(kind string, maxKeys, keys int) rateMemResult {
	r := rateMemResult{Kind: kind, MaxKeys: maxKeys, Fed: keys}
	readMem := func(i int) {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		r.HeapInuse[i], r.HeapAlloc[i] = m.HeapInuse, m.HeapAlloc
		r.RSS[i] = rss()
	}

	// Every key is used once at t0: a GCRA bucket then stays short of
	// full for an hour (one request an hour), a token window stays
	// current until the hour ends. Both are live at t0, idle at t0+2h.
	t0 := time.Now().Truncate(time.Hour)
	rate := ratelimit.Rate{Count: 1, Per: time.Hour, Burst: 10}
	budget := ratelimit.Budget{Tokens: 1_000_000, Window: time.Hour}
	var (
		use   func(key string)
		sweep func(time.Time) int
		held  func() int
		evict func() int64
	)
	readMem(0)
	switch kind {
	case "gcra":
		g := ratelimit.NewGCRA(maxKeys)
		use = func(key string) { g.Allow(key, rate, t0) }
		sweep, held, evict = g.Sweep, g.Keys, g.Evicted
	default:
		w := ratelimit.NewWindows(maxKeys)
		use = func(key string) { w.Spend(key, budget, 100, t0) }
		sweep, held, evict = w.Sweep, w.Keys, w.Evicted
	}

	// Keys are built a batch at a time, outside the timed calls, and are
	// garbage once used: the table keeps 64-bit hashes, not the strings.
	const batch = 10_000
	names := make([]string, 0, batch)
	for i := 0; i < keys; i += batch {
		names = names[:0]
		for j := i; j < min(i+batch, keys); j++ {
			names = append(names, apiKey(j))
		}
		start := time.Now()
		for j, key := range names {
			if i+j == keys-tailKeys {
				r.InsertTail -= time.Since(start)
			}
			use(key)
		}
		took := time.Since(start)
		r.Insert += took
		if i+len(names) > keys-tailKeys {
			r.InsertTail += took
		}
	}
	names = nil
	r.Held, r.Evicted = held(), evict()
	readMem(1)

	start := time.Now()
	r.Swept = sweep(t0.Add(2 * time.Hour))
	r.Sweep = time.Since(start)
	r.HeldAfter = held()
	readMem(2)
	debug.FreeOSMemory()
	r.RSSFreed = rss()
	runtime.KeepAlive(use)
	return r
}

// apiKey is the i-th distinct key, shaped like an Authorization header.
func apiKey(i int) string {
	b := make([]byte, 0, 40)
	b = append(b, "Bearer sk-proj-"...)
	b = strconv.AppendInt(b, 1_000_000_000_000+int64(i), 10)
	return string(b)
}

// rateMemoryReport renders the runs: time per key, keys held, and the
// heap they take, before and after the sweep.
func rateMemoryReport(rs []rateMemResult) string {
	var rows [][]string
	for _, r := range rs {
		grow := func(v [3]uint64, i int) float64 { return float64(v[i]) - float64(v[0]) }
		perKey := "–"
		if r.Held > 0 {
			perKey = fmt.Sprintf("%.1f", grow(r.HeapInuse, 1)/float64(r.Held))
		}
		rows = append(rows, []string{
			r.Kind,
			strconv.Itoa(r.MaxKeys),
			strconv.Itoa(r.Fed),
			fmt.Sprintf("%.0f", float64(r.Insert.Nanoseconds())/float64(r.Fed)),
			fmt.Sprintf("%.0f", float64(r.InsertTail.Nanoseconds())/tailKeys),
			strconv.Itoa(r.Held),
			strconv.FormatInt(r.Evicted, 10),
			fmtMiB(grow(r.HeapInuse, 1)),
			perKey,
			fmtMiB(grow(r.RSS, 1)),
			strconv.Itoa(r.Swept),
			fmt.Sprintf("%.1f", float64(r.Sweep.Microseconds())/1000),
			strconv.Itoa(r.HeldAfter),
			fmtMiB(grow(r.HeapInuse, 2)),
			fmtMiB(float64(r.RSSFreed) - float64(r.RSS[0])),
		})
	}
	return "\n" + markdownTable([]string{
		"limiter", "max_keys", "keys fed", "ns/key", "ns/key, last 100k", "Keys()", "evicted",
		"Δ HeapInuse MiB", "B/key held", "Δ RSS MiB",
		"swept at +2h", "sweep ms", "Keys() after", "Δ HeapInuse after sweep MiB", "Δ RSS after sweep+free MiB",
	}, rows)
}
