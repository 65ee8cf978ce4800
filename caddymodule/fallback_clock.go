package caddymodule

import (
	"context"
	"sync"
	"time"
)

// tierClock enforces a tier's timeout on the tier's own time. Time the
// answer spends blocked writing or flushing to the client is paused out:
// a client that reads slowly holds the answer up, but it is not the
// upstream being slow, so it must neither cut the answer nor count as an
// upstream failure. The timer is re-armed lazily: a write that blocks
// past the deadline costs one wake-up, and the rest of the budget is
// checked when the write returns.
type tierClock struct {
	limit  time.Duration
	cancel context.CancelCauseFunc
	timer  *time.Timer

	mu      sync.Mutex
	start   time.Time
	waited  time.Duration // spent in client writes that have returned
	writing int           // client writes in progress
	since   time.Time     // when the outermost client write in progress began
	armed   bool          // the timer will fire
	stopped bool
}

// startTierClock starts the clock; when the tier's own time passes limit
// it cancels the try with errTierTimeout.
func startTierClock(limit time.Duration, cancel context.CancelCauseFunc) *tierClock {
	c := &tierClock{limit: limit, cancel: cancel, start: time.Now(), armed: true}
	c.timer = time.AfterFunc(limit, c.fire)
	return c
}

// used is the tier's own time so far; c.mu is held.
func (c *tierClock) used(now time.Time) time.Duration {
	u := now.Sub(c.start) - c.waited
	if c.writing > 0 {
		u -= now.Sub(c.since)
	}
	return u
}

func (c *tierClock) fire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.armed = false
	if c.stopped || c.writing > 0 { // resume checks the budget when the write returns
		return
	}
	c.check(time.Now())
}

// check cancels the try if its budget is spent, or re-arms the timer for
// what is left; c.mu is held and the timer is not armed.
func (c *tierClock) check(now time.Time) {
	if left := c.limit - c.used(now); left > 0 {
		c.timer.Reset(left)
		c.armed = true
		return
	}
	c.cancel(errTierTimeout)
}

// pause marks the start of a write or flush to the client.
func (c *tierClock) pause() {
	if c == nil {
		return
	}
	c.mu.Lock()
	if c.writing == 0 {
		c.since = time.Now()
	}
	c.writing++
	c.mu.Unlock()
}

// resume marks the end of a write or flush to the client.
func (c *tierClock) resume() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.writing--; c.writing > 0 {
		return
	}
	now := time.Now()
	c.waited += now.Sub(c.since)
	if !c.armed && !c.stopped {
		c.check(now)
	}
}

// stop ends the clock when the try is over.
func (c *tierClock) stop() {
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
	c.timer.Stop()
}
