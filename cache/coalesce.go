package cache

import (
	"context"
	"sync"
	"sync/atomic"
)

// Group coalesces concurrent misses for the same key: the first caller (the
// leader) goes upstream, the others wait for its answer instead of sending
// the same request again.
type Group struct {
	mu      sync.Mutex
	flights map[string]*Flight
	waiting atomic.Int64
}

// Flight is one upstream call that followers are waiting on.
type Flight struct {
	group  *Group
	done   chan struct{}
	result *Entry
}

// Join returns the flight in progress for key, or starts one. The leader
// must call Finish exactly once, whatever happens to its request.
func (g *Group) Join(key string) (f *Flight, leader bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f, ok := g.flights[key]; ok {
		return f, false
	}
	if g.flights == nil {
		g.flights = make(map[string]*Flight)
	}
	f = &Flight{group: g, done: make(chan struct{})}
	g.flights[key] = f
	return f, true
}

// Finish publishes the leader's answer to the followers and ends the
// flight. A nil result tells followers to go upstream themselves (the
// answer was an error, too large or broken).
func (g *Group) Finish(key string, f *Flight, result *Entry) {
	g.mu.Lock()
	if g.flights[key] == f {
		delete(g.flights, key)
	}
	g.mu.Unlock()
	f.result = result
	close(f.done)
}

// Wait blocks until the leader finishes or ctx is done, and returns the
// leader's answer (nil if there is none to share).
func (f *Flight) Wait(ctx context.Context) (*Entry, error) {
	f.group.waiting.Add(1)
	defer f.group.waiting.Add(-1)
	select {
	case <-f.done:
		return f.result, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Waiting is how many callers are waiting on a leader right now.
func (g *Group) Waiting() int64 { return g.waiting.Load() }
