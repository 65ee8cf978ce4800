package caddymodule

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// parseFallbackCaddyfile sets up rag_fallback from Caddyfile tokens:
//
//	rag_fallback {
//		max_body <size>
//		tier <name> {
//			timeout            <duration>
//			first_byte_timeout <duration>
//			retries            <n>
//			retry_backoff      <duration>
//			breaker [<name>] {
//				failures         <n>
//				window           <duration>
//				open             <duration>
//				half_open_probes <n>
//				successes        <n>
//			}
//			set_json    <field> <value>
//			uri         </path[?query]>
//			header_up   <name> <value>
//			fail_status <code|class...>
//			fail_on_empty <field>
//			fail_on_invalid_json
//			fail_on_finish length
//			fail_on_refusal
//			<handler directives…>
//		}
//	}
//
// Any line of a tier that is not one of its options is a handler
// directive (reverse_proxy, respond, rewrite, Caddy's own uri with an
// operation…). set_json takes a JSON value, or a string for anything that
// is not JSON (`set_json model small-model`).
func parseFallbackCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	fb := new(FallbackHandler)
	h.Next() // directive name
	if h.NextArg() {
		return nil, h.ArgErr()
	}
	for h.NextBlock(0) {
		switch h.Val() {
		case "max_body":
			if err := parseSize(h.Dispenser, &fb.MaxBody); err != nil {
				return nil, err
			}
		case "tier":
			t, err := parseTier(h)
			if err != nil {
				return nil, err
			}
			fb.Tiers = append(fb.Tiers, t)
		default:
			return nil, h.Errf("unrecognized rag_fallback option %q", h.Val())
		}
	}
	if err := fb.Validate(); err != nil {
		return nil, h.Err(err.Error())
	}
	return fb, nil
}

func parseTier(h httpcaddyfile.Helper) (*Tier, error) {
	t := new(Tier)
	if !h.AllArgs(&t.Name) {
		return nil, h.ArgErr()
	}
	var handlerTokens []caddyfile.Token
	for nesting := h.Nesting(); h.NextBlock(nesting); {
		opt := h.Val()
		var err error
		switch opt {
		case "timeout":
			err = parseDuration(h.Dispenser, &t.Timeout)
		case "first_byte_timeout":
			err = parseDuration(h.Dispenser, &t.FirstByteTimeout)
		case "retry_backoff":
			err = parseDuration(h.Dispenser, &t.RetryBackoff)
		case "retries":
			err = parseCount(h.Dispenser, &t.Retries, 0)
		case "breaker":
			t.Breaker, err = parseTierBreaker(h.Dispenser)
		case "set_json":
			var field, value string
			if !h.AllArgs(&field, &value) {
				return nil, h.ArgErr()
			}
			raw := json.RawMessage(value)
			if !json.Valid(raw) {
				raw, _ = json.Marshal(value)
			}
			if t.SetJSON == nil {
				t.SetJSON = map[string]json.RawMessage{}
			}
			t.SetJSON[field] = raw
		case "header_up":
			var name, value string
			if !h.AllArgs(&name, &value) {
				return nil, h.ArgErr()
			}
			if t.Headers == nil {
				t.Headers = map[string]string{}
			}
			t.Headers[name] = value
		case "fail_status":
			if t.FailStatus = h.RemainingArgs(); len(t.FailStatus) == 0 {
				return nil, h.ArgErr()
			}
		case "fail_on_empty":
			if !h.AllArgs(&t.FailOnEmpty) {
				return nil, h.ArgErr()
			}
		case "fail_on_invalid_json":
			if h.NextArg() {
				return nil, h.ArgErr()
			}
			t.FailOnInvalidJSON = true
		case "fail_on_finish":
			if t.FailOnFinish = h.RemainingArgs(); len(t.FailOnFinish) == 0 {
				return nil, h.ArgErr()
			}
		case "fail_on_refusal":
			if h.NextArg() {
				return nil, h.ArgErr()
			}
			t.FailOnRefusal = true
		case "uri":
			// `uri /path` is ours; `uri strip_prefix …` is Caddy's directive
			if h.NextArg() && strings.HasPrefix(h.Val(), "/") {
				t.URI = h.Val()
				if h.NextArg() {
					return nil, h.ArgErr()
				}
				continue
			}
			h.Prev()
			handlerTokens = append(handlerTokens, h.NextSegment()...)
		default:
			handlerTokens = append(handlerTokens, h.NextSegment()...)
		}
		if err != nil {
			return nil, err
		}
	}
	if len(handlerTokens) == 0 {
		return nil, h.Errf("tier %q has no handler (e.g. reverse_proxy or respond)", t.Name)
	}
	routes, err := parseHandlerTokens(h, handlerTokens)
	if err != nil {
		return nil, err
	}
	t.Routes = routes
	return t, nil
}

// parseHandlerTokens parses handler directive lines as the routes of a
// block, as `handle` does, so they are sorted by directive order and may
// use matchers.
func parseHandlerTokens(h httpcaddyfile.Helper, tokens []caddyfile.Token) (caddyhttp.RouteList, error) {
	first, last := tokens[0], tokens[len(tokens)-1]
	block := append([]caddyfile.Token{
		{File: first.File, Line: first.Line - 1, Text: "tier"},
		{File: first.File, Line: first.Line - 1, Text: "{"},
	}, tokens...)
	block = append(block, caddyfile.Token{File: last.File, Line: last.Line + 1, Text: "}"})
	handler, err := httpcaddyfile.ParseSegmentAsSubroute(h.WithDispenser(caddyfile.NewDispenser(block)))
	if err != nil {
		return nil, err
	}
	sub, ok := handler.(*caddyhttp.Subroute)
	if !ok {
		return nil, h.Errf("tier handlers were not parsed as a subroute")
	}
	return sub.Routes, nil
}

func parseTierBreaker(d *caddyfile.Dispenser) (*TierBreaker, error) {
	b := new(TierBreaker)
	if d.NextArg() {
		b.Name = d.Val()
	}
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch d.Val() {
		case "failures":
			err = parseCount(d, &b.Failures, 1)
		case "window":
			err = parseDuration(d, &b.Window)
		case "open":
			err = parseDuration(d, &b.Open)
		case "half_open_probes":
			err = parseCount(d, &b.HalfOpenProbes, 1)
		case "successes":
			err = parseCount(d, &b.Successes, 1)
		default:
			return nil, d.Errf("unrecognized breaker option %q", d.Val())
		}
		if err != nil {
			return nil, err
		}
	}
	return b, nil
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

// parseCount reads one integer argument of at least least.
func parseCount(d *caddyfile.Dispenser, dst *int, least int) error {
	name := d.Val()
	var v string
	if !d.AllArgs(&v) {
		return d.ArgErr()
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < least {
		return d.Errf("%s: want a whole number of at least %d, got %q", name, least, v)
	}
	*dst = n
	return nil
}
