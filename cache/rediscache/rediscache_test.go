package rediscache

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ragproxy/ragproxy/cache"
	"github.com/ragproxy/ragproxy/internal/redistest"
	"github.com/ragproxy/ragproxy/redisconn"
)

// instance is one ragproxy instance's view of the shared cache.
type instance struct {
	*Store
	conn   *redisconn.Conn
	mu     sync.Mutex
	purged []string
}

func newInstance(t *testing.T, url string, cfg Config) *instance {
	t.Helper()
	conn, err := redisconn.New(url, 200*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{conn: conn}
	cfg.OnPurge = func(tenant string) {
		in.mu.Lock()
		in.purged = append(in.purged, tenant)
		in.mu.Unlock()
	}
	s, err := New(conn, cfg)
	if err != nil {
		t.Fatal(err)
	}
	in.Store = s
	t.Cleanup(func() { s.Close(); conn.Close() })
	return in
}

func (in *instance) purges() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.purged...)
}

// eventually polls cond until it is true or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func entry(tenant, body string) *cache.Entry {
	return &cache.Entry{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body), StoredAt: time.Now(), Tenant: tenant}
}

var (
	acme  = cache.TenantID(cache.AppendPlaceholderScope(nil, "acme"))
	other = cache.TenantID(cache.AppendPlaceholderScope(nil, "other"))
	key1  = cache.Key(cache.KeyParts{Path: "/1"})
	key2  = cache.Key(cache.KeyParts{Path: "/2"})
)

func TestSharedBetweenInstances(t *testing.T) {
	srv := redistest.Start(t)
	a := newInstance(t, srv.URL, Config{Cache: "c"})
	b := newInstance(t, srv.URL, Config{Cache: "c"})
	if !a.Put(acme, key1, entry(acme, `{"a":1}`), time.Minute) {
		t.Fatal("put refused")
	}
	var got *cache.Entry
	eventually(t, "the entry on B", func() bool {
		var err error
		got, err = b.Get(acme, key1)
		if err != nil {
			t.Fatal(err)
		}
		return got != nil
	})
	if string(got.Body) != `{"a":1}` || got.Tenant != acme {
		t.Fatalf("B read %+v", got)
	}
	// Another tenant, another key, another cache name: nothing.
	c := newInstance(t, srv.URL, Config{Cache: "other-cache"})
	for _, miss := range []func() (*cache.Entry, error){
		func() (*cache.Entry, error) { return b.Get(other, key1) },
		func() (*cache.Entry, error) { return b.Get(acme, key2) },
		func() (*cache.Entry, error) { return c.Get(acme, key1) },
	} {
		if e, err := miss(); e != nil || err != nil {
			t.Errorf("miss returned %v %v", e, err)
		}
	}
	// The key holds hashes only, and the TTL is the one given.
	k := a.Key(acme, key1)
	ttl := a.conn.Client().PTTL(context.Background(), k).Val()
	if ttl <= 50*time.Second || ttl > time.Minute {
		t.Errorf("TTL %v, want about 1m", ttl)
	}
}

func TestOtherVersionIgnored(t *testing.T) {
	srv := redistest.Start(t)
	a := newInstance(t, srv.URL, Config{Cache: "c"})
	raw, _ := entry(acme, "x").MarshalBinary()
	raw[0] = cache.EntryVersion + 1
	a.conn.Client().Set(context.Background(), a.Key(acme, key1), raw, time.Minute)
	if e, err := a.Get(acme, key1); e != nil || !errors.Is(err, ErrVersion) {
		t.Fatalf("another version: %v %v, want ErrVersion", e, err)
	}
	// An entry of another tenant under this tenant's key is refused too.
	raw, _ = entry(other, "x").MarshalBinary()
	a.conn.Client().Set(context.Background(), a.Key(acme, key1), raw, time.Minute)
	if e, err := a.Get(acme, key1); e != nil || err == nil {
		t.Fatalf("another tenant's entry: %v %v", e, err)
	}
}

func TestMaxEntryBytesAndQueue(t *testing.T) {
	srv := redistest.Start(t)
	a := newInstance(t, srv.URL, Config{Cache: "c", MaxEntryBytes: 200})
	if a.Put(acme, key1, entry(acme, string(make([]byte, 300))), time.Minute) {
		t.Error("an entry over max entry bytes was queued")
	}
	if a.Put(acme, key1, entry(acme, "x"), 0) {
		t.Error("an expired entry was queued")
	}
}

