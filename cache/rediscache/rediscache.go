// Package rediscache shares a cache's entries between ragproxy instances
// through Redis, behind each instance's in-memory store: entries are
// written through asynchronously (a bounded queue; a full queue drops the
// write, never blocks a request), read on an in-memory miss with every call
// bounded by the connection's timeout, and purges reach every instance by
// pub/sub. A Redis that is slow or down costs a request at most one
// timeout, and after a failure none for a second (redisconn's breaker). It
// knows nothing of Caddy.
//
// Writes go out in order, in pipelined batches of up to 64, so a lease's
// release (see Lease) lands after the entry queued before it.
package rediscache

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ragproxy/ragproxy/cache"
	"github.com/ragproxy/ragproxy/redisconn"
)

// Defaults of a Config.
const (
	DefaultPrefix    = "ragproxy:"
	DefaultQueueSize = 1024
)

// Config says where a cache's entries live in Redis.
type Config struct {
	Prefix        string // before every key and channel (default DefaultPrefix)
	Cache         string // the cache's name: letters, digits, '_', '-', '.'
	MaxEntryBytes int    // larger encoded entries are not written (0: no bound)
	QueueSize     int    // writes waiting for Redis; more are dropped (default DefaultQueueSize)
	// Observe, if not nil, is told of every Redis call made: op is "get",
	// "set", "purge", "publish" or "lease"; err is nil on success. Calls not made
	// while the breaker leaves Redis alone are not reported.
	Observe func(op string, took time.Duration, err error)
	// OnPurge, if not nil, is told when another instance purged the cache
	// (tenant empty) or one tenant of it (tenant is its TenantID).
	OnPurge func(tenant string)
}

var readRandom = rand.Read

var validName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// ErrVersion is returned by Get for an entry of another format version
// (another build of ragproxy sharing the Redis): it is a miss.
var ErrVersion = errors.New("shared cache entry of another format version")

// Store is one cache's entries in Redis.
type Store struct {
	conn     *redisconn.Conn
	cfg      Config
	keyBase  string // prefix + "cache:" + name + ":"
	channel  string // purge messages of every cache under the prefix
	instance string // this store's id in purge messages, to skip its own

	queue   chan write
	dropped atomic.Int64
	stop    context.CancelFunc
	wg      sync.WaitGroup
}

type write struct {
	key string
	raw []byte // nil: delete key (a lease's release)
	ttl time.Duration
}

