package caddymodule

import "github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"

// The directives and their place in Caddy's handler order, so users need
// no `order` option: limits are checked first, then the experiment picks
// a variant (so the cache and its measurement see it), the cache answers
// before the fallback tiers run, and all come before a plain
// reverse_proxy in the same route. Each is placed
// right before reverse_proxy (only standard directives may be named), so
// the registration order below is the order they run in.
func init() {
	httpcaddyfile.RegisterHandlerDirective("rag_rate_limit", parseRateLimitCaddyfile)
	httpcaddyfile.RegisterHandlerDirective("rag_split", parseSplitCaddyfile)
	httpcaddyfile.RegisterHandlerDirective("rag_feedback", parseFeedbackCaddyfile)
	httpcaddyfile.RegisterHandlerDirective("rag_cache", parseCacheCaddyfile)
	httpcaddyfile.RegisterHandlerDirective("rag_fallback", parseFallbackCaddyfile)
	httpcaddyfile.RegisterHandlerDirective("rag_dashboard", parseDashboardCaddyfile)
	httpcaddyfile.RegisterDirectiveOrder("rag_rate_limit", httpcaddyfile.Before, "reverse_proxy")
	httpcaddyfile.RegisterDirectiveOrder("rag_split", httpcaddyfile.Before, "reverse_proxy")
	httpcaddyfile.RegisterDirectiveOrder("rag_feedback", httpcaddyfile.Before, "reverse_proxy")
	httpcaddyfile.RegisterDirectiveOrder("rag_cache", httpcaddyfile.Before, "reverse_proxy")
	httpcaddyfile.RegisterDirectiveOrder("rag_fallback", httpcaddyfile.Before, "reverse_proxy")
	httpcaddyfile.RegisterDirectiveOrder("rag_dashboard", httpcaddyfile.Before, "reverse_proxy")
}
