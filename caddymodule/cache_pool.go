package caddymodule

import (
	"fmt"

	"github.com/ragproxy/ragproxy/cache"
)

// stores holds every cache store by name and settings, reference counted
// across config loads: a reload that keeps a cache's settings keeps its
// entries; one that changes them starts a new, empty store.
var stores = newPool("cache store", (*sharedStore).close)

// sharedStore is a store with the flights of misses in progress on it.
type sharedStore struct {
	name string
	*cache.Store
	flights cache.Group
}

// close frees the store when its last user lets go.
func (s *sharedStore) close() error { return s.Close() }

func acquireStore(name string, cfg cache.StoreConfig) (*sharedStore, string, error) {
	key := fmt.Sprintf("%s\x00%d\x00%d\x00%d\x00%d", name, cfg.TTL, cfg.StaleFor, cfg.MaxBytes, cfg.MaxEntryBytes)
	s, _, err := stores.acquire(key, func() (*sharedStore, error) {
		s, err := cache.NewStore(cfg)
		if err != nil {
			return nil, err
		}
		return &sharedStore{name: name, Store: s}, nil
	})
	if err != nil {
		return nil, "", err
	}
	return s, key, nil
}

// eachStore calls f for every live store.
func eachStore(f func(*sharedStore)) { stores.each(f) }