// New starts a store on conn: one writer goroutine and one purge
// subscriber. Close stops them; it does not close conn.
func New(conn *redisconn.Conn, cfg Config) (*Store, error) {
	if !validName.MatchString(cfg.Cache) {
		return nil, fmt.Errorf("cache name %q: a cache shared through Redis needs a name of letters, digits, '_', '-' and '.'", cfg.Cache)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	var id [8]byte
	_, _ = readRandom(id[:])
	ctx, cancel := context.WithCancel(context.Background())
	s := &Store{
		conn:     conn,
		cfg:      cfg,
		keyBase:  cfg.Prefix + "cache:" + cfg.Cache + ":",
		channel:  cfg.Prefix + "cache:purge",
		instance: hex.EncodeToString(id[:]),
		queue:    make(chan write, cfg.QueueSize),
		stop:     cancel,
	}
	s.wg.Add(2)
	go s.writer(ctx)
	go s.subscribe(ctx)
	return s, nil
}

// Close stops the writer (dropping queued writes) and the subscriber.
func (s *Store) Close() {
	s.stop()
	s.wg.Wait()
}

// Up reports whether Redis is being called (false while its breaker is open).
func (s *Store) Up() bool { return s.conn.Up() }

// Dropped counts writes dropped because the queue was full or Redis failed.
func (s *Store) Dropped() int64 { return s.dropped.Load() }

// Key is the Redis key of an entry: the prefix, the cache's name, the
// tenant id and the cache key, both hex or base64 of hashes (never a
// credential or a tenant's name in clear). The cache key is a hash tag, so
// on a Redis Cluster an entry and its lease live on one node.
func (s *Store) Key(tenant, key string) string {
	return s.tenantBase(tenant) + "{" + base64.RawURLEncoding.EncodeToString([]byte(key)) + "}"
}

func (s *Store) tenantBase(tenant string) string {
	t := "-"
	if tenant != "" {
		t = hex.EncodeToString([]byte(tenant))
	}
	return s.keyBase + t + ":"
}

// observe reports a call, unless none was made (Redis is being left alone).
func (s *Store) observe(op string, start time.Time, err error) {
	if s.cfg.Observe != nil && err != redisconn.ErrDown {
		s.cfg.Observe(op, time.Since(start), err)
	}
}

// Get returns the entry stored under the tenant and key, nil if there is
// none. An error (Redis failed, timed out or is being left alone; an entry
// of another version) is a miss to the caller. It never takes longer than
// the connection's timeout.
func (s *Store) Get(tenant, key string) (*cache.Entry, error) {
	var raw []byte
	start := time.Now()
	err := s.conn.Call(func(ctx context.Context) error {
		var err error
		raw, err = s.conn.Client().Get(ctx, s.Key(tenant, key)).Bytes()
		return err
	})
	s.observe("get", start, err)
	if err != nil || raw == nil {
		return nil, err
	}
	e := new(cache.Entry)
	if e.UnmarshalBinary(raw) != nil || e.Tenant != tenant {
		return nil, ErrVersion
	}
	return e, nil
}

// Put queues e to be stored under the tenant and key for ttl (the entry's
// remaining life). It never blocks: it returns false, dropping the write,
// when the entry is too large, ttl is not positive, or the queue is full.
func (s *Store) Put(tenant, key string, e *cache.Entry, ttl time.Duration) bool {
	if ttl <= 0 {
		return false
	}
	raw, _ := e.MarshalBinary()
	if s.cfg.MaxEntryBytes > 0 && len(raw) > s.cfg.MaxEntryBytes {
		return false
	}
	select {
	case s.queue <- write{key: s.Key(tenant, key), raw: raw, ttl: ttl}:
		return true
	default:
		s.dropped.Add(1)
		return false
	}
}

func (s *Store) writer(ctx context.Context) {
	defer s.wg.Done()
	batch := make([]write, 0, writeBatch)
	for {
		select {
		case <-ctx.Done():
			return
		case w := <-s.queue:
			// what queued up meanwhile goes in the same round trip
			batch = append(batch[:0], w)
		more:
			for len(batch) < writeBatch {
				select {
				case w := <-s.queue:
					batch = append(batch, w)
				default:
					break more
				}
			}
			s.flush(batch)
		}
	}
}

// writeBatch is the most writes sent in one pipelined round trip.
const writeBatch = 64

// flush writes (and deletes) a batch in order, in one round trip.
func (s *Store) flush(batch []write) {
	start := time.Now()
	err := s.conn.Call(func(ctx context.Context) error {
		_, err := s.conn.Client().Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, w := range batch {
				if w.raw == nil {
					p.Del(ctx, w.key)
				} else {
					p.Set(ctx, w.key, w.raw, w.ttl)
				}
			}
			return nil
		})
		return err
	})
	if err != nil {
		s.dropped.Add(int64(len(batch)))
	}
	s.observe("set", start, err)
}

// drain drops the writes still queued: they were recorded before a purge.
func (s *Store) drain() {
	for {
		select {
		case <-s.queue:
		default:
			return
		}
	}
}

// purgeMessage is what instances tell each other on the purge channel.
type purgeMessage struct {
	Cache  string `json:"cache"`
	Tenant string `json:"tenant,omitempty"` // hex of the tenant id; empty: the whole cache
	From   string `json:"from"`
}

// Purge removes every entry of the cache from Redis, or only the tenant's
// when tenant is not empty, and tells the other instances to purge their
// memory. It returns how many keys it removed. ctx bounds the whole purge
// (an operator's action: it may take longer than one call's timeout).
func (s *Store) Purge(ctx context.Context, tenant string) (int, error) {
	s.drain()
	pattern := s.keyBase + "*"
	msg := purgeMessage{Cache: s.cfg.Cache, From: s.instance}
	if tenant != "" {
		pattern = s.tenantBase(tenant) + "*"
		msg.Tenant = hex.EncodeToString([]byte(tenant))
	}
	start := time.Now()
	var n atomic.Int64
	scan := func(ctx context.Context, c redis.UniversalClient) error {
		iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
		batch := make([]string, 0, 1000)
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			removed, err := c.Unlink(ctx, batch...).Result()
			n.Add(removed)
			batch = batch[:0]
			return err
		}
		for iter.Next(ctx) {
			batch = append(batch, iter.Val())
			if len(batch) == cap(batch) {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := iter.Err(); err != nil {
			return err
		}
		return flush()
	}
	var err error
	if cc, ok := s.conn.Client().(*redis.ClusterClient); ok {
		// keys of one cache live on every master; UNLINK one key at a time
		// keeps each command within one slot
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
			for iter.Next(ctx) {
				removed, err := c.Unlink(ctx, iter.Val()).Result()
				if err != nil {
					return err
				}
				n.Add(removed)
			}
			return iter.Err()
		})
	} else {
		err = scan(ctx, s.conn.Client())
	}
	s.observe("purge", start, err)
	if err != nil {
		return int(n.Load()), fmt.Errorf("purging redis: %w", err)
	}
	body, _ := json.Marshal(msg)
	start = time.Now()
	err = s.conn.Client().Publish(ctx, s.channel, body).Err()
	s.observe("publish", start, err)
	if err != nil {
		return int(n.Load()), fmt.Errorf("telling other instances: %w", err)
	}
	return int(n.Load()), nil
}

