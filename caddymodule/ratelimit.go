package caddymodule

import (
	"fmt"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/ragproxy/ragproxy/ratelimit"
)

func init() {
	caddy.RegisterModule(RateLimitHandler{})
}

// RateLimitHandler limits requests per key in zones: a request rate, an
// LLM token budget, a budget in dollars, or requests in flight. Keys are placeholders (an API
// key, a user or team header, the client's address), so one noisy caller
// cannot starve the others.
//
// A refused request gets 429 with Retry-After, the RateLimit-Limit,
// RateLimit-Remaining and RateLimit-Reset headers, and an OpenAI-shaped
// JSON error naming the zone; allowed answers carry the same RateLimit-*
// headers for the zone closest to its limit. With redis set, rate and
// token zones are shared by every instance using that Redis; if it cannot
// be reached they fall back to this instance's own counts, and say so in
// the logs and metrics, and requests keep flowing.
//
// Zone state lives in this process by zone name and outlives config
// reloads; handlers that name the same zone share its counts.
type RateLimitHandler struct {
	// Redis server shared by every instance, as a URL
	// (redis://[user:password@]host:port/db, rediss:// for TLS).
	// Default: none, limits are kept in this process.
	Redis string `json:"redis,omitempty"`

	// Bound on each Redis call, connecting included; after a failure
	// Redis is tried again a second later. Default: 100ms.
	RedisTimeout caddy.Duration `json:"redis_timeout,omitempty"`

	// The zones, checked for every request. A request must pass them all.
	Zones []*RateLimitZone `json:"zones,omitempty"`

	// How token zones learn what a streamed OpenAI chat or legacy
	// completion cost. Such a stream reports usage only if the request
	// sets stream_options.include_usage, which most clients do not. "ask"
	// sets it on streaming POSTs to a path ending in /completions
	// (/v1/chat/completions, /v1/completions) that a token zone applies
	// to, and takes the usage-only chunk it adds back out of the stream
	// the client reads. Keys are matched with escapes decoded and case
	// ignored, "stream" is true as Python backends coerce it (true, a
	// non-zero number, a non-empty string, array or object), and the
	// rewritten body has exactly one stream_options, with include_usage
	// true. "off" leaves requests alone, for backends that refuse
	// stream_options: such streams are then charged an estimate from
	// their sizes. Default: ask.
	StreamUsage string `json:"stream_usage,omitempty"`

	// Largest request body a token zone reads, in bytes, to estimate the
	// request's cost and to ask streams for usage; a larger body is
	// refused with 413. Default: 8388608 (8 MiB).
	MaxBody int64 `json:"max_body,omitempty"`

	// Output tokens a token zone reserves for a request that names no
	// cap (max_tokens, max_completion_tokens or max_output_tokens).
	// Default: 1024.
	ReserveOutput int64 `json:"reserve_output,omitempty"`

	// Refuse by returning a Caddy error (status 429) instead of writing
	// the answer, so that handle_errors can shape it. Retry-After and the
	// RateLimit-* headers are set either way, and so are the placeholders
	// {rag.rate_limit.zone} (the zone that refused) and
	// {rag.rate_limit.retry_after} (whole seconds). Default: false, the
	// refusal is an OpenAI-shaped JSON error written here.
	RefuseWithError bool `json:"refuse_with_error,omitempty"`

	remote        *ratelimit.Redis
	redisKey      string
	zones         []*zone // token and budget zones first, then concurrent, then rate
	maxBody       int64
	reserveOutput int64
	logger        *zap.Logger
}

// Defaults of RateLimitHandler.MaxBody and ReserveOutput.
const (
	defaultRateLimitMaxBody = 8 << 20
	defaultReserveOutput    = 1024
)

