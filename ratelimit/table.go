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
	mu sync.Mutex
	m  map[uint64]V
	_  [48]byte // keep hot shard locks on separate cache lines
}

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
// first sweeps the shard's idle keys, then drops a live one if it must.
func (t *table[V]) put(s *shard[V], h uint64, v V, now int64) {
	if _, ok := s.m[h]; !ok && len(s.m) >= t.maxPerShard {
		for k, old := range s.m {
			if t.idle(old, now) {
				delete(s.m, k)
			}
		}
		for k := range s.m {
			if len(s.m) < t.maxPerShard {
				break
			}
			delete(s.m, k) // map order is random: a random live key
			t.evicted.Add(1)
		}
	}
	s.m[h] = v
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
		s.mu.Unlock()
	}
	return n
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
