// Package cache is ragproxy's exact response cache: canonical request keys,
// the stored entry format, a size-bounded bigcache store, recording and
// replay of Server-Sent Event streams, and coalescing of concurrent
// identical misses. It knows nothing of Caddy; the Caddy handler in
// package caddymodule turns configuration into calls on it.
package cache
