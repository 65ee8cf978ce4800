package caddymodule

import (
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/ragproxy/ragproxy/ratelimit"
)

func parseRateLimitCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	rl := new(RateLimitHandler)
	err := rl.UnmarshalCaddyfile(h.Dispenser)
	return rl, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens:
//
//	rag_rate_limit {
//		redis         <url>
//		redis_timeout <duration>
//		stream_usage  ask|off
//		max_body      <size>
//		reserve_output <tokens>
//		refuse_with_error          # 429 goes to handle_errors; default off
//		zone <name> {
//			key        <placeholder>
//			rate       <count>/<period>
//			burst      <n>
//			tokens     <count>/<period>
//			budget     <usd>/<period>
//			concurrent <n>
//			max_keys   <n>
//		}
//	}
func (rl *RateLimitHandler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		switch d.Val() {
		case "redis":
			if err := parseArg(d, &rl.Redis); err != nil {
				return err
			}
		case "redis_timeout":
			if err := parseDuration(d, &rl.RedisTimeout); err != nil {
				return err
			}
		case "stream_usage":
			if err := parseArg(d, &rl.StreamUsage); err != nil {
				return err
			}
			if rl.StreamUsage != streamUsageAsk && rl.StreamUsage != streamUsageOff {
				return d.Errf("stream_usage must be %s or %s", streamUsageAsk, streamUsageOff)
			}
		case "max_body":
			if err := parseSize(d, &rl.MaxBody); err != nil {
				return err
			}
		case "reserve_output":
			if err := parseCount(d, &rl.ReserveOutput, 1); err != nil {
				return err
			}
		case "refuse_with_error":
			if err := parseFlag(d, &rl.RefuseWithError); err != nil {
				return err
			}
		case "zone":
			z, err := parseZone(d)
			if err != nil {
				return err
			}
			rl.Zones = append(rl.Zones, z)
		default:
			return d.Errf("unrecognized rag_rate_limit option %q", d.Val())
		}
	}
	return nil
}

func parseZone(d *caddyfile.Dispenser) (*RateLimitZone, error) {
	z := new(RateLimitZone)
	if err := parseArg(d, &z.Name); err != nil {
		return nil, err
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		switch opt := d.Val(); opt {
		case "key":
			if err := parseArg(d, &z.Key); err != nil {
				return nil, err
			}
		case "rate", "tokens":
			dst := &z.Rate
			if opt == "tokens" {
				dst = &z.Tokens
			}
			if err := parseArg(d, dst); err != nil {
				return nil, err
			}
			if _, _, err := ratelimit.ParseRate(*dst); err != nil {
				return nil, d.Errf("%s: %v", opt, err)
			}
		case "budget":
			if err := parseArg(d, &z.Budget); err != nil {
				return nil, err
			}
			if _, _, err := ratelimit.ParseCost(z.Budget); err != nil {
				return nil, d.Errf("budget: %v", err)
			}
		case "burst":
			if err := parseCount(d, &z.Burst, 1); err != nil {
				return nil, err
			}
		case "concurrent":
			if err := parseCount(d, &z.Concurrent, 1); err != nil {
				return nil, err
			}
		case "max_keys":
			if err := parseCount(d, &z.MaxKeys, 64); err != nil {
				return nil, err
			}
		default:
			return nil, d.Errf("unrecognized zone option %q (zone %q)", opt, z.Name)
		}
	}
	return z, nil
}

// Interface guard
var _ caddyfile.Unmarshaler = (*RateLimitHandler)(nil)
