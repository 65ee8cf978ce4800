package caddymodule

import "github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"

// The directives and their place in Caddy's handler order, so users need
// no `order` option: rag_cost (prices, and metering the cost) comes
// first, requests are validated next (a refused request
// spends no budget), limits are checked next, then the experiment picks
// a variant (so the cache and its measurement see it), the cache answers
// (keyed on the client's own body) before rag_prompt_cache rewrites the
// body for the provider's prompt cache and the fallback tiers run, and all come before a plain
// reverse_proxy in the same route. Each is placed
// right before reverse_proxy (only standard directives may be named), so
// the registration order below is the order they run in.
func init() {
	httpcaddyfile.RegisterHandlerDirective("rag_cost", parseCostCaddyfile)
	httpcaddyfile.RegisterHandlerDirective("rag_validate", parseValidateCaddyfile)
	httpcaddyfile.RegisterHandlerDirective("rag_rate_limit", parseRateLimitCaddyfile)
	httpcaddyfile.RegisterHandlerDirective("rag_split", parseSplitCaddyfile)
	httpcaddyfile.RegisterHandlerDirective("rag_feedback", parseFeedbackCaddyfile)
	httpcaddyfile.RegisterHandlerDirective("rag_cache", parseCacheCaddyfile)
	httpcaddyfile.RegisterHandlerDirective("rag_prompt_cache", parsePromptCacheCaddyfile)
	httpcaddyfile.RegisterHandlerDirective("rag_fallback", parseFallbackCaddyfile)
	httpcaddyfile.RegisterDirectiveOrder("rag_cost", httpcaddyfile.Before, "reverse_proxy")
	httpcaddyfile.RegisterDirectiveOrder("rag_validate", httpcaddyfile.Before, "reverse_proxy")
	httpcaddyfile.RegisterHandlerDirective("rag_dashboard", parseDashboardCaddyfile)
	httpcaddyfile.RegisterDirectiveOrder("rag_rate_limit", httpcaddyfile.Before, "reverse_proxy")
	httpcaddyfile.RegisterDirectiveOrder("rag_split", httpcaddyfile.Before, "reverse_proxy")
	httpcaddyfile.RegisterDirectiveOrder("rag_feedback", httpcaddyfile.Before, "reverse_proxy")
	httpcaddyfile.RegisterDirectiveOrder("rag_cache", httpcaddyfile.Before, "reverse_proxy")
	httpcaddyfile.RegisterDirectiveOrder("rag_prompt_cache", httpcaddyfile.Before, "reverse_proxy")
	httpcaddyfile.RegisterDirectiveOrder("rag_fallback", httpcaddyfile.Before, "reverse_proxy")
	httpcaddyfile.RegisterDirectiveOrder("rag_dashboard", httpcaddyfile.Before, "reverse_proxy")
}