func TestPurgePropagates(t *testing.T) {
	srv := redistest.Start(t)
	a := newInstance(t, srv.URL, Config{Cache: "c"})
	b := newInstance(t, srv.URL, Config{Cache: "c"})
	otherCache := newInstance(t, srv.URL, Config{Cache: "d"})
	put := func(s *instance, tenant, key string) {
		s.Put(tenant, key, entry(tenant, "x"), time.Minute)
		eventually(t, "the write", func() bool { e, _ := s.Get(tenant, key); return e != nil })
	}
	put(a, acme, key1)
	put(a, acme, key2)
	put(a, other, key1)
	put(otherCache, acme, key1)
	// Subscriptions are made asynchronously: wait until both listen.
	eventually(t, "subscribers", func() bool {
		n, _ := a.conn.Client().PubSubNumSub(context.Background(), a.channel).Result()
		return n[a.channel] >= 3
	})

	n, err := a.Purge(context.Background(), acme)
	if err != nil || n != 2 {
		t.Fatalf("tenant purge: %d %v, want 2 keys", n, err)
	}
	eventually(t, "B told of the tenant purge", func() bool { p := b.purges(); return len(p) == 1 && p[0] == acme })
	if e, _ := a.Get(other, key1); e == nil {
		t.Error("another tenant's entry went with the purge")
	}
	if len(a.purges()) != 0 || len(otherCache.purges()) != 0 {
		t.Errorf("told: a %q, other cache %q; want neither", a.purges(), otherCache.purges())
	}

	n, err = b.Purge(context.Background(), "")
	if err != nil || n != 1 {
		t.Fatalf("purge: %d %v, want 1 key", n, err)
	}
	eventually(t, "A told of the purge", func() bool { p := a.purges(); return len(p) == 1 && p[0] == "" })
	if e, _ := otherCache.Get(acme, key1); e == nil {
		t.Error("another cache's entry went with the purge")
	}
}

func TestRedisDown(t *testing.T) {
	srv := redistest.Start(t)
	a := newInstance(t, srv.URL, Config{Cache: "c"})
	b := newInstance(t, srv.URL, Config{Cache: "c"})
	srv.Kill()
	start := time.Now()
	for range 100 {
		if e, err := a.Get(acme, key1); e != nil || err == nil {
			t.Fatalf("redis down: %v %v", e, err)
		}
		a.Put(acme, key1, entry(acme, "x"), time.Minute)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("100 lookups with Redis down took %v: the breaker should skip most", took)
	}
	if _, err := a.Purge(context.Background(), ""); err == nil {
		t.Error("purge with Redis down reported no error")
	}
	srv.Restart(t)
	eventually(t, "writes again", func() bool {
		a.Put(acme, key1, entry(acme, "back"), time.Minute)
		e, _ := b.Get(acme, key1)
		return e != nil && string(e.Body) == "back"
	})
	// The subscription came back too.
	eventually(t, "the purge channel again", func() bool {
		if _, err := b.Purge(context.Background(), ""); err != nil {
			return false
		}
		return len(a.purges()) > 0
	})
}

func TestBadCacheName(t *testing.T) {
	conn, _ := redisconn.New("redis://127.0.0.1:1/0", 0, nil)
	defer conn.Close()
	for _, name := range []string{"", "a:b", "a*", "a b"} {
		if s, err := New(conn, Config{Cache: name}); err == nil {
			s.Close()
			t.Errorf("name %q accepted", name)
		}
	}
}

func TestLeaseAndWait(t *testing.T) {
	srv := redistest.Start(t)
	a := newInstance(t, srv.URL, Config{Cache: "c"})
	b := newInstance(t, srv.URL, Config{Cache: "c"})
	if held, err := a.Lease(acme, key1, 5*time.Second); !held || err != nil {
		t.Fatalf("A: %v %v, want the lease", held, err)
	}
	if held, err := b.Lease(acme, key1, 5*time.Second); held || err != nil {
		t.Fatalf("B: %v %v, want no lease", held, err)
	}
	got := make(chan *cache.Entry, 1)
	go func() { got <- b.Wait(context.Background(), acme, key1, 5*time.Millisecond) }()
	a.Put(acme, key1, entry(acme, "answer"), time.Minute)
	a.Release(acme, key1)
	select {
	case e := <-got:
		if e == nil || string(e.Body) != "answer" {
			t.Fatalf("B waited for %+v", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("B still waiting")
	}
	eventually(t, "the lease released", func() bool {
		held, _ := b.Lease(acme, key1, time.Second)
		return held
	})

	// A lease given back without an entry: the waiter stops waiting.
	b.Lease(acme, key2, 5*time.Second)
	go func() { got <- a.Wait(context.Background(), acme, key2, 5*time.Millisecond) }()
	select { // A polls several times and keeps waiting while the lease is held
	case e := <-got:
		t.Fatalf("stopped waiting while the lease was held: %+v", e)
	case <-time.After(30 * time.Millisecond):
	}
	b.Release(acme, key2)
	select {
	case e := <-got:
		if e != nil {
			t.Fatalf("waited for %+v, want nil", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("still waiting after the lease was released")
	}

	// Redis down: everyone holds the lease (goes upstream).
	srv.Kill()
	if held, err := b.Lease(other, key1, time.Second); !held || err == nil {
		t.Fatalf("Redis down: %v %v", held, err)
	}
}
