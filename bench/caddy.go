package main

import (
	"fmt"
	"net"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// globalOptions keep the in-process Caddy quiet and self-contained: no
// admin endpoint (unless asked for), no HTTPS automation, no autosaved
// config, no logs.
const globalOptions = `{
	admin %s
	auto_https off
	persist_config off
	grace_period 1s
	log {
		output discard
	}
}
`

// startCaddyAdmin adapts a Caddyfile (globalOptions, with the admin
// endpoint at admin or "off", are prepended), loads it into this process
// and waits until every address in ready accepts connections. The returned
// function stops Caddy.
func startCaddyAdmin(admin, caddyfile string, ready ...string) (stop func() error, err error) {
	cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(fmt.Sprintf(globalOptions, admin)+caddyfile), nil)
	if err != nil {
		return nil, fmt.Errorf("adapting Caddyfile: %w", err)
	}
	if err := caddy.Load(cfg, true); err != nil {
		return nil, fmt.Errorf("loading config: %w", err)
	}
	for _, addr := range ready {
		if err := waitDial(addr, 10*time.Second); err != nil {
			caddy.Stop()
			return nil, err
		}
	}
	return caddy.Stop, nil
}

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// freeAddrs returns n distinct loopback addresses nobody listens on right
// now (each is held until all are chosen, so none is handed out twice).
func freeAddrs(n int) ([]string, error) {
	addrs := make([]string, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs, nil
}

// waitDial polls addr until it accepts a connection or the deadline passes.
func waitDial(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not accepting connections: %w", addr, err)
		}
		time.Sleep(5 * time.Millisecond) // poll interval, bounded by the deadline
	}
}
