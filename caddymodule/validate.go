package caddymodule

import (
	"fmt"
	"regexp"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/ragproxy/ragproxy/validate"
)

func init() {
	caddy.RegisterModule(ValidateHandler{})
}

// defaultValidateMaxBody is the largest body rag_validate reads, as a
// token zone's.
const defaultValidateMaxBody = 8 << 20

// ValidateHandler refuses malformed or out-of-policy LLM and RAG requests
// before they cost anything (it runs before rag_rate_limit): the JSON
// must be one well-formed object without a key twice, with the fields and
// message roles its API requires (OpenAI chat, completions and responses,
// Anthropic messages, RAG query bodies, by path), a question that is not
// blank, and within the limits below. A refusal is 400 (malformed), 413
// (too large) or 422 (against policy), with the API's own error shape and
// a stable code, counted in ragproxy_validate_requests_total. Only POST
// requests are judged; others pass.
type ValidateHandler struct {
	// Largest request body read; a larger one is refused (413). Default: 8 MiB.
	MaxBody int64 `json:"max_body,omitempty"`

	// Most messages in a chat or messages request (items in a Responses
	// input). Default: 0, no limit.
	MaxMessages int `json:"max_messages,omitempty"`

	// Most prompt tokens, estimated as body bytes / 4 (as rate limits
	// estimate). Default: 0, no limit.
	MaxPromptTokens int64 `json:"max_prompt_tokens,omitempty"`

	// Largest output cap (max_tokens, max_completion_tokens,
	// max_output_tokens) a request may name. Default: 0, no limit.
	MaxTokens int64 `json:"max_tokens,omitempty"`

	// Lower a larger output cap to MaxTokens instead of refusing it (422).
	// A request that names no cap is left alone. Default: false (refuse).
	ClampMaxTokens bool `json:"clamp_max_tokens,omitempty"`

	// Models allowed (exact names). Default: any.
	Models []string `json:"models,omitempty"`

	// Most characters (Unicode code points) in the question. Default: 0, no limit.
	MaxQuestionLength int `json:"max_question_length,omitempty"`

	// Regular expressions (Go syntax) no text the user wrote may match:
	// every user message, prompt, input or query, not only the last.
	// Default: none.
	Deny []string `json:"deny,omitempty"`

	// Dotted path of the question in RAG bodies. Default: query, question or q.
	Field string `json:"field,omitempty"`

	rules   validate.Rules
	metrics validateMetrics
	logger  *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (ValidateHandler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.rag_validate",
		New: func() caddy.Module { return new(ValidateHandler) },
	}
}

// Provision compiles the rules.
func (h *ValidateHandler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	if h.MaxBody == 0 {
		h.MaxBody = defaultValidateMaxBody
	}
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	h.rules = validate.Rules{
		MaxMessages:       h.MaxMessages,
		MaxPromptTokens:   h.MaxPromptTokens,
		MaxTokens:         h.MaxTokens,
		ClampMaxTokens:    h.ClampMaxTokens,
		Models:            h.Models,
		MaxQuestionLength: h.MaxQuestionLength,
		Field:             h.Field,
	}
	for _, d := range h.Deny {
		re, err := validate.CompileDeny(d)
		if err != nil {
			return fmt.Errorf("rag_validate: deny %q: %w", d, err)
		}
		h.rules.Deny = append(h.rules.Deny, re)
	}
	h.metrics = newValidateMetrics()
	return nil
}

// Validate checks the configuration.
func (h *ValidateHandler) Validate() error {
	switch {
	case h.MaxBody < 0 || h.MaxMessages < 0 || h.MaxPromptTokens < 0 || h.MaxTokens < 0 || h.MaxQuestionLength < 0:
		return fmt.Errorf("rag_validate: limits must not be negative")
	case h.ClampMaxTokens && h.MaxTokens == 0:
		return fmt.Errorf("rag_validate: clamp needs a max_tokens limit")
	}
	for _, d := range h.Deny {
		if _, err := regexp.Compile(d); err != nil {
			return fmt.Errorf("rag_validate: deny %q: %w", d, err)
		}
	}
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner           = (*ValidateHandler)(nil)
	_ caddy.Validator             = (*ValidateHandler)(nil)
	_ caddyhttp.MiddlewareHandler = (*ValidateHandler)(nil)
)
