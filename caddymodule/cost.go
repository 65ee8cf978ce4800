package caddymodule

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/ragproxy/ragproxy/contract"
	"github.com/ragproxy/ragproxy/cost"
	"github.com/ragproxy/ragproxy/llm"
)

func init() {
	caddy.RegisterModule(CostHandler{})
}

// defaultPrices is the shipped price table (cost.Defaults), used by
// routes without rag_cost.
var defaultPrices = cost.NewTable(nil)

// CostHandler sets the price table for the handlers after it and meters
// the answer's cost. It is optional: without it the first ragproxy
// handler of a route meters the cost with the shipped prices.
type CostHandler struct {
	// Prices per model (or name prefix ending in "*"), overriding and
	// extending the shipped table. Default: the shipped table only.
	Prices map[string]ModelPrice `json:"prices,omitempty"`

	table *cost.Table
}

// ModelPrice is a model's price in US dollars per million tokens.
type ModelPrice struct {
	// Prompt tokens not read from the provider's prompt cache. Required.
	Input float64 `json:"input"`
	// Prompt tokens read from the prompt cache. Default: 0.
	CachedInput float64 `json:"cached_input,omitempty"`
	// Answer tokens. Default: 0.
	Output float64 `json:"output"`
	// Prompt tokens written to the prompt cache (Anthropic). Default: 0, priced as Input.
	CacheWrite float64 `json:"cache_write,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (CostHandler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.rag_cost",
		New: func() caddy.Module { return new(CostHandler) },
	}
}

// Provision builds the price table.
func (h *CostHandler) Provision(ctx caddy.Context) error {
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	over := make(map[string]cost.Price, len(h.Prices))
	for name, p := range h.Prices {
		over[name] = cost.Price{Input: p.Input, CachedInput: p.CachedInput, Output: p.Output, CacheWrite: p.CacheWrite}
	}
	h.table = cost.NewTable(over)
	return nil
}

// Validate checks the prices.
func (h *CostHandler) Validate() error {
	for name, p := range h.Prices {
		if name == "" || p.Input < 0 || p.CachedInput < 0 || p.Output < 0 || p.CacheWrite < 0 {
			return fmt.Errorf("rag_cost: price %q: a model name and prices of at least 0", name)
		}
	}
	return nil
}

// ServeHTTP hands the table on and meters the answer (serveTimed: as the
// outermost ragproxy handler it also times the request, so the timing
// sees the cost it meters).
func (h *CostHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	caddyhttp.SetVar(r.Context(), contract.VarPrices, h.table)
	return serveTimed(h, w, r, next)
}

// serve reads the body (up to 8 MiB; a larger one passes unread, and
// unpriced) for the model it names, so it can price a route with no other
// ragproxy handler.
func (h *CostHandler) serve(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if r.Method == http.MethodPost {
		_, _ = readBody(r, defaultValidateMaxBody) // kept on r for answerModel and the handlers after
	}
	return next.ServeHTTP(w, r)
}

// finishCost records the metered answer's cost, once the chain returned,
// and keeps it for the status page if one is mounted.
func finishCost(aw *answerWriter, r *http.Request) {
	if aw.status == 0 || aw.status >= 300 {
		return
	}
	u, ok := aw.meter.Usage()
	if !ok {
		return
	}
	ac := recordCost(aw, r, u)
	if liveDashboards.Load() > 0 && aw.vars != nil { // else nothing to allocate
		aw.vars[contract.VarAnswerCost] = ac
	}
}

// recordCost prices the usage u of the answer aw metered and records it.
func recordCost(aw *answerWriter, r *http.Request, u llm.Usage) answerCost {
	ac := answerCost{Input: u.Input, Output: u.Output}
	model := answerModel(aw)
	price, label, known := pricesOf(aw.requestVar(contract.VarPrices)).Lookup(model)
	if !aw.fromCache() {
		promptCacheTokens(known, label, u)
	}
	if !known {
		costVecs.unpriced.Inc()
		return ac
	}
	usd := price.Of(cost.Usage{Input: u.Input, CacheRead: u.CacheRead, CacheWrite: u.CacheWrite, Output: u.Output})
	ac.Priced = true
	if aw.fromCache() {
		savedSeries.get(label).Add(usd)
		ac.SavedUSD, usd = usd, 0
	} else {
		costSeries.get(label).Add(usd)
	}
	ac.USD = usd
	if rec, ok := aw.requestVar(contract.VarCostRecorder).(costRecorder); ok {
		rec.RecordCost(ac.USD, ac.SavedUSD) // rag_split's variant: cost per variant in the A/B report
	}
	publishPlaceholder(r, contract.PlaceholderCostUSD, strconv.FormatFloat(usd, 'f', -1, 64))
	setLogField(r, zap.Float64("rag_cost_usd", usd))
	return ac
}

// answerCost is what the metered answer's usage says and cost, kept in
// the request var contract.VarAnswerCost for the status page.
type answerCost struct {
	Input, Output int64   // tokens, from the answer's usage
	Priced        bool    // the price table knows the model
	USD           float64 // what it cost (0 from the cache)
	SavedUSD      float64 // from the cache: what it would have cost
}

// costRecorder takes each priced answer's cost: rag_split's variant.
type costRecorder interface{ RecordCost(spent, saved float64) }

// pricesOf is the price table in the request var contract.VarPrices:
// rag_cost's, if one came before, else the shipped one.
func pricesOf(v any) *cost.Table {
	if table, _ := v.(*cost.Table); table != nil {
		return table
	}
	return defaultPrices
}

// promptCacheTokens counts an upstream answer's prompt tokens by what the
// provider's prompt cache did with them.
func promptCacheTokens(known bool, label string, u llm.Usage) {
	if !known {
		label = "unpriced" // a model name from the request: never a label
	}
	m := promptTokenSeries.get(label)
	m[0].Add(float64(u.CacheRead))
	m[1].Add(float64(u.CacheWrite))
	m[2].Add(float64(max(u.Input-u.CacheRead-u.CacheWrite, 0)))
}

// answerModel is the model that answered: the one rag_fallback's tier
// set, else the one the request body names (read from the buffer a
// ragproxy handler kept), else "".
func answerModel(aw *answerWriter) string {
	if m, ok := aw.requestVar(contract.VarModel).(string); ok && m != "" {
		return m
	}
	if b, ok := aw.req.Body.(*bufferedBody); ok {
		return llm.ModelOf(b.data)
	}
	return ""
}

// Interface guards
var (
	_ caddy.Provisioner           = (*CostHandler)(nil)
	_ caddy.Validator             = (*CostHandler)(nil)
	_ caddyhttp.MiddlewareHandler = (*CostHandler)(nil)
)
