package caddymodule

import "testing"

// BenchmarkValidateHandler is rag_validate's own cost per request (every
// limit set, one deny pattern) with the cost metering it starts as the
// first ragproxy handler; compare with BenchmarkFloor.
func BenchmarkValidateHandler(b *testing.B) {
	h := provisioned(b, &ValidateHandler{
		MaxMessages: 64, MaxPromptTokens: 100000, MaxTokens: 4096, ClampMaxTokens: true,
		Models: []string{"gpt-4o-mini"}, MaxQuestionLength: 4000,
		Deny: []string{"(?i)ignore (all )?previous instructions"},
	})
	benchHandler(b, h, benchAuth)
}

// BenchmarkCostHandler is rag_cost alone: reading the body for its model,
// metering the answer and pricing its usage.
func BenchmarkCostHandler(b *testing.B) {
	benchHandler(b, provisioned(b, &CostHandler{}), benchAuth)
}

// BenchmarkPromptCacheHandler is rag_prompt_cache on an OpenAI chat
// request: prompt_cache_key set from the hashed Authorization, the body
// re-encoded, and the cost meter it starts as the first handler.
func BenchmarkPromptCacheHandler(b *testing.B) {
	benchHandler(b, provisioned(b, &PromptCacheHandler{}), benchAuth)
}
