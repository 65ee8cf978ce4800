package caddymodule

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ragproxy/ragproxy/contract"
	"github.com/ragproxy/ragproxy/cost"
	"github.com/ragproxy/ragproxy/llm"
	"github.com/ragproxy/ragproxy/ratelimit"
)

// maxZones bounds the per-request bookkeeping kept on the stack.
const maxZones = 8

// ServeHTTP checks every zone that applies, refuses with 429 if one says
// no, and otherwise passes the request on. Token zones reserve the
// request's estimated cost before it goes on and settle to what the
// answer cost after.
func (h *RateLimitHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	return serveTimed(h, w, r, next)
}

func (h *RateLimitHandler) serve(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	now := time.Now()

	var (
		releases  = make([]func(), 0, maxZones)
		spenders  = make([]spend, 0, maxZones)
		shown     ratelimit.Decision
		haveShown bool
		tr        tokenRequest
		prepared  bool
	)
	defer func() {
		for _, release := range releases {
			release()
		}
	}()
	for _, z := range h.zones {
		key := z.key.render(r, repl)
		if key == "" {
			continue
		}
		var d ratelimit.Decision
		var err error
		switch z.kind {
		case "tokens", "budget":
			if !prepared {
				prepared = true
				if done, err := h.prepareTokens(w, r, &tr); done {
					return err
				}
			}
			amount := tr.reserve
			if z.kind == "budget" {
				amount = tr.reserveMicroUSD(r)
			}
			var res ratelimit.Reservation
			d, res, err = z.spender.Reserve(key, z.budget, amount, now)
			if d.Allowed {
				spenders = append(spenders, spend{z, key, res})
			}
		case "concurrent":
			var release func()
			d, release = z.state.inflight.Acquire(key, z.cfg.Concurrent)
			if release != nil {
				releases = append(releases, release)
			}
			if d.Full {
				z.extra.full.Inc()
			}
		default:
			d, err = z.rater.Allow(key, z.rate, now)
		}
		if err != nil {
			z.metrics.redisErrors.Inc()
		}
		if !d.Allowed {
			z.metrics.limited.Inc()
			settle(spenders, 0, 0) // nothing went upstream
			traceEvent(r, "rag_rate_limit: refused", attribute.String("rag.rate_limit.zone", z.cfg.Name),
				attribute.Int64("rag.rate_limit.retry_after_ms", d.RetryAfter.Milliseconds()))
			return h.refuse(w, repl, z, d)
		}
		z.metrics.allowed.Inc()
		if !haveShown || closerToLimit(d, shown) {
			shown, haveShown = d, true
		}
	}
	if haveShown {
		setRateLimitHeaders(w.Header(), shown)
	}
	if len(spenders) == 0 {
		return next.ServeHTTP(w, r)
	}

	aw := watchAnswer(w, r)
	defer aw.release()
	if tr.strip {
		aw.stripUsageChunks()
	}
	// Deferred, so that an answer reverse_proxy aborts with a panic (a
	// stream the client cut short, as the OpenAI SDKs do once they read
	// [DONE]) is settled too, with whatever usage it reported.
	defer h.settleAnswer(spenders, aw, &tr)
	err := next.ServeHTTP(aw, r)
	aw.finish()
	return err
}

// tokenRequest is what token and budget zones need to know of a request.
type tokenRequest struct {
	prompt  int64  // estimated prompt tokens: a token per 4 body bytes
	reserve int64  // tokens to reserve: prompt and the output cap
	model   string // the model the body names
	strip   bool   // stream usage was asked for: take it out of the answer
	micro   int64  // micro-dollars to reserve, once priced (0: not yet)
}

// reserveMicroUSD is what budget zones reserve: the price of the
// estimated prompt and the output cap at the request's model's price.
func (tr *tokenRequest) reserveMicroUSD(r *http.Request) int64 {
	if tr.micro == 0 {
		price := pricesOf(caddyhttp.GetVar(r.Context(), contract.VarPrices)).PriceOrDearest(tr.model)
		tr.micro = microUSD(price.Of(cost.Usage{Input: tr.prompt, Output: tr.reserve - tr.prompt}))
	}
	return tr.micro
}

// microUSD turns dollars into the micro-dollars budgets count, rounded up
// (a cost is never counted as nothing) and at least one.
func microUSD(usd float64) int64 {
	return max(int64(math.Ceil(usd/ratelimit.MicroUSD)), 1)
}

// prepareTokens reads the request body (up to max_body; a larger one is
// refused with 413), estimates what the request may cost, asks a stream
// to report its usage (stream_usage ask), and asks the upstream for an
// answer it can read (no Accept-Encoding). done reports that the request
// was answered here.
func (h *RateLimitHandler) prepareTokens(w http.ResponseWriter, r *http.Request, tr *tokenRequest) (done bool, err error) {
	r.Header.Del("Accept-Encoding")
	if r.ContentLength > h.maxBody {
		return true, writeBodyTooLarge(w, h.maxBody)
	}
	body, err := readBody(r, h.maxBody)
	if errors.Is(err, errBodyTooLarge) {
		return true, writeBodyTooLarge(w, h.maxBody)
	}
	if err != nil {
		return true, caddyhttp.Error(http.StatusBadRequest, fmt.Errorf("reading request body: %w", err))
	}
	tr.prompt = llm.EstimateTokens(len(body))
	out, ok := llm.OutputCap(body)
	if !ok {
		out = h.reserveOutput
	}
	tr.reserve = tr.prompt + out
	tr.model = llm.ModelOf(body)
	if h.StreamUsage != streamUsageOff && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/completions") {
		if asked, ok := llm.AskStreamUsage(body); ok {
			setBody(r, asked)
			tr.strip = true
		}
	}
	return false, nil
}