// RateLimitZone is one limit, applied per key. Exactly one of rate,
// tokens, budget and concurrent is set.
type RateLimitZone struct {
	// Name of the zone, used in errors, metrics and Redis keys. Required.
	Name string `json:"name"`

	// The key the limit applies per, a placeholder expression such as
	// "{http.request.header.Authorization}" or "{remote_host}". A request
	// whose key is empty is not limited by the zone. Required.
	Key string `json:"key"`

	// Requests per period, as count/period with period s, m, h, d or a Go
	// duration: "60/m", "5/30s". Counted with GCRA: requests may come
	// every period/count on average, and up to burst at once.
	// Default: none.
	Rate string `json:"rate,omitempty"`

	// With rate: how many requests may come at once. Default: the rate's
	// count (60/m allows 60 at once, then one a second).
	Burst int64 `json:"burst,omitempty"`

	// LLM tokens per window, as count/period like rate: "100000/h".
	// Windows are aligned to the clock (an hourly budget renews on the
	// hour). Before a request goes on, it reserves its estimated cost
	// (body bytes / 4, plus its max_tokens, max_completion_tokens or
	// max_output_tokens, times n, or reserve_output): it is allowed while
	// the key's spent and reserved tokens are below the budget, and its
	// reservation is debited at once. After the answer the reservation is
	// replaced by the answer's usage (the JSON body, or a stream's usage
	// events), or, where none can be read, an estimate from the sizes
	// (body bytes / 4 + answer bytes / 4). The answer that crosses the
	// budget is served and costs all it reports. Answers rag_cache gives
	// (its rag.cache.status var: HIT, SEMANTIC-HIT, STALE) cost nothing.
	// The zone removes Accept-Encoding from the request, so the answer is
	// readable. Default: none.
	Tokens string `json:"tokens,omitempty"`

	// Spending in US dollars per window, as usd/period: "5/h", "0.50/d".
	// A token budget counted in money: each request reserves the price
	// of its estimated tokens (as tokens does: body bytes / 4 as input,
	// plus its output cap or reserve_output) at its model's price, and
	// settles to the price of its answer's usage (cached input priced as
	// cached), or of the size estimate, by the price table of rag_cost
	// before it in the route, else the shipped one. A model the table
	// does not know is priced at the table's dearest price (each of
	// input, cached input, cache write and output the largest in the
	// table), never at nothing: a budget an unpriced model could spend
	// for free would bound nothing, and refusing it would refuse a
	// client's request for the operator's missing price line. Give
	// rag_cost a "*" price to price unknown models otherwise. Windows,
	// refusals, cache hits and the answer that crosses the budget are as
	// for tokens; the RateLimit-* headers count in micro-dollars.
	// Default: none.
	Budget string `json:"budget,omitempty"`

	// Requests in flight at once. Counted by each instance even with
	// redis: a shared count would leak slots whenever an instance dies
	// mid-request. Default: none.
	Concurrent int64 `json:"concurrent,omitempty"`

	// Most keys tracked in this process, at least 64 (one per shard of
	// the table); idle keys (a full bucket, a past
	// window) are dropped first, then, only if that is not enough, random
	// live ones, which start over. A concurrent zone never drops a key with
	// requests in flight: a new key that finds no room is refused (429,
	// counted in ragproxy_ratelimit_full_total). Default: 1048576
	// (when full, about 44 MiB for a rate zone, 61 MiB for a token zone).
	MaxKeys int `json:"max_keys,omitempty"`
}

// Values of RateLimitHandler.StreamUsage.
const (
	streamUsageAsk = "ask"
	streamUsageOff = "off"
)

// zone is a provisioned RateLimitZone.
type zone struct {
	cfg      *RateLimitZone
	key      placeholder
	kind     string // "tokens", "budget", "concurrent" or "rate"
	rate     ratelimit.Rate
	budget   ratelimit.Budget
	state    *zoneState
	rater    *ratelimit.RateLimiter
	spender  *ratelimit.TokenLimiter
	poolKey  string
	metrics  zoneMetrics
	extra    zoneExtraMetrics
	limitDoc string // the limit in words, for errors
}

// CaddyModule returns the Caddy module information.
func (RateLimitHandler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.rag_rate_limit",
		New: func() caddy.Module { return new(RateLimitHandler) },
	}
}

// Provision sets the defaults, parses the zones and attaches them to
// their state. Caddy calls Validate after it.
func (h *RateLimitHandler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	h.maxBody, h.reserveOutput = h.MaxBody, h.ReserveOutput
	if h.maxBody == 0 {
		h.maxBody = defaultRateLimitMaxBody
	}
	if h.reserveOutput == 0 {
		h.reserveOutput = defaultReserveOutput
	}
	if h.Redis != "" {
		remote, key, err := acquireRedis(h.Redis, time.Duration(h.RedisTimeout))
		if err != nil {
			return fmt.Errorf("rag_rate_limit: %w", err)
		}
		h.remote, h.redisKey = remote, key
	}
	byKind := map[string][]*zone{}
	for _, cfg := range h.Zones {
		z, err := h.provisionZone(cfg)
		if err != nil {
			return fmt.Errorf("rag_rate_limit zone %q: %w", cfg.Name, err)
		}
		byKind[z.kind] = append(byKind[z.kind], z)
	}
	// Check before spending: budgets and slots are looked at before any
	// rate bucket is drawn from, so fewer refusals use up a rate.
	for _, kind := range []string{"tokens", "budget", "concurrent", "rate"} {
		h.zones = append(h.zones, byKind[kind]...)
	}
	return nil
}

