package caddymodule

import (
	"strconv"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func parseCostCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	c := new(CostHandler)
	err := c.UnmarshalCaddyfile(h.Dispenser)
	return c, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens:
//
//	rag_cost {
//		price <model|prefix*> <input> <cached_input> <output> [<cache_write>]   # USD per million tokens
//	}
func (c *CostHandler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		if d.Val() != "price" {
			return d.Errf("unrecognized rag_cost option %q", d.Val())
		}
		args := d.RemainingArgs()
		if len(args) != 4 && len(args) != 5 {
			return d.Errf("price: want <model> <input> <cached_input> <output> [<cache_write>]")
		}
		var nums [4]float64
		for i, a := range args[1:] {
			v, err := strconv.ParseFloat(a, 64)
			if err != nil || v < 0 {
				return d.Errf("price %s: want prices of at least 0 in dollars per million tokens, got %q", args[0], a)
			}
			nums[i] = v
		}
		if c.Prices == nil {
			c.Prices = map[string]ModelPrice{}
		}
		c.Prices[args[0]] = ModelPrice{Input: nums[0], CachedInput: nums[1], Output: nums[2], CacheWrite: nums[3]}
	}
	return c.Validate()
}

// Interface guard
var _ caddyfile.Unmarshaler = (*CostHandler)(nil)
