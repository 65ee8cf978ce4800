package caddymodule

import (
	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/ragproxy/ragproxy/breaker"
)

// breakers holds every breaker by name, reference counted across config
// loads: a reload keeps each breaker's state and applies its new settings.
// A breaker holds nothing to free.
var breakers = newPool[*breaker.Breaker]("breaker", nil)

func acquireBreaker(name string, cfg breaker.Config) (*breaker.Breaker, error) {
	b, loaded, err := breakers.acquire(name, func() (*breaker.Breaker, error) {
		return breaker.New(name, cfg, onBreakerChange), nil
	})
	if err != nil {
		return nil, err
	}
	if loaded {
		b.SetConfig(cfg)
	}
	return b, nil
}

// eachBreaker calls f for every live breaker.
func eachBreaker(f func(*breaker.Breaker)) { breakers.each(f) }

func onBreakerChange(name string, from, to breaker.State) {
	breakerTransitions.WithLabelValues(name, from.String(), to.String()).Inc()
	caddy.Log().Named("rag.breaker").Warn("circuit breaker changed state",
		zap.String("breaker", name), zap.String("from", from.String()), zap.String("to", to.String()))
}
