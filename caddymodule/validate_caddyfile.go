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
			err = parseCount(d, &v.MaxPromptTokens, 1)
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
			err = parseArgs(d, &v.Models)
		case "max_question_length":
			err = parseCount(d, &v.MaxQuestionLength, 1)
		case "deny":
			var re string
			if err = parseArg(d, &re); err == nil {
				v.Deny = append(v.Deny, re)
			}
		case "field":
			err = parseArg(d, &v.Field)
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

// Interface guard
var _ caddyfile.Unmarshaler = (*ValidateHandler)(nil)