// subscribe passes other instances' purges of this cache to OnPurge,
// resubscribing (go-redis reconnects) after Redis comes back.
func (s *Store) subscribe(ctx context.Context) {
	defer s.wg.Done()
	ps := s.conn.Client().Subscribe(ctx, s.channel)
	defer ps.Close()
	ch := ps.Channel()
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-ch:
			if !ok {
				return
			}
			var msg purgeMessage
			if json.Unmarshal([]byte(m.Payload), &msg) != nil || msg.Cache != s.cfg.Cache || msg.From == s.instance {
				continue
			}
			tenant, err := hex.DecodeString(msg.Tenant)
			if err != nil {
				continue
			}
			s.drain()
			if s.cfg.OnPurge != nil {
				s.cfg.OnPurge(string(tenant))
			}
		}
	}
}

// leaseKey is the key of the lease on an entry's key (see Lease).
func (s *Store) leaseKey(tenant, key string) string { return s.Key(tenant, key) + ":lease" }

// Lease asks for the right to fetch the answer for tenant and key from
// upstream for the next d, so that instances missing the same key at the
// same time make one upstream call (the others Wait). held is true when
// this instance got it, and also when Redis could not say (err not nil):
// then every instance goes upstream, as without a lease.
func (s *Store) Lease(tenant, key string, d time.Duration) (held bool, err error) {
	start := time.Now()
	err = s.conn.Call(func(ctx context.Context) error {
		var err error
		held, err = s.conn.Client().SetNX(ctx, s.leaseKey(tenant, key), s.instance, d).Result()
		return err
	})
	s.observe("lease", start, err)
	return held || err != nil, err
}

// Release gives a lease back once the writes queued before it (the
// entry's) are done, so a waiting instance finds the entry first. A full
// queue releases at once.
func (s *Store) Release(tenant, key string) {
	select {
	case s.queue <- write{key: s.leaseKey(tenant, key)}:
	default:
		_ = s.conn.Call(func(ctx context.Context) error { return s.conn.Client().Del(ctx, s.leaseKey(tenant, key)).Err() })
	}
}

// Wait polls, every interval, for the entry another instance holding the
// lease is fetching. It returns the entry once stored; nil when the lease
// is gone without one (the answer was not storable, or its instance
// died), when Redis fails, or when ctx is done: the caller then goes
// upstream itself.
func (s *Store) Wait(ctx context.Context, tenant, key string, interval time.Duration) *cache.Entry {
	t := time.NewTicker(interval)
	defer t.Stop()
	k, lk := s.Key(tenant, key), s.leaseKey(tenant, key)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		var raw []byte
		var leased int64
		err := s.conn.Call(func(ctx context.Context) error {
			cmds, err := s.conn.Client().Pipelined(ctx, func(p redis.Pipeliner) error {
				p.Get(ctx, k)
				p.Exists(ctx, lk)
				return nil
			})
			if err != nil && !errors.Is(err, redis.Nil) {
				return err
			}
			raw, _ = cmds[0].(*redis.StringCmd).Bytes()
			leased = cmds[1].(*redis.IntCmd).Val()
			return nil
		})
		switch {
		case err != nil:
			return nil
		case raw != nil:
			e := new(cache.Entry)
			if e.UnmarshalBinary(raw) != nil || e.Tenant != tenant {
				return nil
			}
			return e
		case leased == 0:
			return nil
		}
	}
}
