// Package redisconn is ragproxy's connection to a Redis shared by every
// instance: one URL syntax for a single server, a Cluster or a Sentinel
// group, every call bounded by one timeout, and a breaker that leaves Redis
// alone for a second after a failure, so an outage costs one timeout per
// second rather than one per request. Rate limits (ratelimit/) and shared
// caches (cache/rediscache) both talk to Redis through it. It knows
// nothing of Caddy.
package redisconn

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ragproxy/ragproxy/breaker"
)

// DefaultTimeout bounds each Redis call, connecting included.
const DefaultTimeout = 100 * time.Millisecond

// ErrDown is returned, wrapped, when a call failed or was not made because
// Redis failed within the last second.
var ErrDown = errors.New("redis unreachable")

// Conn is a go-redis universal client with a timeout and a breaker.
type Conn struct {
	client  redis.UniversalClient
	addr    string
	timeout time.Duration
	brk     *breaker.Breaker
	down    atomic.Bool // from a failure until a probe succeeds
}

// New connects lazily to Redis at rawURL:
//
//	redis://[user:password@]host:port/db       one server (rediss:// for TLS, unix:///path.sock)
//	redis+cluster://host:port?addr=host2:port2  a Redis Cluster (rediss+cluster:// for TLS)
//	redis+sentinel://host:port/db?master_name=m&addr=host2:port2  a Sentinel group
//
// Query parameters are go-redis's (ParseURL, ParseClusterURL,
// ParseFailoverURL). timeout (DefaultTimeout if not positive) bounds each
// call, connecting included, and failed calls are not retried. onChange, if
// not nil, is told when Redis becomes unreachable and when it is back.
func New(rawURL string, timeout time.Duration, onChange func(addr string, up bool)) (*Conn, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	client, addr, err := newClient(rawURL, timeout)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	c := &Conn{client: client, addr: addr, timeout: timeout}
	c.brk = breaker.New(addr, breaker.Config{Failures: 1, Window: time.Second, Open: time.Second}, func(addr string, from, to breaker.State) {
		switch {
		case from == breaker.Closed && to == breaker.Open:
			c.down.Store(true)
			if onChange != nil {
				onChange(addr, false)
			}
		case from == breaker.HalfOpen && to == breaker.Closed:
			c.down.Store(false)
			if onChange != nil {
				onChange(addr, true)
			}
		}
	})
	return c, nil
}

func newClient(rawURL string, timeout time.Duration) (redis.UniversalClient, string, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, "", fmt.Errorf("%q: want redis://, rediss://, unix://, redis+cluster:// or redis+sentinel://", rawURL)
	}
	base, kind, _ := strings.Cut(scheme, "+")
	switch kind {
	case "":
		opt, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, "", err
		}
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.PoolTimeout = timeout, timeout, timeout, timeout
		opt.MaxRetries = -1
		return redis.NewClient(opt), opt.Addr, nil
	case "cluster":
		opt, err := redis.ParseClusterURL(base + "://" + rest)
		if err != nil {
			return nil, "", err
		}
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.PoolTimeout = timeout, timeout, timeout, timeout
		opt.MaxRetries = -1
		return redis.NewClusterClient(opt), strings.Join(opt.Addrs, ","), nil
	case "sentinel":
		opt, err := redis.ParseFailoverURL(base + "://" + rest)
		if err != nil {
			return nil, "", err
		}
		if opt.MasterName == "" {
			return nil, "", fmt.Errorf("%q: a sentinel URL needs master_name", rawURL)
		}
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.PoolTimeout = timeout, timeout, timeout, timeout
		opt.MaxRetries = -1
		return redis.NewFailoverClient(opt), opt.MasterName + "@" + strings.Join(opt.SentinelAddrs, ","), nil
	}
	return nil, "", fmt.Errorf("%q: unknown scheme %q", rawURL, scheme)
}

// Client is the go-redis client, for callers that manage their own
// timeouts (pub/sub subscriptions).
func (c *Conn) Client() redis.UniversalClient { return c.client }

// Addr names the server (or the cluster's seeds, or the sentinel master), for logs and metrics.
func (c *Conn) Addr() string { return c.addr }

// Timeout is the bound of each call.
func (c *Conn) Timeout() time.Duration { return c.timeout }

// Up reports whether Redis answered the last call: false from a failure
// until a probe (the first call a second or more later) succeeds.
func (c *Conn) Up() bool { return !c.down.Load() }

// Close closes the connections.
func (c *Conn) Close() error { return c.client.Close() }

// Call runs fn with a context bounded by the timeout, unless Redis failed
// within the last second: then it returns ErrDown itself at once (a failed
// call returns an error wrapping ErrDown). redis.Nil (no
// such key) counts as a success: Call returns nil.
func (c *Conn) Call(fn func(ctx context.Context) error) error {
	done, err := c.brk.Allow()
	if err != nil {
		return ErrDown
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	err = fn(ctx)
	if err != nil && !errors.Is(err, redis.Nil) {
		done(breaker.Failure)
		return fmt.Errorf("%w: %w", ErrDown, err)
	}
	done(breaker.Success)
	return nil
}
