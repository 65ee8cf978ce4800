package caddymodule

import (
	"fmt"

	"github.com/caddyserver/caddy/v2"
)

// pool is state that outlives config reloads: a caddy.UsagePool of one
// type of value, reference counted by key. A reload provisions the new
// config (acquire) before the old one is cleaned up (Delete), so a value
// both configs use is never destroyed in between.
type pool[T any] struct {
	name     string
	p        *caddy.UsagePool
	destruct func(T) error // run when the last user lets go; nil: nothing to free
}

// newPool makes a pool; name only labels its errors.
func newPool[T any](name string, destruct func(T) error) *pool[T] {
	return &pool[T]{name: name, p: caddy.NewUsagePool(), destruct: destruct}
}

// pooled is what the UsagePool holds: the value and how to free it.
type pooled[T any] struct {
	v        T
	destruct func(T) error
}

func (p pooled[T]) Destruct() error {
	if p.destruct == nil {
		return nil
	}
	return p.destruct(p.v)
}

// acquire returns the value under key, made by newValue if no one holds
// it yet, and takes a reference the caller gives back with Delete.
// loaded reports the value was already there.
func (p *pool[T]) acquire(key string, newValue func() (T, error)) (v T, loaded bool, err error) {
	got, loaded, err := p.p.LoadOrNew(key, func() (caddy.Destructor, error) {
		v, err := newValue()
		if err != nil {
			return nil, err
		}
		return pooled[T]{v: v, destruct: p.destruct}, nil
	})
	if err != nil { // newValue's own error: the caller knows what it was making
		return v, false, err
	}
	held, ok := got.(pooled[T])
	if !ok { // unreachable while only this type writes to p.p
		_, _ = p.p.Delete(key)
		return v, false, fmt.Errorf("%s pool: key %q holds a %T", p.name, key, got)
	}
	return held.v, loaded, nil
}

// Delete gives back a reference taken by acquire; the value is destroyed
// when it was the last. (Named like caddy.UsagePool's, which it wraps.)
func (p *pool[T]) Delete(key string) (deleted bool, err error) {
	return p.p.Delete(key)
}

// each calls f for every live value.
func (p *pool[T]) each(f func(T)) {
	p.p.Range(func(_, v any) bool {
		if held, ok := v.(pooled[T]); ok {
			f(held.v)
		}
		return true
	})
}
