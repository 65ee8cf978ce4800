package caddymodule

import (
	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/ragproxy/ragproxy/breaker"
)

// breakers holds every breaker by name, reference counted across config
// loads: a reload keeps each breaker's state and applies its new settings.
var breakers = caddy.NewUsagePool()

type sharedBreaker struct{ *breaker.Breaker }

func (sharedBreaker) Destruct() error { return nil }

func acquireBreaker(name string, cfg breaker.Config) (*breaker.Breaker, error) {
	v, loaded, err := breakers.LoadOrNew(name, func() (caddy.Destructor, error) {
		return sharedBreaker{breaker.New(name, cfg, onBreakerChange)}, nil
	})
	if err != nil {
		return nil, err
	}
	b := v.(sharedBreaker).Breaker
	if loaded {
		b.SetConfig(cfg)
	}
	return b, nil
}

// eachBreaker calls f for every live breaker.
func eachBreaker(f func(*breaker.Breaker)) {
	breakers.Range(func(_, v any) bool {
		f(v.(sharedBreaker).Breaker)
		return true
	})
}

func onBreakerChange(name string, from, to breaker.State) {
	metrics.breakerTransitions.WithLabelValues(name, from.String(), to.String()).Inc()
	caddy.Log().Named("rag.breaker").Warn("circuit breaker changed state",
		zap.String("breaker", name), zap.String("from", from.String()), zap.String("to", to.String()))
}
