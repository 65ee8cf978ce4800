package caddymodule

import (
	"strconv"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func parseValidateCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	v := new(ValidateHandler)
	err := v.UnmarshalCaddyfile(h.Dispenser)
	return v, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens:
//
//	rag_validate {
//		max_body            <size>
//		max_messages        <n>
//		max_prompt_tokens   <n>
//		max_tokens          <n> [clamp]
//		models              <name...>
//		max_question_length <n>
//		deny                <regexp>   # one per line, any number
//		field               <dotted.path>
//	}
func (v *ValidateHandler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		var err error
		switch d.Val() {
		case "max_body":
			err = parseSize(d, &v.MaxBody)
		case "max_messages":
			err = parseCount(d, &v.MaxMessages, 1)
		case "max_prompt_tokens":
			err = parseInt64(d, &v.MaxPromptTokens)
		case "max_tokens":
			args := d.RemainingArgs()
			switch {
			case len(args) == 2 && args[1] == "clamp":
				v.ClampMaxTokens = true
			case len(args) != 1:
				return d.Errf("max_tokens: want <n> [clamp]")
			}
			n, perr := strconv.ParseInt(args[0], 10, 64)
			if perr != nil || n < 1 {
				return d.Errf("max_tokens: want a whole number of at least 1, got %q", args[0])
			}
			v.MaxTokens = n
		case "models":
			if v.Models = append(v.Models, d.RemainingArgs()...); len(v.Models) == 0 {
				return d.ArgErr()
			}
		case "max_question_length":
			err = parseCount(d, &v.MaxQuestionLength, 1)
		case "deny":
			var re string
			if !d.AllArgs(&re) {
				return d.ArgErr()
			}
			v.Deny = append(v.Deny, re)
		case "field":
			if !d.AllArgs(&v.Field) {
				return d.ArgErr()
			}
		default:
			return d.Errf("unrecognized rag_validate option %q", d.Val())
		}
		if err != nil {
			return err
		}
	}
	if err := v.Validate(); err != nil {
		return d.Err(err.Error())
	}
	return nil
}

// parseInt64 reads one whole number of at least 1.
func parseInt64(d *caddyfile.Dispenser, dst *int64) error {
	name := d.Val()
	var s string
	if !d.AllArgs(&s) {
		return d.ArgErr()
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return d.Errf("%s: want a whole number of at least 1, got %q", name, s)
	}
	*dst = n
	return nil
}

// Interface guard
var _ caddyfile.Unmarshaler = (*ValidateHandler)(nil)
