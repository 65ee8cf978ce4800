package caddymodule

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ragproxy/ragproxy/llm"
	"github.com/ragproxy/ragproxy/ratelimit"
)

// maxZones bounds the per-request bookkeeping kept on the stack.
const maxZones = 8

// ServeHTTP checks every zone that applies, refuses with 429 if one says
// no, and otherwise passes the request on, debiting token zones with the
// answer's usage afterwards.
func (h *RateLimitHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	now := time.Now()

	var (
		releases  = make([]func(), 0, maxZones)
		spenders  = make([]spend, 0, maxZones)
		shown     ratelimit.Decision
		haveShown bool
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
		case "tokens":
			d, err = z.spender.Check(key, z.budget, now)
			if d.Allowed {
				spenders = append(spenders, spend{z, key})
			}
		case "concurrent":
			var release func()
			d, release = z.state.inflight.Acquire(key, z.cfg.Concurrent)
			if release != nil {
				releases = append(releases, release)
			}
		default:
			d, err = z.rater.Allow(key, z.rate, now)
		}
		if err != nil {
			z.metrics.redisErrors.Inc()
		}
		if !d.Allowed {
			z.metrics.limited.Inc()
			return h.refuse(w, z, d)
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

	aw := watchAnswer(w)
	defer aw.release()
	if h.StreamUsage != streamUsageOff {
		askStreamUsage(r, aw)
	}
	// Deferred, so that an answer reverse_proxy aborts with a panic (a
	// stream the client cut short, as the OpenAI SDKs do once they read
	// [DONE]) is debited too, with whatever usage it reported.
	defer debit(spenders, aw)
	err := next.ServeHTTP(aw, r)
	aw.finish()
	return err
}

// maxAskBody is the largest request body askStreamUsage rewrites.
const maxAskBody = 4 << 20

// askStreamUsage makes a streamed chat completion report its usage, which
// it does only when asked (stream_options.include_usage): it asks on the
// client's behalf, and has aw take the usage chunk back out of the answer.
func askStreamUsage(r *http.Request, aw *answerWriter) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/chat/completions") {
		return
	}
	body, err := readBody(r, maxAskBody)
	if err != nil {
		return // the upstream gets the body whole, and unasked
	}
	if asked, ok := llm.AskStreamUsage(body); ok {
		setBody(r, asked)
		aw.stripUsageChunks()
	}
}

// debit spends the tokens the answer's usage reports in each token zone.
func debit(spenders []spend, aw *answerWriter) {
	tokens := aw.upstreamTokens()
	if tokens <= 0 {
		return
	}
	end := time.Now()
	for _, s := range spenders {
		if err := s.z.spender.Spend(s.key, s.z.budget, tokens, end); err != nil {
			s.z.metrics.redisErrors.Inc()
		}
		s.z.metrics.tokens.Add(float64(tokens))
	}
}

// spend is a token zone to debit once the answer is known.
type spend struct {
	z   *zone
	key string
}

// closerToLimit says whether a has less of its quota left than b, for the
// RateLimit-* headers, which describe the zone nearest its limit.
func closerToLimit(a, b ratelimit.Decision) bool {
	return a.Remaining*b.Limit < b.Remaining*a.Limit
}

// refuse answers 429 for zone z.
func (h *RateLimitHandler) refuse(w http.ResponseWriter, z *zone, d ratelimit.Decision) error {
	hdr := w.Header()
	setRateLimitHeaders(hdr, d)
	hdr.Set("Retry-After", strconv.FormatInt(ceilSeconds(d.RetryAfter, 1), 10))
	errType := "requests"
	if z.kind == "tokens" {
		errType = "tokens"
	}
	if c := h.logger.Check(zapcore.DebugLevel, "rate limited"); c != nil {
		c.Write(zap.String("zone", z.cfg.Name), zap.Duration("retry_after", d.RetryAfter))
	}
	writeError(w, http.StatusTooManyRequests, errType, "rate_limit_exceeded",
		fmt.Sprintf("Rate limit reached for zone %q (%s). Try again in %ds.", z.cfg.Name, z.limitDoc, ceilSeconds(d.RetryAfter, 1)))
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
