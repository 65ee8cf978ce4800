//go:build !linux

package caddymodule_test

import "testing"

// reserveAddr is freeAddr where SO_REUSEPORT is not set up here: the
// address is free now, not held.
func reserveAddr(t *testing.T) (addr string, release func()) {
	t.Helper()
	return freeAddr(t), func() {}
}
