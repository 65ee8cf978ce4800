package caddymodule

import (
	"net/http"
	"net/textproto"
	"strings"

	"github.com/caddyserver/caddy/v2"
)

// placeholder is a config string with Caddy placeholders, rendered per
// request. Keys, scopes and sticky values are most often one placeholder
// and nothing else ({http.request.header.Authorization}); those are looked
// up directly, without ReplaceAll's scan and string builder, and a request
// header is read straight from the request, without walking the
// replacer's providers.
type placeholder struct {
	text   string
	name   string // set when text is exactly one placeholder
	header string // canonical header name, when that placeholder is a request header
}

// requestHeaderPrefix is Caddy's placeholder prefix for request headers.
const requestHeaderPrefix = "http.request.header."

func newPlaceholder(text string) placeholder {
	p := placeholder{text: text}
	if inner, ok := strings.CutPrefix(text, "{"); ok {
		if inner, ok = strings.CutSuffix(inner, "}"); ok && inner != "" && !strings.ContainsAny(inner, `{}\`) {
			p.name = inner
		}
	}
	if field, ok := strings.CutPrefix(p.name, requestHeaderPrefix); ok && field != "" {
		p.header = textproto.CanonicalMIMEHeaderKey(field)
	}
	return p
}

// render returns the text with its placeholders replaced; unknown ones
// become empty, as with ReplaceAll(text, ""). A request header renders as
// its FIRST value (what Header.Get, and so most upstreams, read), not as
// Caddy renders it (all values joined by commas): a key, scope or sticky
// value must not change when a client repeats a header with junk after
// the value the upstream uses.
func (p placeholder) render(r *http.Request, repl *caddy.Replacer) string {
	switch {
	case p.header != "":
		if vals := r.Header[p.header]; len(vals) > 0 {
			return vals[0]
		}
		return ""
	case p.name != "":
		if strings.HasPrefix(p.name, requestHeaderPrefix) {
			return "" // {http.request.header.}: no such header
		}
		s, _ := repl.GetString(p.name)
		return s
	case !strings.Contains(p.text, requestHeaderPrefix):
		return repl.ReplaceAll(p.text, "")
	}
	s, _ := repl.ReplaceFunc(p.text, func(key string, val any) (any, error) {
		if field, ok := strings.CutPrefix(key, requestHeaderPrefix); ok {
			if vals := r.Header[textproto.CanonicalMIMEHeaderKey(field)]; len(vals) > 0 {
				return vals[0], nil
			}
			return "", nil
		}
		return val, nil
	})
	return s
}
