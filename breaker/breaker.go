// Package breaker holds ragproxy's per-upstream circuit breakers and the
// policy that decides what counts as an upstream failure. It knows nothing
// of Caddy.
//
// go-resiliency's breaker was the starting point, but it uses one timeout
// both as the failure window and as the open time, lets every call through
// while half-open, cannot be forced open or closed by an operator, and only
// reports state changes when polled. Breaker keeps its model (closed, open,
// half-open; N failures open it, M successful probes close it) and adds
// those four things; retries use go-resiliency's retrier.
package breaker

import (
	"errors"
	"sync"
	"time"
)

// State of a breaker.
type State int

// Breaker states.
const (
	Closed State = iota
	HalfOpen
	Open
)

func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case HalfOpen:
		return "half-open"
	case Open:
		return "open"
	}
	return "unknown"
}

// Config tunes a breaker. Zero fields take the defaults.
type Config struct {
	Failures       int           // failures within Window that open the breaker (default 5)
	Window         time.Duration // how far back failures count (default 10s)
	Open           time.Duration // how long it stays open before probing (default 10s)
	HalfOpenProbes int           // requests let through at once while half-open (default 1)
	Successes      int           // successful probes in a row that close it (default 1)
}

func (c Config) withDefaults() Config {
	if c.Failures <= 0 {
		c.Failures = 5
	}
	if c.Window <= 0 {
		c.Window = 10 * time.Second
	}
	if c.Open <= 0 {
		c.Open = 10 * time.Second
	}
	if c.HalfOpenProbes <= 0 {
		c.HalfOpenProbes = 1
	}
	if c.Successes <= 0 {
		c.Successes = 1
	}
	return c
}

// ErrOpen is returned by Allow when the breaker lets no request through.
var ErrOpen = errors.New("circuit breaker is open")

// Outcome is what a request let through by Allow came to.
type Outcome int

// Outcomes reported to a breaker.
const (
	Success Outcome = iota
	Failure
	Ignored // neither: e.g. the client went away
)

// Breaker is a circuit breaker for one upstream. It is safe for concurrent use.
type Breaker struct {
	name     string
	onChange func(name string, from, to State)
	now      func() time.Time

	mu        sync.Mutex
	cfg       Config
	state     State
	forced    bool        // held open by an operator until closed or reset
	failures  []time.Time // ring of the latest cfg.Failures failure times
	next      int         // where the next failure goes in the ring
	openedAt  time.Time
	probes    int    // probes in flight while half-open
	probeGen  uint64 // counts half-open periods, so a late probe of an earlier one is ignored
	successes int    // successful probes in a row while half-open

	transitions [MaxTransitions]Transition // ring of the latest state changes
	tnext, tn   int                        // where the next goes, how many are kept
}

// MaxTransitions is how many of its latest state changes a breaker keeps
// for reports.
const MaxTransitions = 10

// Transition is a change of a breaker's state.
type Transition struct {
	Time time.Time `json:"time"`
	From string    `json:"from"`
	To   string    `json:"to"`
}

// New returns a closed breaker. onChange, if not nil, is called on every
// state change, with the breaker's lock held: keep it short.
func New(name string, cfg Config, onChange func(name string, from, to State)) *Breaker {
	b := &Breaker{name: name, onChange: onChange, now: time.Now}
	b.SetConfig(cfg)
	return b
}

// Name of the breaker.
func (b *Breaker) Name() string { return b.name }

// SetConfig changes the breaker's settings, keeping its state.
func (b *Breaker) SetConfig(cfg Config) {
	cfg = cfg.withDefaults()
	b.mu.Lock()
	defer b.mu.Unlock()
	if cfg.Failures != b.cfg.Failures {
		b.failures, b.next = make([]time.Time, cfg.Failures), 0
	}
	b.cfg = cfg
}

