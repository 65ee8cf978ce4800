package split

import (
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestConcurrentUse hammers every entry point at once; run it with -race.
func TestConcurrentUse(t *testing.T) {
	e := NewExperiment("race")
	names := []string{"control", "a", "b"}
	e.SetVariants(names)
	a, err := NewAssigner("race", []Variant{{"control", 2}, {"a", 1}, {"b", 1}})
	if err != nil {
		t.Fatal(err)
	}
	stats := make([]*VariantStats, len(names))
	for i, n := range names {
		stats[i] = e.Variant(n)
	}

	const workers, iterations = 8, 2000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range iterations {
				id := strconv.Itoa(w) + "-" + strconv.Itoa(i)
				idx := a.Sticky(id)
				if i%3 == 0 {
					idx = a.Random()
				}
				stats[idx].Record(Outcome{Latency: time.Duration(i) * time.Microsecond, Error: i%7 == 0, CacheStatus: "MISS", Tokens: int64(i)})
				e.Remember(id, names[idx], t0)
				if i%2 == 0 {
					score := float64(i % 2)
					if w%2 == 1 {
						score = float64(i % 5)
					}
					_, _ = e.Feedback(id, score, t0)
					_, _ = e.Feedback(id, 1, t0) // duplicate
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 200 {
			if _, err := json.Marshal(e.Report()); err != nil {
				t.Error(err)
				return
			}
			_ = stats[i%len(stats)].Snapshot()
			if i%50 == 0 {
				e.SetVariants(names[i%2:])
				e.SetMemory(1000+i, time.Hour)
				_ = e.Variant("late-" + strconv.Itoa(i))
			}
		}
	})
	wg.Wait()

	e.SetVariants(names)
	var total int64
	for _, v := range e.Report().Variants {
		total += v.Requests
		if v.Errors > v.Requests {
			t.Fatalf("%s: %d errors of %d requests", v.Name, v.Errors, v.Requests)
		}
	}
	if total != workers*iterations {
		t.Fatalf("recorded %d requests, want %d", total, workers*iterations)
	}
}
