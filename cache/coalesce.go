package cache

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
)

// Group coalesces concurrent misses for the same key: the first caller (the
// leader) goes upstream, the others (followers) receive its answer as it
// arrives — a stream reaches every follower event by event — instead of
// sending the same request again.
type Group struct {
	mu      sync.Mutex
	flights map[string]*Flight
	waiting atomic.Int64
}

// Flight is one answer in progress: the leader writes it, followers tail it.
// It also records the answer (up to a limit) for the cache.
type Flight struct {
	group *Group // nil for a flight nobody can join
	key   string

	mu        sync.Mutex
	status    int
	header    http.Header
	vary      http.Header // the leader's values of the headers the answer's Vary names
	shareable bool
	body      Recording
	done      bool
	complete  bool
	followers int           // followers tailing right now
	changed   chan struct{} // closed and replaced on every change
}

// NewFlight returns a flight that records up to limit bytes and that no
// follower can join (for when coalescing is off).
func NewFlight(limit int) *Flight {
	return &Flight{body: Recording{limit: limit}, changed: make(chan struct{})}
}

// Join returns the flight in progress for key, or starts one that records
// up to limit bytes. The leader must call Finish exactly once, whatever
// happens to its request.
func (g *Group) Join(key string, limit int) (f *Flight, leader bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f, ok := g.flights[key]; ok {
		return f, false
	}
	if g.flights == nil {
		g.flights = make(map[string]*Flight)
	}
	f = NewFlight(limit)
	f.group, f.key = g, key
	g.flights[key] = f
	return f, true
}

// Waiting is how many followers are waiting on a leader right now.
func (g *Group) Waiting() int64 { return g.waiting.Load() }

// broadcast wakes every follower; the caller holds f.mu.
func (f *Flight) broadcast() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// WriteHeader records the answer's status and headers (leader side).
// vary holds the leader's request values of the headers the answer's Vary
// names (see RequestVary): a follower whose request differs in one goes
// upstream itself. shareable says whether followers may receive this
// answer at all; if not, they go upstream themselves.
func (f *Flight) WriteHeader(status int, header, vary http.Header, shareable bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.header, f.vary, f.shareable = status, header, vary, shareable
	f.broadcast()
}

// Write records body bytes (leader side). It never fails.
func (f *Flight) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.body.Write(p)
	f.broadcast()
	return len(p), nil
}

// Finish ends the flight (leader side); complete says the whole answer was
// delivered. Followers still tailing get the rest, or learn that it broke.
func (f *Flight) Finish(complete bool) {
	if f.group != nil {
		f.group.mu.Lock()
		if f.group.flights[f.key] == f {
			delete(f.group.flights, f.key)
		}
		f.group.mu.Unlock()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.done, f.complete = true, complete
	f.broadcast()
}

// Recorded returns the status, headers and body recorded so far, and
// whether the body outgrew the limit (and so was dropped).
func (f *Flight) Recorded() (status int, header http.Header, body []byte, overflowed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status, f.header, f.body.Bytes(), f.body.Overflowed()
}

// Errors of Follow.
var (
	// ErrNotShared: the leader's answer cannot be shared (an error status,
	// no-store, too large); the follower should ask upstream itself. Nothing
	// was written.
	ErrNotShared = errors.New("answer not shared")
	// ErrBroken: the leader's answer broke after the follower had started
	// writing it; the follower's answer must be aborted too.
	ErrBroken = errors.New("shared answer broke")
)

// Follow tails the leader's answer (follower side): start is called once
// with the status and headers, write with each new piece of the body as it
// arrives. It returns nil once the whole answer was passed on, and
// ErrNotShared (having written nothing) when the answer may not go to
// this follower, e.g. because its request header req differs from the
// leader's in a header the answer's Vary names.
func (f *Flight) Follow(ctx context.Context, req http.Header, start func(status int, header http.Header), write func([]byte) error) error {
	if f.group != nil {
		f.group.waiting.Add(1)
		defer f.group.waiting.Add(-1)
	}
	f.mu.Lock()
	f.followers++
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.followers--
		f.broadcast()
		f.mu.Unlock()
	}()
	started := false
	sent := 0
	for {
		f.mu.Lock()
		status, header, vary, shareable := f.status, f.header, f.vary, f.shareable
		overflow, done, complete := f.body.Overflowed(), f.done, f.complete
		chunk := f.body.Bytes()[min(sent, len(f.body.Bytes())):]
		changed := f.changed
		f.mu.Unlock()

		switch {
		case !started && (done && (status == 0 || !complete) || status != 0 && !shareable || overflow):
			return ErrNotShared
		case !started && status != 0 && len(vary) > 0 && !VaryMatches(vary, req):
			return ErrNotShared
		case started && overflow:
			return ErrBroken
		}
		if status != 0 && !started {
			start(status, header)
			started = true
		}
		if started && len(chunk) > 0 {
			if err := write(chunk); err != nil {
				return err
			}
			sent += len(chunk)
			continue // more may have arrived while writing
		}
		if done {
			if !complete {
				if started {
					return ErrBroken
				}
				return ErrNotShared
			}
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Detach returns the context for the leader's upstream call. It does not
// end when the leader's own client goes away while followers are still
// tailing the answer (a client that gives up and retries is a follower of
// its own first attempt): only once clientCtx is done and no follower is
// left, or when stop is called.
func (f *Flight) Detach(clientCtx context.Context) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(clientCtx))
	go func() {
		select {
		case <-ctx.Done():
			return
		case <-clientCtx.Done():
		}
		for {
			f.mu.Lock()
			left, changed := f.followers, f.changed
			f.mu.Unlock()
			if left == 0 {
				cancel()
				return
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ctx, cancel
}
