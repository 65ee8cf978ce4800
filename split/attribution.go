package split

import (
	"errors"
	"hash/maphash"
	"math"
	"sync"
	"time"
)

// Feedback errors.
var (
	// ErrUnknownRequest means the request id was never remembered, has been
	// evicted to make room, or is older than the memory's TTL.
	ErrUnknownRequest = errors.New("split: unknown or expired request id")
	// ErrDuplicateFeedback means the request already has feedback; the
	// first score stands.
	ErrDuplicateFeedback = errors.New("split: request already has feedback")
	// ErrBadScore means the score is NaN, infinite, or larger in
	// magnitude than MaxScore.
	ErrBadScore = errors.New("split: feedback score must be a finite number between -1e15 and 1e15")
)

// Memory defaults: a day of feedback delay, and at most this many ids
// however busy the route (about 8 MB when full, whatever the ids' length).
const (
	DefaultMemoryRequests = 100_000
	DefaultMemoryTTL      = 24 * time.Hour
)

// Remember records that variant served requestID at now, so feedback on
// that request can be attributed later. Empty ids are ignored. Remembering
// an id again re-attributes it to the latest request and lets it be rated
// again, so requestID must be one the caller issued (unguessable and
// unique), never one a client chose: a client that can pick ids can score
// other clients' requests, or the same request over and over.
func (e *Experiment) Remember(requestID, variant string, now time.Time) {
	if requestID == "" {
		return
	}
	e.memory.remember(requestID, variant, now)
}

// Feedback attributes score to the variant that served requestID and
// returns that variant's name. Each request takes one score. A score that
// is NaN, infinite or beyond ±MaxScore is refused with ErrBadScore and
// does not use the request up.
func (e *Experiment) Feedback(requestID string, score float64, now time.Time) (variant string, err error) {
	if !(math.Abs(score) <= MaxScore) { // NaN fails every comparison
		return "", ErrBadScore
	}
	variant, err = e.memory.claim(requestID, now)
	if err != nil {
		return "", err
	}
	e.Variant(variant).feedback.add(score) // cannot refuse a score within MaxScore
	return variant, nil
}

// SetMemory bounds the request memory to maxRequests ids, each kept for at
// most ttl. Non-positive values select the defaults. Shrinking evicts the
// oldest ids at once.
func (e *Experiment) SetMemory(maxRequests int, ttl time.Duration) {
	if maxRequests <= 0 {
		maxRequests = DefaultMemoryRequests
	}
	if ttl <= 0 {
		ttl = DefaultMemoryTTL
	}
	e.memory.setLimits(maxRequests, ttl)
}

// memory is a bounded FIFO of recent request ids: a ring in arrival order,
// so the oldest id is always the next to go, plus a map for lookup. The
// ring grows on demand up to the limit, so idle experiments stay small.
//
// Ids are kept as 64-bit seeded hashes and variants as indexes, so neither
// the ring nor the map holds a pointer: the garbage collector, which would
// otherwise trace up to 100,000 id strings on every cycle, skips them, and
// the memory per id is fixed. Two ids share a hash with odds of about
// n²/2⁶⁵ (3·10⁻¹⁰ at 100,000 ids); the second then takes over the first's
// attribution, as a repeated id does.
type memory struct {
	mu       sync.Mutex
	limit    int
	ttl      time.Duration
	seed     maphash.Seed
	ring     []slot
	head     int // index of the oldest slot
	n        int // occupied slots
	seq      uint64
	byID     map[uint64]attribution
	variants []string // attribution.variant indexes this
}

// slot is one ring entry. seq tells an evicted slot whether the map entry
// for its id is still its own or belongs to a later request with the same id.
type slot struct {
	id  uint64 // the id's hash
	seq uint64
	at  int64 // unix nanoseconds
}

// attribution is what the memory knows about one request id.
type attribution struct {
	seq     uint64
	at      int64 // unix nanoseconds
	variant uint32
	rated   bool
}

// init sets the defaults.
func (m *memory) init() {
	m.limit = DefaultMemoryRequests
	m.ttl = DefaultMemoryTTL
	m.seed = maphash.MakeSeed()
	m.byID = make(map[uint64]attribution)
}

// variantIndex returns the index of name in m.variants, adding it if need
// be; the caller holds m.mu. An experiment has a handful of variants.
func (m *memory) variantIndex(name string) uint32 {
	for i, v := range m.variants {
		if v == name {
			return uint32(i)
		}
	}
	m.variants = append(m.variants, name)
	return uint32(len(m.variants) - 1)
}

// expired reports whether something remembered at at is too old by now.
func (m *memory) expired(at int64, now time.Time) bool {
	return now.UnixNano()-at > int64(m.ttl)
}

// remember adds id, evicting expired ids and, when full, the oldest one.
func (m *memory) remember(requestID, variant string, now time.Time) {
	id := maphash.String(m.seed, requestID)
	m.mu.Lock()
	defer m.mu.Unlock()
	for m.n > 0 && m.expired(m.ring[m.head].at, now) {
		m.pop()
	}
	if m.n == m.limit {
		m.pop()
	}
	if m.n == len(m.ring) {
		m.resize(min(max(16, 2*len(m.ring)), m.limit))
	}
	m.seq++
	at := now.UnixNano()
	m.ring[(m.head+m.n)%len(m.ring)] = slot{id: id, seq: m.seq, at: at}
	m.n++
	m.byID[id] = attribution{variant: m.variantIndex(variant), seq: m.seq, at: at}
}

// claim marks id as rated and returns its variant.
func (m *memory) claim(requestID string, now time.Time) (string, error) {
	id := maphash.String(m.seed, requestID)
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.byID[id]
	switch {
	case !ok || m.expired(a.at, now):
		return "", ErrUnknownRequest
	case a.rated:
		return "", ErrDuplicateFeedback
	}
	a.rated = true
	m.byID[id] = a
	return m.variants[a.variant], nil
}

// setLimits applies new bounds, evicting the oldest ids that no longer fit.
func (m *memory) setLimits(limit int, ttl time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.limit, m.ttl = limit, ttl
	for m.n > limit {
		m.pop()
	}
	if len(m.ring) > limit {
		m.resize(limit)
	}
}

// pop evicts the oldest slot.
func (m *memory) pop() {
	s := m.ring[m.head]
	if a, ok := m.byID[s.id]; ok && a.seq == s.seq {
		delete(m.byID, s.id)
	}
	m.head = (m.head + 1) % len(m.ring)
	m.n--
}

// resize moves the occupied slots, oldest first, into a ring of size c ≥ n.
func (m *memory) resize(c int) {
	ring := make([]slot, c)
	for i := 0; i < m.n; i++ {
		ring[i] = m.ring[(m.head+i)%len(m.ring)]
	}
	m.ring, m.head = ring, 0
}
