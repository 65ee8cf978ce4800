package cost

// Defaults are the prices shipped, in US dollars per million tokens:
// Anthropic's from platform.claude.com/docs/en/about-claude/pricing
// (base input, 5-minute cache writes, cache hits, output), OpenAI's from
// openai.com/api/pricing (input, cached input, output), as read for this
// table on 2026-12-02. Prices change: operators override them (rag_cost
// price lines), and the README says so.
var Defaults = map[string]Price{
	// Anthropic
	"claude-opus-4-5*":   {Input: 5, CacheWrite: 6.25, CachedInput: 0.50, Output: 25},
	"claude-opus-4-1*":   {Input: 15, CacheWrite: 18.75, CachedInput: 1.50, Output: 75},
	"claude-sonnet-4-5*": {Input: 3, CacheWrite: 3.75, CachedInput: 0.30, Output: 15},
	"claude-sonnet-4*":   {Input: 3, CacheWrite: 3.75, CachedInput: 0.30, Output: 15},
	"claude-haiku-4-5*":  {Input: 1, CacheWrite: 1.25, CachedInput: 0.10, Output: 5},
	"claude-3-5-haiku*":  {Input: 0.80, CacheWrite: 1, CachedInput: 0.08, Output: 4},
	// OpenAI
	"gpt-5*":        {Input: 1.25, CachedInput: 0.125, Output: 10},
	"gpt-5-mini*":   {Input: 0.25, CachedInput: 0.025, Output: 2},
	"gpt-5-nano*":   {Input: 0.05, CachedInput: 0.005, Output: 0.40},
	"gpt-4.1*":      {Input: 2, CachedInput: 0.50, Output: 8},
	"gpt-4.1-mini*": {Input: 0.40, CachedInput: 0.10, Output: 1.60},
	"gpt-4.1-nano*": {Input: 0.10, CachedInput: 0.025, Output: 0.40},
	"gpt-4o*":       {Input: 2.50, CachedInput: 1.25, Output: 10},
	"gpt-4o-mini*":  {Input: 0.15, CachedInput: 0.075, Output: 0.60},
	"o3*":           {Input: 2, CachedInput: 0.50, Output: 8},
	"o4-mini*":      {Input: 1.10, CachedInput: 0.275, Output: 4.40},
}
