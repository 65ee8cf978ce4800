package caddymodule

import (
	"encoding/json"
	"strings"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func parseFallbackCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	fb := new(FallbackHandler)
	if err := fb.UnmarshalCaddyfile(h.Dispenser); err != nil {
		return nil, err
	}
	if err := fb.FinalizeUnmarshalCaddyfile(h); err != nil {
		return nil, err
	}
	return fb, nil
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens:
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
//
// A tier's handler directives are only collected here: parsing them needs
// an httpcaddyfile.Helper, so FinalizeUnmarshalCaddyfile must be called
// after this, as with Caddy's intercept.
func (fb *FallbackHandler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		switch d.Val() {
		case "max_body":
			if err := parseSize(d, &fb.MaxBody); err != nil {
				return err
			}
		case "tier":
			t, err := parseTier(d)
			if err != nil {
				return err
			}
			fb.Tiers = append(fb.Tiers, t)
		default:
			return d.Errf("unrecognized rag_fallback option %q", d.Val())
		}
	}
	return nil
}

// FinalizeUnmarshalCaddyfile parses the tiers' handler directives into
// their routes, which needs the helper, then checks the whole handler
// as a config load would, so the adapter reports a bad rag_fallback with
// its place in the Caddyfile.
func (fb *FallbackHandler) FinalizeUnmarshalCaddyfile(h httpcaddyfile.Helper) error {
	for _, t := range fb.Tiers {
		if len(t.handlerTokens) == 0 {
			continue
		}
		routes, err := parseHandlerTokens(h, t.handlerTokens)
		if err != nil {
			return err
		}
		t.Routes, t.handlerTokens = routes, nil
	}
	if err := fb.Validate(); err != nil {
		return h.Err(err.Error())
	}
	return nil
}

// parseTier reads a tier's options; its handler directives are kept as
// tokens for FinalizeUnmarshalCaddyfile.
func parseTier(d *caddyfile.Dispenser) (*Tier, error) {
	t := new(Tier)
	if err := parseArg(d, &t.Name); err != nil {
		return nil, err
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		opt := d.Val()
		var err error
		switch opt {
		case "timeout":
			err = parseDuration(d, &t.Timeout)
		case "first_byte_timeout":
			err = parseDuration(d, &t.FirstByteTimeout)
		case "retry_backoff":
			err = parseDuration(d, &t.RetryBackoff)
		case "retries":
			err = parseCount(d, &t.Retries, 0)
		case "breaker":
			t.Breaker, err = parseTierBreaker(d)
		case "set_json":
			var field, value string
			if !d.AllArgs(&field, &value) {
				return nil, d.ArgErr()
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
			if !d.AllArgs(&name, &value) {
				return nil, d.ArgErr()
			}
			if t.Headers == nil {
				t.Headers = map[string]string{}
			}
			t.Headers[name] = value
		case "fail_status":
			err = parseArgs(d, &t.FailStatus)
		case "fail_on_empty":
			err = parseArg(d, &t.FailOnEmpty)
		case "fail_on_invalid_json":
			err = parseFlag(d, &t.FailOnInvalidJSON)
		case "fail_on_finish":
			err = parseArgs(d, &t.FailOnFinish)
		case "fail_on_refusal":
			err = parseFlag(d, &t.FailOnRefusal)
		case "uri":
			// `uri /path` is ours; `uri strip_prefix …` is Caddy's directive
			if d.NextArg() && strings.HasPrefix(d.Val(), "/") {
				t.URI = d.Val()
				if d.NextArg() {
					return nil, d.ArgErr()
				}
				continue
			}
			d.Prev()
			t.handlerTokens = append(t.handlerTokens, d.NextSegment()...)
		default:
			t.handlerTokens = append(t.handlerTokens, d.NextSegment()...)
		}
		if err != nil {
			return nil, err
		}
	}
	if len(t.handlerTokens) == 0 {
		return nil, d.Errf("tier %q has no handler (e.g. reverse_proxy or respond)", t.Name)
	}
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

// Interface guard
var _ caddyfile.Unmarshaler = (*FallbackHandler)(nil)