// Allow asks to send one request upstream. It returns ErrOpen, or a
// function that must be called once with the request's outcome.
func (b *Breaker) Allow() (done func(Outcome), err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advance()
	switch b.state {
	case Open:
		return nil, ErrOpen
	case HalfOpen:
		if b.probes >= b.cfg.HalfOpenProbes {
			return nil, ErrOpen
		}
		b.probes++
		return b.doneFunc(true, b.probeGen), nil
	}
	return b.doneFunc(false, 0), nil
}

func (b *Breaker) doneFunc(probe bool, gen uint64) func(Outcome) {
	var once sync.Once
	return func(o Outcome) { once.Do(func() { b.record(o, probe, gen) }) }
}

func (b *Breaker) record(o Outcome, probe bool, gen uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if probe {
		if gen != b.probeGen || b.state != HalfOpen { // the half-open period it probed is over
			return
		}
		b.probes--
		switch o {
		case Success:
			if b.successes++; b.successes >= b.cfg.Successes {
				b.setState(Closed)
			}
		case Failure:
			b.trip()
		}
		return
	}
	if o != Failure || b.state != Closed {
		return
	}
	now := b.now()
	b.failures[b.next] = now
	b.next = (b.next + 1) % len(b.failures)
	// the ring's oldest entry is the cfg.Failures-th latest failure
	if oldest := b.failures[b.next]; !oldest.IsZero() && now.Sub(oldest) <= b.cfg.Window {
		b.trip()
	}
}

// advance moves an open breaker to half-open once its open time is over.
func (b *Breaker) advance() {
	if b.state == Open && !b.forced && b.now().Sub(b.openedAt) >= b.cfg.Open {
		b.setStateAt(HalfOpen, b.openedAt.Add(b.cfg.Open)) // when it became half-open, not when asked
	}
}

func (b *Breaker) trip() {
	b.openedAt = b.now()
	b.setState(Open)
}

func (b *Breaker) setState(s State) { b.setStateAt(s, b.now()) }

// setStateAt changes the state, noting the change as made at t.
func (b *Breaker) setStateAt(s State, t time.Time) {
	from := b.state
	b.state = s
	b.successes = 0
	if s == HalfOpen {
		b.probeGen++
		b.probes = 0
	}
	if s == Closed {
		clear(b.failures)
		b.next = 0
	}
	if from == s {
		return
	}
	b.transitions[b.tnext] = Transition{Time: t, From: from.String(), To: s.String()}
	b.tnext = (b.tnext + 1) % MaxTransitions
	b.tn = min(b.tn+1, MaxTransitions)
	if b.onChange != nil {
		b.onChange(b.name, from, s)
	}
}

// State returns the breaker's current state.
func (b *Breaker) State() State {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advance()
	return b.state
}

// ForceOpen holds the breaker open until Close or Reset.
func (b *Breaker) ForceOpen() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.forced = true
	b.trip()
}

// Close closes the breaker and forgets recent failures (an operator's
// "close" and "reset" both come here).
func (b *Breaker) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.forced = false
	b.setState(Closed)
}

// Snapshot is a breaker's state for reports.
type Snapshot struct {
	Name           string    `json:"name"`
	State          string    `json:"state"`
	Forced         bool      `json:"forced_open,omitempty"`
	RecentFailures int       `json:"recent_failures"`
	OpenedAt       time.Time `json:"opened_at,omitzero"`
	// The latest state changes (at most MaxTransitions), newest first.
	Transitions []Transition `json:"transitions"`
	Config      Config       `json:"-"`
}

// Snapshot returns the breaker's state now.
func (b *Breaker) Snapshot() Snapshot {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advance()
	s := Snapshot{Name: b.name, State: b.state.String(), Forced: b.forced, Config: b.cfg}
	now := b.now()
	for _, t := range b.failures {
		if !t.IsZero() && now.Sub(t) <= b.cfg.Window {
			s.RecentFailures++
		}
	}
	if b.state != Closed {
		s.OpenedAt = b.openedAt
	}
	s.Transitions = make([]Transition, 0, b.tn)
	for i := 1; i <= b.tn; i++ {
		s.Transitions = append(s.Transitions, b.transitions[(b.tnext-i+MaxTransitions)%MaxTransitions])
	}
	return s
}
