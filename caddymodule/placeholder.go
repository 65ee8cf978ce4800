package caddymodule

import (
	"strings"

	"github.com/caddyserver/caddy/v2"
)

// placeholder is a config string with Caddy placeholders, rendered per
// request. Keys, scopes and sticky values are most often one placeholder
// and nothing else ({http.request.header.Authorization}); those are looked
// up directly, without ReplaceAll's scan and string builder.
type placeholder struct {
	text string
	name string // set when text is exactly one placeholder
}

func newPlaceholder(text string) placeholder {
	p := placeholder{text: text}
	if inner, ok := strings.CutPrefix(text, "{"); ok {
		if inner, ok = strings.CutSuffix(inner, "}"); ok && inner != "" && !strings.ContainsAny(inner, `{}\`) {
			p.name = inner
		}
	}
	return p
}

// render returns the text with its placeholders replaced; unknown ones
// become empty, as with ReplaceAll(text, "").
func (p placeholder) render(repl *caddy.Replacer) string {
	if p.name != "" {
		s, _ := repl.GetString(p.name)
		return s
	}
	return repl.ReplaceAll(p.text, "")
}
