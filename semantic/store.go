package semantic

import (
	"sync"
	"sync/atomic"
	"time"
)

// StoreConfig tunes a Store.
type StoreConfig struct {
	Dim        int           // vector length; 0 takes the length of the first vector added
	MaxEntries int           // bound over all scopes; the oldest entries go first
	TTL        time.Duration // how long an entry can match; 0: no expiry
}

// Match is a cached question close enough to a new one.
type Match struct {
	Key   string  // the exact cache key of the cached answer
	Query string  // the cached question
	Score float32 // cosine similarity
	// Vetoed names the guard that refused a cached question similar
	// enough to match, when one did (the lookup is then a miss).
	Vetoed Guard
	// Place is where the question belongs in its scope's index, for an
	// AddPlaced of it after a miss.
	Place Placement
}

// Store maps questions to exact cache keys by meaning, inside scopes: a
// scope is everything about a request but its question (tenant, model,
// system prompt, tools, parameters), so a match only ever compares
// questions asked in the same way. The answers stay in the exact cache.
//
// The Store alone owns the age of its entries: a min-heap on the time an
// entry was added (ties: the order of the Adds) finds the oldest entry
// when the bound is reached and the expired ones; it removes them from
// their scope's Index, which knows nothing of time. Lookup drops the
// expired entries before it searches, and never matches one.
type Store struct {
	cfg StoreConfig

	mu      sync.Mutex
	scopes  map[string]*Index
	entries map[uint64]*entry
	age     []aged // min-heap: every entry, oldest first
	nextID  atomic.Uint64
}

// aged is an entry in the age heap: its Add time and id (ids grow with
// every Add, so they order Adds of the same time).
type aged struct {
	at int64 // UnixNano
	id uint64
}

type entry struct {
	scope, query, key string
	added             time.Time
	// facts are the query's, for the guards: analysed the first time a
	// lookup comes near it, not on Add, since most cached questions are
	// never near another (a miss then pays for no analysis). Set under mu.
	facts *guardFacts
}

// NewStore returns an empty store.
func NewStore(cfg StoreConfig) *Store {
	return &Store{cfg: cfg, scopes: map[string]*Index{}, entries: map[uint64]*entry{}}
}

// Config returns the store's configuration.
func (s *Store) Config() StoreConfig {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// Lookup returns the cached question in scope most similar to query, if it
// reaches threshold and passes the guards (Veto); a match the guards
// refuse is returned with its Vetoed guard and ok false. best is the best
// similarity seen, hit or not, for the score histogram: the search scores
// only the cached questions whose sketch puts them near the threshold or
// above (Index.SearchAtLeast), so best is exact from well below the
// threshold up, and 0 when the scope is empty or holds nothing near.
func (s *Store) Lookup(scope, query string, vec []float32, threshold float32, now time.Time) (m Match, best float32, ok bool) {
	s.mu.Lock()
	s.sweepLocked(now)
	ix := s.scopes[scope]
	dim := s.cfg.Dim
	s.mu.Unlock()
	if ix == nil || len(vec) != dim {
		return Match{}, 0, false
	}
	id, score, found, place := ix.SearchPlaced(vec, threshold)
	if !found {
		return Match{Place: place}, 0, false
	}
	s.mu.Lock()
	e, live := s.entries[id]
	var facts *guardFacts
	if live {
		facts = e.facts
	}
	s.mu.Unlock()
	// An entry added, already expired, since the sweep above (a question
	// shared by another instance, stamped long ago) is not matched either.
	if !live || !s.fresh(e.added, now) || score < threshold {
		return Match{Place: place}, score, false
	}
	if facts == nil {
		f := guardAnalyze(e.query) // outside the lock; a racing lookup's copy is the same
		facts = &f
		s.mu.Lock()
		e.facts = facts
		s.mu.Unlock()
	}
	if g := guardAnalyze(query).veto(*facts); g != GuardNone {
		return Match{Vetoed: g, Place: place}, score, false
	}
	return Match{Key: e.key, Query: e.query, Score: score}, score, true
}

// Add remembers that query, in scope, is answered by the exact cache entry
// under key.
func (s *Store) Add(scope, query string, vec []float32, key string, now time.Time) {
	s.AddPlaced(scope, query, vec, key, now, Placement{})
}

// AddPlaced is Add for a question a Lookup just missed: place is its
// Match's.
func (s *Store) AddPlaced(scope, query string, vec []float32, key string, now time.Time, place Placement) {
	id := s.nextID.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.Dim == 0 {
		s.cfg.Dim = len(vec)
	}
	if len(vec) != s.cfg.Dim || len(vec) == 0 {
		return // an embedder that changed its vector length: not comparable
	}
	ix := s.scopes[scope]
	if ix == nil {
		ix = NewIndex(s.cfg.Dim)
		s.scopes[scope] = ix
	}
	ix.AddPlaced(id, vec, place)
	s.entries[id] = &entry{scope: scope, query: query, key: key, added: now}
	s.age = append(s.age, aged{at: now.UnixNano(), id: id})
	s.ageUp(len(s.age) - 1)
	for len(s.entries) > s.cfg.MaxEntries {
		s.removeOldestLocked()
	}
}

// fresh reports whether an entry added at added can still match at now.
func (s *Store) fresh(added, now time.Time) bool {
	return s.cfg.TTL <= 0 || now.Sub(added) < s.cfg.TTL
}

// removeOldestLocked drops the oldest entry.
func (s *Store) removeOldestLocked() {
	id := s.age[0].id
	last := len(s.age) - 1
	s.age[0] = s.age[last]
	s.age = s.age[:last]
	s.ageDown(0)
	e := s.entries[id]
	delete(s.entries, id)
	if ix := s.scopes[e.scope]; ix != nil {
		ix.Remove(id)
		if ix.Len() == 0 {
			delete(s.scopes, e.scope)
		}
	}
}

// Sweep drops the entries expired at now.
func (s *Store) Sweep(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
}

func (s *Store) sweepLocked(now time.Time) {
	if s.cfg.TTL <= 0 {
		return
	}
	for len(s.age) > 0 && !s.fresh(time.Unix(0, s.age[0].at), now) {
		s.removeOldestLocked()
	}
}

func (a aged) before(b aged) bool {
	return a.at < b.at || a.at == b.at && a.id < b.id
}

func (s *Store) ageUp(j int) {
	h := s.age
	for j > 0 {
		p := (j - 1) / 2
		if !h[j].before(h[p]) {
			return
		}
		h[j], h[p] = h[p], h[j]
		j = p
	}
}

func (s *Store) ageDown(j int) {
	h := s.age
	for {
		c := 2*j + 1
		if c >= len(h) {
			return
		}
		if r := c + 1; r < len(h) && h[r].before(h[c]) {
			c = r
		}
		if !h[c].before(h[j]) {
			return
		}
		h[j], h[c] = h[c], h[j]
		j = c
	}
}

// Stats is the store's size, for metrics and the admin API.
type Stats struct {
	Entries     int `json:"entries"`
	Scopes      int `json:"scopes"`
	MemoryBytes int `json:"memory_bytes"`
}

// Stats returns the store's size now.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Entries: len(s.entries), Scopes: len(s.scopes)}
	for _, ix := range s.scopes {
		st.MemoryBytes += ix.MemoryBytes()
	}
	return st
}

// Purge forgets everything.
func (s *Store) Purge() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scopes = map[string]*Index{}
	s.entries = map[uint64]*entry{}
	s.age = nil
}
