package ratelimit

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

const shardCount = 64

// table maps key hashes to per-key state with a bounded number of keys.
// Keys are stored as 64-bit seeded hashes, not strings: memory per key is
// small and fixed, and a collision (odds about n²/2⁶⁵) only shares a quota.
//
// Idle entries (a full bucket, a past window, nothing in flight) behave
// exactly like absent ones, so sweeping them changes no decision. Only when
// a shard is full of live keys is a live one dropped; it then starts over.
type table[V any] struct {
	seed        maphash.Seed
	idle        func(v V, now int64) bool
	maxPerShard int
	evicted     atomic.Int64
	shards      [shardCount]shard[V]
}

type shard[V any] struct {
	mu   sync.Mutex
	m    map[uint64]V
	peak int      // most keys m has held since it was made: Go maps never shrink
	_    [40]byte // keep hot shard locks on separate cache lines
}

// evictSample is how many entries a new key in a full shard looks at to
// find room: enough to find an idle one when a few percent are idle, few
// enough that a stream of new keys costs a bounded, small time under the
// shard lock. The periodic sweep removes every idle key in any case.
const evictSample = 16

func newTable[V any](maxKeys int, idle func(V, int64) bool) *table[V] {
	t := &table[V]{seed: maphash.MakeSeed(), idle: idle, maxPerShard: max(maxKeys/shardCount, 1)}
	for i := range t.shards {
		t.shards[i].m = make(map[uint64]V)
	}
	return t
}

// shard returns the locked-by-caller shard for key and the key's hash.
func (t *table[V]) shard(key string) (*shard[V], uint64) {
	h := maphash.String(t.seed, key)
	return &t.shards[h>>58], h
}

// put stores v for h; the caller holds s.mu. A new key in a full shard
// makes room among a few entries from a random starting point (map
// iteration order is random): it drops the idle ones among them, or else
// the first, a random live key, which then starts over.
func (t *table[V]) put(s *shard[V], h uint64, v V, now int64) {
	if _, ok := s.m[h]; !ok && len(s.m) >= t.maxPerShard {
		var first uint64
		seen := 0
		for k, old := range s.m {
			if seen == 0 {
				first = k
			}
			if t.idle(old, now) {
				delete(s.m, k)
			}
			if seen++; seen == evictSample {
				break
			}
		}
		if len(s.m) >= t.maxPerShard {
			delete(s.m, first)
			t.evicted.Add(1)
		}
	}
	s.m[h] = v
	s.peak = max(s.peak, len(s.m))
}

// sweep removes idle keys from every shard and returns how many it removed.
func (t *table[V]) sweep(now int64) int {
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for k, v := range s.m {
			if t.idle(v, now) {
				delete(s.m, k)
				n++
			}
		}
		s.shrink()
		s.mu.Unlock()
	}
	return n
}

// shrink copies m into a fresh map once it holds under a quarter of its
// peak: a map keeps the buckets of its largest size, so after a burst of
// keys is swept only a new map gives the memory back.
func (s *shard[V]) shrink() {
	if s.peak < 64 || len(s.m) >= s.peak/4 {
		return
	}
	m := make(map[uint64]V, len(s.m))
	for k, v := range s.m {
		m[k] = v
	}
	s.m, s.peak = m, len(m)
}

// len returns the number of keys held.
func (t *table[V]) len() int {
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