func (h *RateLimitHandler) provisionZone(cfg *RateLimitZone) (*zone, error) {
	z := &zone{cfg: cfg, key: newPlaceholder(cfg.Key), metrics: newZoneMetrics(cfg.Name), extra: newZoneExtraMetrics(cfg.Name)}
	maxKeys := cfg.MaxKeys
	if maxKeys == 0 {
		maxKeys = ratelimit.DefaultMaxKeys
	}
	switch {
	case cfg.Rate != "":
		count, per, err := ratelimit.ParseRate(cfg.Rate)
		if err != nil {
			return nil, err
		}
		burst := cfg.Burst
		if burst == 0 {
			burst = count
		}
		z.kind, z.rate = "rate", ratelimit.Rate{Count: count, Per: per, Burst: burst}
		z.limitDoc = fmt.Sprintf("%s requests, burst %d", cfg.Rate, burst)
	case cfg.Tokens != "":
		count, per, err := ratelimit.ParseRate(cfg.Tokens)
		if err != nil {
			return nil, err
		}
		z.kind, z.budget = "tokens", ratelimit.Budget{Tokens: count, Window: per}
		z.limitDoc = cfg.Tokens + " tokens"
	case cfg.Budget != "":
		micro, per, err := ratelimit.ParseCost(cfg.Budget)
		if err != nil {
			return nil, err
		}
		z.kind, z.budget = "budget", ratelimit.Budget{Tokens: micro, Window: per}
		z.limitDoc = "$" + strings.TrimPrefix(strings.TrimSpace(cfg.Budget), "$")
	default:
		z.kind = "concurrent"
		z.limitDoc = fmt.Sprintf("%d requests in flight", cfg.Concurrent)
	}
	state, key, err := acquireZoneState(cfg.Name, z.kind, maxKeys)
	if err != nil {
		return nil, err
	}
	z.state, z.poolKey = state, key
	z.rater = ratelimit.NewRateLimiter(cfg.Name, state.gcra, h.remote)
	z.spender = ratelimit.NewTokenLimiter(cfg.Name, state.windows, h.remote)
	if z.kind == "budget" {
		z.spender = ratelimit.NewCostLimiter(cfg.Name, state.windows, h.remote)
	}
	return z, nil
}

// Validate checks the configuration, JSON or Caddyfile alike.
func (h *RateLimitHandler) Validate() error {
	if len(h.Zones) == 0 {
		return fmt.Errorf("rag_rate_limit: no zones")
	}
	if h.RedisTimeout < 0 {
		return fmt.Errorf("rag_rate_limit: redis_timeout must not be negative")
	}
	if h.MaxBody < 0 || h.ReserveOutput < 0 {
		return fmt.Errorf("rag_rate_limit: max_body and reserve_output must not be negative")
	}
	switch h.StreamUsage {
	case "", streamUsageAsk, streamUsageOff:
	default:
		return fmt.Errorf("rag_rate_limit: stream_usage must be %s or %s, not %q", streamUsageAsk, streamUsageOff, h.StreamUsage)
	}
	seen := map[string]bool{}
	for _, z := range h.Zones {
		kinds := 0
		for _, set := range []bool{z.Rate != "", z.Tokens != "", z.Budget != "", z.Concurrent != 0} {
			if set {
				kinds++
			}
		}
		switch {
		case z.Name == "":
			return fmt.Errorf("rag_rate_limit: a zone has no name")
		case seen[z.Name]:
			return fmt.Errorf("rag_rate_limit: zone %q is defined twice", z.Name)
		case z.Key == "":
			return fmt.Errorf("rag_rate_limit zone %q: key is required", z.Name)
		case kinds != 1:
			return fmt.Errorf("rag_rate_limit zone %q: set exactly one of rate, tokens, budget and concurrent", z.Name)
		case z.Concurrent < 0 || z.Burst < 0 || z.MaxKeys < 0:
			return fmt.Errorf("rag_rate_limit zone %q: concurrent, burst and max_keys must not be negative", z.Name)
		case z.Burst != 0 && z.Rate == "":
			return fmt.Errorf("rag_rate_limit zone %q: burst goes with rate", z.Name)
		case z.MaxKeys != 0 && z.MaxKeys < minZoneKeys:
			return fmt.Errorf("rag_rate_limit zone %q: max_keys must be at least %d", z.Name, minZoneKeys)
		}
		if err := checkZoneRates(z); err != nil {
			return fmt.Errorf("rag_rate_limit zone %q: %w", z.Name, err)
		}
		seen[z.Name] = true
	}
	return nil
}

// minZoneKeys is the least max_keys: the key table has 64 shards, each
// holding at least one key.
const minZoneKeys = 64

// checkZoneRates parses a zone's rate, tokens or budget, as Provision will.
func checkZoneRates(z *RateLimitZone) error {
	if z.Budget != "" {
		if _, _, err := ratelimit.ParseCost(z.Budget); err != nil {
			return fmt.Errorf("budget: %w", err)
		}
	}
	for _, r := range []struct{ opt, value string }{{"rate", z.Rate}, {"tokens", z.Tokens}} {
		if r.value == "" {
			continue
		}
		if _, _, err := ratelimit.ParseRate(r.value); err != nil {
			return fmt.Errorf("%s: %w", r.opt, err)
		}
	}
	return nil
}

// Cleanup lets go of the zones' state and the Redis client; each is freed
// when no config uses it.
func (h *RateLimitHandler) Cleanup() error {
	for _, z := range h.zones {
		_, _ = zoneStates.Delete(z.poolKey)
	}
	if h.redisKey != "" {
		_, _ = redisClients.Delete(h.redisKey)
	}
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner           = (*RateLimitHandler)(nil)
	_ caddy.Validator             = (*RateLimitHandler)(nil)
	_ caddy.CleanerUpper          = (*RateLimitHandler)(nil)
	_ caddyhttp.MiddlewareHandler = (*RateLimitHandler)(nil)
)