// settleAnswer settles each token and budget zone's reservation to what
// the answer cost: nothing from the cache, its usage, or an estimate from
// the sizes.
func (h *RateLimitHandler) settleAnswer(spenders []spend, aw *answerWriter, tr *tokenRequest) {
	tokens, estimated := aw.cost(tr.prompt)
	if estimated {
		if c := h.logger.Check(zapcore.DebugLevel, "token usage estimated"); c != nil {
			c.Write(zap.Int("status", aw.status), zap.Int64("answer_bytes", aw.written), zap.Int64("tokens", tokens))
		}
		for _, s := range spenders {
			s.z.extra.estimated.Inc()
		}
	}
	settle(spenders, tokens, answerMicroUSD(spenders, aw, tr, tokens, estimated))
	traceEvent(aw.req, "rag_rate_limit: settled", attribute.Int64("rag.tokens", tokens), attribute.Bool("rag.tokens.estimated", estimated))
}

// answerMicroUSD prices what the answer cost (tokens, as aw.cost gave
// them) for budget zones: its usage at the price of the model that
// answered, or the size estimate as prompt and output tokens. It is 0 if
// no zone is a budget zone, or the answer came from the cache.
func answerMicroUSD(spenders []spend, aw *answerWriter, tr *tokenRequest, tokens int64, estimated bool) int64 {
	if tokens == 0 || !slices.ContainsFunc(spenders, func(s spend) bool { return s.z.kind == "budget" }) {
		return 0
	}
	u := cost.Usage{Input: min(tr.prompt, tokens), Output: max(tokens-tr.prompt, 0)}
	if !estimated {
		m, _ := aw.meter.Usage() // aw.cost found it
		u = cost.Usage{Input: m.Input, CacheRead: m.CacheRead, CacheWrite: m.CacheWrite, Output: m.Output}
	}
	model := tr.model
	if m, ok := aw.requestVar(contract.VarModel).(string); ok && m != "" {
		model = m // the model rag_fallback's tier asked
	}
	return microUSD(pricesOf(aw.requestVar(contract.VarPrices)).PriceOrDearest(model).Of(u))
}

// settle replaces each zone's reservation by what the answer cost: tokens
// for token zones, micro-dollars for budget zones.
func settle(spenders []spend, tokens, micro int64) {
	end := time.Now()
	for _, s := range spenders {
		spent := tokens
		if s.z.kind == "budget" {
			spent = micro
		}
		if err := s.z.spender.Settle(s.key, s.z.budget, s.res, spent, end); err != nil {
			s.z.metrics.redisErrors.Inc()
		}
		if tokens > 0 {
			s.z.metrics.tokens.Add(float64(tokens))
		}
	}
}

// spend is a token zone's reservation, settled once the answer is known.
type spend struct {
	z   *zone
	key string
	res ratelimit.Reservation
}

// closerToLimit says whether a has less of its quota left than b, for the
// RateLimit-* headers, which describe the zone nearest its limit.
func closerToLimit(a, b ratelimit.Decision) bool {
	return a.Remaining*b.Limit < b.Remaining*a.Limit
}

// refuse answers 429 for zone z: an OpenAI-shaped JSON error, or, with
// refuse_with_error, a Caddy error for handle_errors to answer. The
// headers and placeholders are set either way.
func (h *RateLimitHandler) refuse(w http.ResponseWriter, repl *caddy.Replacer, z *zone, d ratelimit.Decision) error {
	retryAfter := ceilSeconds(d.RetryAfter, 1)
	hdr := w.Header()
	setRateLimitHeaders(hdr, d)
	hdr.Set("Retry-After", strconv.FormatInt(retryAfter, 10))
	repl.Set(contract.PlaceholderRateLimitZone, z.cfg.Name)
	repl.Set(contract.PlaceholderRateLimitRetryAfter, retryAfter)
	if c := h.logger.Check(zapcore.DebugLevel, "rate limited"); c != nil {
		c.Write(zap.String("zone", z.cfg.Name), zap.Duration("retry_after", d.RetryAfter))
	}
	message := fmt.Sprintf("Rate limit reached for zone %q (%s). Try again in %ds.", z.cfg.Name, z.limitDoc, retryAfter)
	if h.RefuseWithError {
		return caddyhttp.Error(http.StatusTooManyRequests, errors.New(message))
	}
	errType := "requests"
	if z.kind == "tokens" || z.kind == "budget" {
		errType = z.kind
	}
	writeError(w, http.StatusTooManyRequests, errType, "rate_limit_exceeded", message)
	return nil
}

// setRateLimitHeaders sets RateLimit-Limit, -Remaining and -Reset. It
// stores under the canonical keys directly, with one allocation for the
// three values, since it runs on every request a zone applies to.
func setRateLimitHeaders(h http.Header, d ratelimit.Decision) {
	v := []string{
		strconv.FormatInt(d.Limit, 10),
		strconv.FormatInt(d.Remaining, 10),
		strconv.FormatInt(ceilSeconds(d.Reset, 0), 10),
	}
	h["Ratelimit-Limit"] = v[0:1:1]
	h["Ratelimit-Remaining"] = v[1:2:2]
	h["Ratelimit-Reset"] = v[2:3:3]
}

// ceilSeconds rounds d up to whole seconds, and to at least floor.
func ceilSeconds(d time.Duration, floor int64) int64 {
	return max(int64((d+time.Second-1)/time.Second), floor)
}
