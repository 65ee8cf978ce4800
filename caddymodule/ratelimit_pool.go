package caddymodule

import (
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/ragproxy/ragproxy/ratelimit"
)

// zoneStates holds every zone's local counts by name and kind, and
// redisClients every Redis client by URL, reference counted across config
// loads: a reload keeps the counts and the connections.
var (
	zoneStates   = newPool("zone state", (*zoneState).stopSweeping)
	redisClients = newPool("redis client", (*ratelimit.Redis).Close)
)

// sweepEvery is how often idle keys are dropped from the local counts.
const sweepEvery = 30 * time.Second

// zoneState is one zone's local counts; which one is set depends on its kind.
type zoneState struct {
	name     string
	kind     string
	gcra     *ratelimit.GCRA
	windows  *ratelimit.Windows
	inflight *ratelimit.Inflight
	stop     chan struct{}
}

func acquireZoneState(name, kind string, maxKeys int) (*zoneState, string, error) {
	key := fmt.Sprintf("%s\x00%s\x00%d", name, kind, maxKeys)
	s, _, err := zoneStates.acquire(key, func() (*zoneState, error) {
		s := &zoneState{name: name, kind: kind, stop: make(chan struct{})}
		switch kind {
		case "rate":
			s.gcra = ratelimit.NewGCRA(maxKeys)
		case "tokens", "budget":
			s.windows = ratelimit.NewWindows(maxKeys)
		default:
			s.inflight = ratelimit.NewInflight(maxKeys)
		}
		go s.sweep()
		return s, nil
	})
	if err != nil {
		return nil, "", err
	}
	return s, key, nil
}

// sweep drops idle keys now and then, so memory follows the keys in use
// rather than every key ever seen.
func (s *zoneState) sweep() {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			switch {
			case s.gcra != nil:
				s.gcra.Sweep(now)
			case s.windows != nil:
				s.windows.Sweep(now)
			}
		}
	}
}

// stopSweeping stops the sweeper when the last config using the zone is gone.
func (s *zoneState) stopSweeping() error {
	close(s.stop)
	return nil
}

// keys and evicted report the zone's local key count and forced drops.
func (s *zoneState) keys() (keys int, evicted int64) {
	switch {
	case s.gcra != nil:
		return s.gcra.Keys(), s.gcra.Evicted()
	case s.windows != nil:
		return s.windows.Keys(), s.windows.Evicted()
	}
	return s.inflight.Keys(), s.inflight.Evicted()
}

// eachZoneState calls f for every live zone.
func eachZoneState(f func(*zoneState)) { zoneStates.each(f) }

func acquireRedis(url string, timeout time.Duration) (*ratelimit.Redis, string, error) {
	key := fmt.Sprintf("%s\x00%d", url, timeout)
	r, _, err := redisClients.acquire(key, func() (*ratelimit.Redis, error) {
		r, err := ratelimit.NewRedis(url, timeout, onRedisChange)
		if err != nil {
			return nil, err
		}
		rlVecs.redisUp.WithLabelValues(r.Addr()).Set(1)
		return r, nil
	})
	if err != nil {
		return nil, "", err
	}
	return r, key, nil
}

func onRedisChange(addr string, up bool) {
	log := caddy.Log().Named("rag.rate_limit")
	if up {
		rlVecs.redisUp.WithLabelValues(addr).Set(1)
		log.Warn("redis is back: rate limits are shared again", zap.String("redis", addr))
		return
	}
	rlVecs.redisUp.WithLabelValues(addr).Set(0)
	log.Error("redis unreachable: rate limits fall back to this instance's own counts", zap.String("redis", addr))
}
