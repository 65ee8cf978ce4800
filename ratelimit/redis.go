package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ragproxy/ragproxy/redisconn"
)

// Redis keeps limits in a Redis server shared by every instance. Each
// decision is one round trip: GCRA runs as a Lua script on Redis's own
// clock, token budgets are a counter per window. Calls go through a
// redisconn.Conn: bounded by its timeout, and left alone for a second after
// a failure, so an outage costs one timeout per second rather than one per
// request.
type Redis struct {
	conn   *redisconn.Conn
	client redis.UniversalClient
}

// DefaultRedisTimeout bounds each Redis call, connecting included.
const DefaultRedisTimeout = redisconn.DefaultTimeout

// NewRedis connects lazily to the Redis at rawURL (any URL redisconn.New
// takes: one server, a Cluster or a Sentinel group). onChange, if not nil,
// is told when Redis (at addr) becomes unreachable and when it is back.
func NewRedis(rawURL string, timeout time.Duration, onChange func(addr string, up bool)) (*Redis, error) {
	c, err := redisconn.New(rawURL, timeout, onChange)
	if err != nil {
		return nil, err
	}
	return &Redis{conn: c, client: c.Client()}, nil
}

// Close closes the connections.
func (r *Redis) Close() error { return r.conn.Close() }

// Addr is the server's address, for logs.
func (r *Redis) Addr() string { return r.conn.Addr() }

// call runs fn against Redis unless the breaker says Redis is down.
func (r *Redis) call(fn func(ctx context.Context) error) error {
	if err := r.conn.Call(fn); err != nil {
		return fmt.Errorf("%w: %w", ErrRemoteDown, err)
	}
	return nil
}

// redisKey names a key's state in Redis. The key itself (often an API key)
// is hashed, so Redis never holds credentials.
func redisKey(zone, kind, key string) string {
	sum := sha256.Sum256([]byte(key))
	return "ragproxy:rl:" + zone + ":" + kind + ":" + base64.RawURLEncoding.EncodeToString(sum[:16])
}

// gcraScript is GCRA on Redis's clock, in microseconds. SET formats the
// timestamp with %.0f: Lua's default number format would round it.
var gcraScript = redis.NewScript(`
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
local newtat = tat + interval
local allowat = newtat - burst * interval
if now < allowat then
	return {0, 0, tat - now, allowat - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', newtat), 'PX', math.ceil((newtat - now) / 1000) + 1)
return {1, math.floor((now - allowat) / interval), newtat - now, 0}
`)

func (r *Redis) allow(key string, rate Rate) (d Decision, err error) {
	interval := max(rate.interval()/1e3, 1)
	err = r.call(func(ctx context.Context) error {
		res, err := gcraScript.Run(ctx, r.client, []string{key}, interval, rate.Burst).Int64Slice()
		if err != nil {
			return err
		}
		if len(res) != 4 {
			return fmt.Errorf("gcra script: %d results", len(res))
		}
		d = Decision{
			Allowed:    res[0] == 1,
			Limit:      rate.Burst,
			Remaining:  res[1],
			Reset:      time.Duration(res[2]) * time.Microsecond,
			RetryAfter: time.Duration(res[3]) * time.Microsecond,
		}
		return nil
	})
	return d, err
}

// windowKey is a budget counter's key for the window ending at end; it
// expires a minute after the window.
func windowKey(key string, end int64) string {
	return key + ":" + strconv.FormatInt(end/1e6, 10)
}

func (r *Redis) used(key string, end int64) (used int64, err error) {
	err = r.call(func(ctx context.Context) error {
		used, err = r.client.Get(ctx, windowKey(key, end)).Int64()
		return err
	})
	return used, err
}

func (r *Redis) spend(key string, tokens, end int64) error {
	return r.call(func(ctx context.Context) error {
		_, err := r.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
			k := windowKey(key, end)
			p.IncrBy(ctx, k, tokens)
			p.PExpireAt(ctx, k, time.Unix(0, end).Add(time.Minute))
			return nil
		})
		return err
	})
}

// reserveScript is a token budget's check and debit in one step: while
// the window's count (spent and reserved) is below the budget, the
// reservation is added. It returns {allowed, count before}.
var reserveScript = redis.NewScript(`
local budget = tonumber(ARGV[1])
local tokens = tonumber(ARGV[2])
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= budget then
	return {0, used}
end
redis.call('INCRBY', KEYS[1], tokens)
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return {1, used}
`)

// settleScript adds a (possibly negative) difference to a window's count,
// never taking it below zero.
var settleScript = redis.NewScript(`
local used = redis.call('INCRBY', KEYS[1], ARGV[1])
if used < 0 then
	redis.call('SET', KEYS[1], '0')
	used = 0
end
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return used
`)

// expireAt is when a window's counter may go: a minute after the window.
func expireAt(end int64) int64 { return time.Unix(0, end).Add(time.Minute).UnixMilli() }

func (r *Redis) reserve(key string, b Budget, tokens, end, reset int64) (d Decision, err error) {
	err = r.call(func(ctx context.Context) error {
		res, err := reserveScript.Run(ctx, r.client, []string{windowKey(key, end)}, b.Tokens, tokens, expireAt(end)).Int64Slice()
		if err != nil {
			return err
		}
		if len(res) != 2 {
			return fmt.Errorf("reserve script: %d results", len(res))
		}
		d = budgetDecision(b, res[1], reset)
		return nil
	})
	return d, err
}

func (r *Redis) settle(key string, delta, end int64) error {
	return r.call(func(ctx context.Context) error {
		return settleScript.Run(ctx, r.client, []string{windowKey(key, end)}, delta, expireAt(end)).Err()
	})
}
