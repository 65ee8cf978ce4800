// Package caddymodule holds ragproxy's Caddy modules: the HTTP handlers, their
// Caddyfile directives, the admin API and the Prometheus metrics. It is thin
// glue: the behaviour lives in the domain packages (cache, …), which know
// nothing of Caddy.
package caddymodule
