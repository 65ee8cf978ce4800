package cache

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
)

func TestGroupCoalesces(t *testing.T) {
	var g Group
	var leaders atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	results := make(chan *Entry, 10)
	flight, leader := g.Join("k")
	if !leader {
		t.Fatal("first caller is not the leader")
	}
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			f, lead := g.Join("k")
			if lead {
				leaders.Add(1)
				g.Finish("k", f, nil)
				return
			}
			e, err := f.Wait(context.Background())
			if err != nil {
				t.Error(err)
			}
			results <- e
		}()
	}
	close(start)
	want := &Entry{Status: 200}
	// Callers that join after Finish lead a flight of their own; every one
	// that joined before gets the leader's answer.
	g.Finish("k", flight, want)
	wg.Wait()
	close(results)
	for e := range results {
		if e != want {
			t.Errorf("follower got %v", e)
		}
	}
	if f, lead := g.Join("k"); !lead {
		t.Error("a finished flight is still joinable")
	} else {
		g.Finish("k", f, nil)
	}
}

func TestFlightWaitHonoursContext(t *testing.T) {
	var g Group
	f, _ := g.Join("k")
	f2, leader := g.Join("k")
	if leader || f2 != f {
		t.Fatal("second caller did not join the flight")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f2.Wait(ctx); err == nil {
		t.Error("Wait ignored a cancelled context")
	}
	g.Finish("k", f, nil)
}
