package cache

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"sync/atomic"
	"time"

	"github.com/allegro/bigcache/v3"
)

// StoreConfig sizes a Store.
type StoreConfig struct {
	TTL           time.Duration // how long an entry is served
	StaleFor      time.Duration // how long past TTL an entry is kept to stand in for an error (0: not kept)
	MaxBytes      int64         // memory bound of all entries, rounded down to whole MiB (at least 1 MiB)
	MaxEntryBytes int           // larger entries are not stored
}

// ErrEntryTooLarge is returned by Set for an entry over MaxEntryBytes.
var ErrEntryTooLarge = errors.New("cache entry too large")

const mib = 1 << 20

// Store keeps encoded entries in bigcache: a fixed memory budget with no
// per-entry pointers for the GC to scan, evicting the oldest entries when full.
type Store struct {
	cfg StoreConfig
	bc  *bigcache.BigCache

	expired, evicted atomic.Int64
}

// NewStore returns an empty store. Close it to stop its cleanup goroutine.
func NewStore(cfg StoreConfig) (*Store, error) {
	if cfg.TTL <= 0 {
		return nil, fmt.Errorf("ttl must be positive, got %v", cfg.TTL)
	}
	maxMiB := int(cfg.MaxBytes / mib)
	if maxMiB < 1 {
		return nil, fmt.Errorf("max size must be at least 1MiB, got %d bytes", cfg.MaxBytes)
	}
	shards := shardCount(int64(maxMiB)*mib, cfg.MaxEntryBytes)
	if cfg.MaxEntryBytes <= 0 || int64(cfg.MaxEntryBytes) > int64(maxMiB)*mib/int64(shards)/2 {
		return nil, fmt.Errorf("max entry size %d must be positive and at most %d bytes for a %d MiB cache",
			cfg.MaxEntryBytes, int64(maxMiB)*mib/int64(shards)/2, maxMiB)
	}
	s := &Store{cfg: cfg}
	clean := min(max(cfg.TTL, time.Second), time.Minute)
	bc, err := bigcache.New(context.Background(), bigcache.Config{
		Shards:             shards,
		LifeWindow:         cfg.TTL + cfg.StaleFor,
		CleanWindow:        clean,
		MaxEntriesInWindow: shards * 16, // only sizes the first allocation; shards grow on demand
		MaxEntrySize:       1024,
		HardMaxCacheSize:   maxMiB,
		Hasher:             keyHasher{},
		OnRemoveWithReason: s.onRemove,
	})
	if err != nil {
		return nil, err
	}
	s.bc = bc
	return s, nil
}

// shardCount picks the largest power of two up to 256 that leaves every
// shard room for at least four of the largest entries.
func shardCount(maxBytes int64, maxEntry int) int {
	n := 256
	for n > 1 && maxBytes/int64(n) < 4*int64(max(maxEntry, 1)) {
		n /= 2
	}
	return n
}

func (s *Store) onRemove(_ string, _ []byte, reason bigcache.RemoveReason) {
	switch reason {
	case bigcache.Expired:
		s.expired.Add(1)
	case bigcache.NoSpace:
		s.evicted.Add(1)
	}
}

// Config returns the configuration the store was built with.
func (s *Store) Config() StoreConfig { return s.cfg }

// Get returns the entry stored under key if it is younger than the TTL
// (fresh), or past it but within StaleFor (stale: fresh is false).
func (s *Store) Get(key string, now time.Time) (e *Entry, fresh, ok bool) {
	raw, err := s.bc.Get(key)
	if err != nil {
		return nil, false, false
	}
	e = new(Entry)
	if e.UnmarshalBinary(raw) != nil {
		return nil, false, false
	}
	age := e.Age(now)
	if age >= s.cfg.TTL+s.cfg.StaleFor {
		return nil, false, false
	}
	return e, age < s.cfg.TTL, true
}

// Set stores e under key.
func (s *Store) Set(key string, e *Entry) error {
	raw, _ := e.MarshalBinary()
	if len(raw) > s.cfg.MaxEntryBytes {
		return ErrEntryTooLarge
	}
	return s.bc.Set(key, raw)
}

// Len is the number of entries held, expired ones not yet cleaned included.
func (s *Store) Len() int { return s.bc.Len() }

// Bytes is the memory the store's buffers hold now; it never exceeds MaxBytes.
func (s *Store) Bytes() int64 { return int64(s.bc.Capacity()) }

// Evictions counts entries removed for age and for lack of space.
func (s *Store) Evictions() (expired, noSpace int64) { return s.expired.Load(), s.evicted.Load() }

// Purge removes every entry and returns how many there were.
func (s *Store) Purge() (int, error) {
	n := s.bc.Len()
	return n, s.bc.Reset()
}

// PurgeTenant removes every entry of the tenant with the given id (see
// TenantID) and returns how many it removed. It reads every entry's
// tenant: an operator's action, not a request's.
func (s *Store) PurgeTenant(tenant string) int {
	if tenant == "" {
		return 0
	}
	var keys []string
	it := s.bc.Iterator()
	for it.SetNext() {
		info, err := it.Value()
		if err != nil {
			continue
		}
		if t, ok := EntryTenant(info.Value()); ok && t == tenant {
			keys = append(keys, info.Key())
		}
	}
	n := 0
	for _, k := range keys {
		if s.bc.Delete(k) == nil {
			n++
		}
	}
	return n
}

// Delete removes the entry under key, if any.
func (s *Store) Delete(key string) { _ = s.bc.Delete(key) }

// Close releases the store.
func (s *Store) Close() error { return s.bc.Close() }

// keyHasher uses the first eight bytes of a key that is already a SHA-256
// sum (see Key) and falls back to FNV-1a for any other key.
type keyHasher struct{}

func (keyHasher) Sum64(key string) uint64 {
	if len(key) == 32 {
		return binary.LittleEndian.Uint64([]byte(key[:8]))
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	return h.Sum64()
}
