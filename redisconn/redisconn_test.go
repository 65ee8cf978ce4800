package redisconn

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ragproxy/ragproxy/internal/redistest"
)

func TestURLForms(t *testing.T) {
	for _, tc := range []struct {
		url, addr string
		client    any
	}{
		{"redis://127.0.0.1:6390/2", "127.0.0.1:6390", &redis.Client{}},
		{"rediss://u:p@h:6380/0", "h:6380", &redis.Client{}},
		{"redis+cluster://h1:7000?addr=h2:7001", "h1:7000,h2:7001", &redis.ClusterClient{}},
		{"redis+sentinel://s1:26379/0?master_name=mymaster&addr=s2:26379", "mymaster@s1:26379,s2:26379", &redis.Client{}},
	} {
		c, err := New(tc.url, 0, nil)
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if c.Addr() != tc.addr || c.Timeout() != DefaultTimeout {
			t.Errorf("%s: addr %q timeout %v, want %q %v", tc.url, c.Addr(), c.Timeout(), tc.addr, DefaultTimeout)
		}
		switch tc.client.(type) {
		case *redis.Client:
			if _, ok := c.Client().(*redis.Client); !ok {
				t.Errorf("%s: client %T", tc.url, c.Client())
			}
		case *redis.ClusterClient:
			if _, ok := c.Client().(*redis.ClusterClient); !ok {
				t.Errorf("%s: client %T", tc.url, c.Client())
			}
		}
		c.Close()
	}
	for _, bad := range []string{"localhost:6379", "http://h", "redis+sentinel://s1:26379/0", "redis+other://h"} {
		if c, err := New(bad, 0, nil); err == nil {
			c.Close()
			t.Errorf("%s: accepted", bad)
		}
	}
}

func TestBreakerStopsCallsWhileDown(t *testing.T) {
	srv := redistest.Start(t)
	var changes []bool
	c, err := New(srv.URL, 200*time.Millisecond, func(_ string, up bool) { changes = append(changes, up) })
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	get := func() error {
		return c.Call(func(ctx context.Context) error { return c.Client().Get(ctx, "nothing").Err() })
	}
	if err := get(); err != nil {
		t.Fatalf("a missing key: %v, want nil", err)
	}
	srv.Kill()
	if err := get(); !errors.Is(err, ErrDown) {
		t.Fatalf("redis killed: %v, want ErrDown", err)
	}
	start := time.Now()
	calls := 0
	if err := c.Call(func(context.Context) error { calls++; return nil }); !errors.Is(err, ErrDown) || calls != 0 || time.Since(start) > 10*time.Millisecond || c.Up() {
		t.Fatalf("breaker open: err %v, calls %d, took %v, up %v", err, calls, time.Since(start), c.Up())
	}
	srv.Restart(t)
	deadline := time.Now().Add(5 * time.Second)
	for get() != nil {
		if time.Now().After(deadline) {
			t.Fatal("never recovered")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(changes) != 2 || changes[0] || !changes[1] {
		t.Fatalf("changes %v, want [false true]", changes)
	}
}
