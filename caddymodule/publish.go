package caddymodule

import (
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// Handlers publish what they decided for the next handlers and the
// config: a placeholder ({rag.variant}), and for values a `vars` matcher
// may route on, the request var of the same name (a vars matcher reads
// vars, not placeholders). The names are in package contract. Access-log
// fields go through setLogField: their names and grouping differ.

// publish makes value the {name} placeholder and the request var name.
// The value is boxed once for both: each boxing of a string allocates.
func publish(r *http.Request, name, value string) {
	repl, _ := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	vars, _ := r.Context().Value(caddyhttp.VarsCtxKey).(map[string]any)
	publishTo(vars, repl, name, value)
}

// publishTo is publish for a caller that holds the request's vars and
// replacer (either may be nil: outside a Caddy request) and perhaps a
// value boxed once for every request, such as a tier's name.
func publishTo(vars map[string]any, repl *caddy.Replacer, name string, value any) {
	if repl != nil {
		repl.Set(name, value)
	}
	if vars != nil {
		vars[name] = value
	}
}

// publishPlaceholder makes value the {name} placeholder only, for values
// nothing routes on.
func publishPlaceholder(r *http.Request, name, value string) {
	if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
		repl.Set(name, value)
	}
}
