package caddymodule_test

import (
	"context"
	"net"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// reserveAddr returns a free loopback address and holds it, with
// SO_REUSEPORT, until release: Caddy's listeners set SO_REUSEPORT too, so
// Caddy can bind the address while it is held, and no other process (a
// parallel test package's Caddy, which would then share the port and
// answer some of our requests) can be handed it in between, as it could
// between a plain freeAddr's close and Caddy's bind.
func reserveAddr(t *testing.T) (addr string, release func()) {
	t.Helper()
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}); err != nil {
			return err
		}
		return serr
	}}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln.Addr().String(), func() { ln.Close() }
}
