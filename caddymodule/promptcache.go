package caddymodule

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ragproxy/ragproxy/llm"
	"github.com/ragproxy/ragproxy/promptcache"
)

func init() {
	caddy.RegisterModule(PromptCacheHandler{})
}

// defaultPromptCacheKey is whose requests share OpenAI's prompt cache
// affinity: one credential's.
const defaultPromptCacheKey = "{http.request.header.Authorization}"

// PromptCacheHandler prepares requests for the providers' prompt caches:
// on Anthropic's Messages API it inserts cache_control breakpoints where
// they pay (after the tools, after the system prompt, on the last large
// content blocks), never beyond four with the client's own and never
// where the prefix is too short to be cached; on OpenAI's chat and
// Responses APIs it sets prompt_cache_key, when the client did not, to a
// hash of the tenant's key, so requests sharing a prefix reach the same
// cache. Only POST bodies up to MaxBody are read; others pass unchanged.
type PromptCacheHandler struct {
	// Least estimated prefix (body bytes / 4 up to the breakpoint) worth
	// a breakpoint. Default: 0, by the model: 2048 for Haiku, 1024 for
	// others (Anthropic's minimum cacheable prompts).
	MinTokens int64 `json:"min_tokens,omitempty"`

	// Least estimated size of a message content block worth a breakpoint
	// of its own (retrieved documents are the typical one). Default: 256.
	MinBlockTokens int64 `json:"min_block_tokens,omitempty"`

	// TTL of the breakpoints inserted: "5m" or "1h". Default: "5m" (the
	// API's default; no ttl is written).
	TTL string `json:"ttl,omitempty"`

	// The placeholder whose value, hashed, becomes prompt_cache_key;
	// "off" sets none. Default: {http.request.header.Authorization}.
	Key string `json:"key,omitempty"`

	// Largest body read; a larger one passes unchanged. Default: 8 MiB.
	MaxBody int64 `json:"max_body,omitempty"`

	key     placeholder
	opts    promptcache.Options
	results map[promptcache.Result]prometheus.Counter
}

// CaddyModule returns the Caddy module information.
func (PromptCacheHandler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.rag_prompt_cache",
		New: func() caddy.Module { return new(PromptCacheHandler) },
	}
}

// Provision sets the defaults.
func (h *PromptCacheHandler) Provision(ctx caddy.Context) error {
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	if h.MaxBody == 0 {
		h.MaxBody = defaultValidateMaxBody
	}
	if h.Key == "" {
		h.Key = defaultPromptCacheKey
	}
	if h.Key != "off" {
		h.key = newPlaceholder(h.Key)
	}
	ttl := h.TTL
	if ttl == "5m" {
		ttl = ""
	}
	h.opts = promptcache.Options{MinTokens: h.MinTokens, MinBlockTokens: h.MinBlockTokens, TTL: ttl}
	h.results = make(map[promptcache.Result]prometheus.Counter, len(promptcache.Results))
	for _, r := range promptcache.Results {
		h.results[r] = promptCacheResults.WithLabelValues(string(r))
	}
	return nil
}

// Validate checks the configuration.
func (h *PromptCacheHandler) Validate() error {
	switch {
	case h.TTL != "" && h.TTL != "5m" && h.TTL != "1h":
		return fmt.Errorf("rag_prompt_cache: ttl must be 5m or 1h, got %q", h.TTL)
	case h.MinTokens < 0 || h.MinBlockTokens < 0 || h.MaxBody < 0:
		return errors.New("rag_prompt_cache: sizes must not be negative")
	}
	return nil
}

// ServeHTTP rewrites the body for the provider's prompt cache, if it can.
// As the first ragproxy handler of a route it times the request and
// meters its cost (serveTimed).
func (h *PromptCacheHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	return serveTimed(h, w, r, next)
}

func (h *PromptCacheHandler) serve(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	api := llm.APIOf(r.URL.Path)
	if r.Method != http.MethodPost || (api != llm.Messages && api != llm.Chat && api != llm.Responses) {
		return next.ServeHTTP(w, r)
	}
	body, err := readBody(r, h.MaxBody)
	if err != nil {
		return next.ServeHTTP(w, r) // too large or unreadable: the body stays whole, unchanged
	}
	var out []byte
	var res promptcache.Result
	if api == llm.Messages {
		out, res, _ = promptcache.Anthropic(body, h.opts)
	} else {
		key := ""
		if h.key.text != "" {
			if v := h.key.render(r, r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)); v != "" {
				sum := sha256.Sum256([]byte(v))
				key = hex.EncodeToString(sum[:16]) // the tenant's, never its credential
			}
		}
		out, res = promptcache.OpenAI(body, key)
	}
	h.results[res].Inc()
	if res == promptcache.Added || res == promptcache.KeySet {
		setBody(r, out)
		r.Header.Set("Content-Length", strconv.Itoa(len(out)))
	}
	return next.ServeHTTP(w, r)
}

func parsePromptCacheCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	pc := new(PromptCacheHandler)
	err := pc.UnmarshalCaddyfile(h.Dispenser)
	return pc, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens:
//
//	rag_prompt_cache {
//		min_tokens       <n>
//		min_block_tokens <n>
//		ttl              5m|1h
//		key              <placeholder>|off
//		max_body         <size>
//	}
func (h *PromptCacheHandler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		var err error
		switch d.Val() {
		case "min_tokens":
			err = parseCount(d, &h.MinTokens, 1)
		case "min_block_tokens":
			err = parseCount(d, &h.MinBlockTokens, 1)
		case "ttl":
			err = parseArg(d, &h.TTL)
		case "key":
			err = parseArg(d, &h.Key)
		case "max_body":
			err = parseSize(d, &h.MaxBody)
		default:
			return d.Errf("unrecognized rag_prompt_cache option %q", d.Val())
		}
		if err != nil {
			return err
		}
	}
	if err := h.Validate(); err != nil {
		return d.Err(err.Error())
	}
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner           = (*PromptCacheHandler)(nil)
	_ caddy.Validator             = (*PromptCacheHandler)(nil)
	_ caddyhttp.MiddlewareHandler = (*PromptCacheHandler)(nil)
	_ caddyfile.Unmarshaler       = (*PromptCacheHandler)(nil)
)
