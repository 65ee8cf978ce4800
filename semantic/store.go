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
	TTL        time.Duration // how long an entry can match
}

// Match is a cached question close enough to a new one.
type Match struct {
	Key   string  // the exact cache key of the cached answer
	Query string  // the cached question
	Score float32 // cosine similarity
	// Vetoed names the guard that refused a cached question similar
	// enough to match, when one did (the lookup is then a miss).
	Vetoed Guard
}

// Store maps questions to exact cache keys by meaning, inside scopes: a
// scope is everything about a request but its question (tenant, model,
// system prompt, tools, parameters), so a match only ever compares
// questions asked in the same way. The answers stay in the exact cache.
type Store struct {
	cfg StoreConfig

	mu      sync.Mutex
	scopes  map[string]*Index
	entries map[uint64]entry
	order   []uint64 // ids oldest first, for the global bound; may hold ids already gone
	nextID  atomic.Uint64
}

type entry struct {
	scope, query, key string
	facts             guardFacts // the query's, for the guards
	added             time.Time
}

// NewStore returns an empty store.
func NewStore(cfg StoreConfig) *Store {
	return &Store{cfg: cfg, scopes: map[string]*Index{}, entries: map[uint64]entry{}}
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
	ix := s.scopes[scope]
	dim := s.cfg.Dim
	s.mu.Unlock()
	if ix == nil || len(vec) != dim {
		return Match{}, 0, false
	}
	id, score, found := ix.SearchAtLeast(vec, threshold, now)
	if !found {
		return Match{}, 0, false
	}
	s.mu.Lock()
	e, live := s.entries[id]
	s.mu.Unlock()
	if !live || score < threshold {
		return Match{}, score, false
	}
	if g := guardAnalyze(query).veto(e.facts); g != GuardNone {
		return Match{Vetoed: g}, score, false
	}
	return Match{Key: e.key, Query: e.query, Score: score}, score, true
}

// Add remembers that query, in scope, is answered by the exact cache entry
// under key.
func (s *Store) Add(scope, query string, vec []float32, key string, now time.Time) {
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
		ix = NewIndex(s.cfg.Dim, s.cfg.MaxEntries, s.cfg.TTL)
		s.scopes[scope] = ix
	}
	ix.Add(id, vec, now)
	s.entries[id] = entry{scope: scope, query: query, key: key, facts: guardAnalyze(query), added: now}
	s.order = append(s.order, id)
	for len(s.entries) > s.cfg.MaxEntries && len(s.order) > 0 {
		s.removeLocked(s.order[0])
		s.order = s.order[1:]
	}
	if len(s.order) > 2*s.cfg.MaxEntries+64 { // ids removed elsewhere pile up: compact
		live := s.order[:0]
		for _, id := range s.order {
			if _, ok := s.entries[id]; ok {
				live = append(live, id)
			}
		}
		s.order = live
	}
}

func (s *Store) removeLocked(id uint64) {
	e, ok := s.entries[id]
	if !ok {
		return
	}
	delete(s.entries, id)
	if ix := s.scopes[e.scope]; ix != nil {
		ix.Remove(id)
		if ix.Len() == 0 {
			delete(s.scopes, e.scope)
		}
	}
}

// Sweep drops expired entries. Every entry lives the same TTL, so the
// oldest-first order is also the order they expire in.
func (s *Store) Sweep(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.order) > 0 {
		id := s.order[0]
		if e, ok := s.entries[id]; ok && now.Sub(e.added) < s.cfg.TTL {
			return
		}
		s.removeLocked(id)
		s.order = s.order[1:]
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
	s.entries = map[uint64]entry{}
	s.order = nil
}
