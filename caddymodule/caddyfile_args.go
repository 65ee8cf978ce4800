package caddymodule

import (
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/dustin/go-humanize"
)

// The Caddyfile argument readers every *_caddyfile.go shares. Each reads
// the arguments of the option the dispenser is on (d.Val() names it in
// errors) and refuses a line with more or fewer.

// parseArg reads exactly one argument.
func parseArg(d *caddyfile.Dispenser, dst *string) error {
	if !d.AllArgs(dst) {
		return d.ArgErr()
	}
	return nil
}

// parseArgs reads one or more arguments, appending them to dst (a repeated
// line adds to the list).
func parseArgs(d *caddyfile.Dispenser, dst *[]string) error {
	args := d.RemainingArgs()
	if len(args) == 0 {
		return d.ArgErr()
	}
	*dst = append(*dst, args...)
	return nil
}

// parseFlag reads an option that takes no argument: its presence sets dst.
func parseFlag(d *caddyfile.Dispenser, dst *bool) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	*dst = true
	return nil
}

// parseSize reads one size argument such as 64MiB, 512KB or 1048576.
func parseSize(d *caddyfile.Dispenser, dst *int64) error {
	name := d.Val()
	var v string
	if !d.AllArgs(&v) {
		return d.ArgErr()
	}
	n, err := humanize.ParseBytes(v)
	if err != nil || n == 0 || n > 1<<50 {
		return d.Errf("%s: want a positive size such as 64MiB, got %q", name, v)
	}
	*dst = int64(n)
	return nil
}

// parseDuration reads one positive duration argument.
func parseDuration(d *caddyfile.Dispenser, dst *caddy.Duration) error {
	name := d.Val()
	var v string
	if !d.AllArgs(&v) {
		return d.ArgErr()
	}
	dur, err := caddy.ParseDuration(v)
	if err != nil || dur <= 0 {
		return d.Errf("%s: want a positive duration such as 2s, got %q", name, v)
	}
	*dst = caddy.Duration(dur)
	return nil
}

// parseCount reads one whole-number argument of at least least.
func parseCount[T int | int64](d *caddyfile.Dispenser, dst *T, least T) error {
	name := d.Val()
	var v string
	if !d.AllArgs(&v) {
		return d.ArgErr()
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || int64(T(n)) != n || T(n) < least {
		return d.Errf("%s: want a whole number of at least %d, got %q", name, least, v)
	}
	*dst = T(n)
	return nil
}

// parseOnOff reads on or off (or another of strconv.ParseBool's spellings).
func parseOnOff(v string) (bool, error) {
	switch v {
	case "on":
		return true, nil
	case "off":
		return false, nil
	}
	return strconv.ParseBool(v)
}
