package caddymodule

import (
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/ragproxy/ragproxy/cache"
	"github.com/ragproxy/ragproxy/cache/rediscache"
	"github.com/ragproxy/ragproxy/redisconn"
)

// stores holds every cache store by name and settings, reference counted
// across config loads: a reload that keeps a cache's settings keeps its
// entries; one that changes them starts a new, empty store.
var stores = newPool("cache store", (*sharedStore).close)

// sharedStore is a store with the flights of misses in progress on it,
// and the Redis behind it, if any.
type sharedStore struct {
	name string
	*cache.Store
	flights cache.Group
	redis   *rediscache.Store // nil: this instance's memory only
	conn    *redisconn.Conn
	// redisPrefix is the prefix of its keys in Redis
	redisPrefix string
}

// redisSettings are a cache's Redis options.
type redisSettings struct {
	url      string
	timeout  time.Duration
	prefix   string
	maxEntry int
}

// close frees the store when its last user lets go.
func (s *sharedStore) close() error {
	if s.redis != nil {
		s.redis.Close()
		s.conn.Close()
	}
	return s.Close()
}

func acquireStore(name string, cfg cache.StoreConfig, shared *redisSettings) (*sharedStore, string, error) {
	key := fmt.Sprintf("%s\x00%d\x00%d\x00%d\x00%d", name, cfg.TTL, cfg.StaleFor, cfg.MaxBytes, cfg.MaxEntryBytes)
	if shared != nil {
		key += fmt.Sprintf("\x00%s\x00%d\x00%s\x00%d", shared.url, shared.timeout, shared.prefix, shared.maxEntry)
	}
	s, _, err := stores.acquire(key, func() (*sharedStore, error) {
		s, err := cache.NewStore(cfg)
		if err != nil {
			return nil, err
		}
		ss := &sharedStore{name: name, Store: s}
		if shared != nil {
			if err := ss.connect(shared); err != nil {
				s.Close()
				return nil, err
			}
		}
		return ss, nil
	})
	if err != nil {
		return nil, "", err
	}
	return s, key, nil
}

// connect puts Redis behind the store: purges other instances announce
// empty this store's memory.
func (s *sharedStore) connect(rs *redisSettings) error {
	log := caddy.Log().Named("rag.cache").With(zap.String("cache", s.name))
	conn, err := redisconn.New(rs.url, rs.timeout, func(addr string, up bool) {
		if up {
			log.Warn("redis is back: the cache is shared again", zap.String("redis", addr))
		} else {
			log.Error("redis unreachable: the cache serves from this instance's memory only", zap.String("redis", addr))
		}
	})
	if err != nil {
		return err
	}
	m := newCacheRedisMetrics(s.name)
	r, err := rediscache.New(conn, rediscache.Config{
		Prefix:        rs.prefix,
		Cache:         s.name,
		MaxEntryBytes: rs.maxEntry,
		Observe:       m.observe,
		OnPurge: func(tenant string) {
			if tenant == "" {
				_, _ = s.Purge()
			} else {
				s.PurgeTenant(tenant)
			}
		},
	})
	if err != nil {
		conn.Close()
		return err
	}
	s.redis, s.conn, s.redisPrefix = r, conn, rs.prefix
	return nil
}

// eachStore calls f for every live store.
func eachStore(f func(*sharedStore)) { stores.each(f) }

// semanticFeeds holds the feed that shares a semantic cache's questions
// through its exact cache's Redis, by both stores' pool keys.
var semanticFeeds = newPool("semantic feed", func(f *rediscache.Feed) error { f.Close(); return nil })

// acquireFeed shares sc's new questions with the instances behind the
// same Redis, and adds theirs to sc's index.
func acquireFeed(storeKey string, s *sharedStore, sc *SemanticCache, ttl time.Duration) (*rediscache.Feed, string, error) {
	key := storeKey + "\x00" + sc.poolKey
	idx := sc.store
	f, _, err := semanticFeeds.acquire(key, func() (*rediscache.Feed, error) {
		return rediscache.NewFeed(s.conn, rediscache.FeedConfig{
			Prefix:     s.redisPrefix,
			Cache:      s.name,
			Embedder:   idx.identity,
			MaxLen:     int64(sc.MaxEntries),
			TTL:        ttl,
			OnQuestion: func(q rediscache.Question) { idx.Add(q.Scope, q.Query, q.Vec, q.Key, q.At) },
		})
	})
	if err != nil {
		return nil, "", err
	}
	return f, key, nil
}
