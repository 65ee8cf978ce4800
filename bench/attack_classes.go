package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"
)

// attackClasses lists every attack class of issue 12 (findings 1–10, its
// "also weak" list) and the malformed-HTTP classes, each with the victim
// or check that makes a leak visible.
func attackClasses() []*attackClass {
	return []*attackClass{
		{name: "control-cache-works", finding: "control", what: "the same caller asks twice: the second must be a HIT, a paraphrase a SEMANTIC-HIT (else the leak checks below prove nothing)", run: controlCacheWorks},
		{name: "scope-authorization", finding: "1", what: "Alice and Bob with different Authorization ask the same: Bob must not get Alice's answer", run: scopeClass("scope-authorization", "Authorization", "Bearer sk-")},
		{name: "scope-cookie", finding: "1", what: "session cookies", run: scopeClass("scope-cookie", "Cookie", "session=")},
		{name: "scope-api-key", finding: "1", what: "Azure `api-key`", run: scopeClass("scope-api-key", "Api-Key", "azure-")},
		{name: "scope-proxy-authorization", finding: "1", what: "`Proxy-Authorization`", run: scopeClass("scope-proxy-authorization", "Proxy-Authorization", "Basic ")},
		{name: "scope-goog-api-key", finding: "1", what: "`x-goog-api-key`", run: scopeClass("scope-goog-api-key", "X-Goog-Api-Key", "AIza")},
		{name: "scope-x-api-key", finding: "1", what: "`X-Api-Key`", run: scopeClass("scope-x-api-key", "X-Api-Key", "key-")},
		{name: "scope-client-cert", finding: "1", what: "client TLS certificates (`client_auth mode request`), no other credential", run: scopeClientCert},
		{name: "scope-forward-auth", finding: "1", what: "identity header set by forward_auth (`scope_headers X-Auth-User`)", run: scopeClass("scope-forward-auth", "X-Auth-User", "user-"), needs: "scope_headers"},
		{name: "scope-private", finding: "1", what: "anonymous callers; the answer says `Cache-Control: private`: never stored without a credential", run: scopePrivate},
		{name: "scope-empty-placeholder", finding: "weak", what: "`scope {http.request.header.X-Tenant}` and no X-Tenant: must bypass, not share", run: scopeEmptyPlaceholder},
		{name: "budget-gzip", finding: "2", what: "token zone 100/h, 1000-token answers, `Accept-Encoding: gzip` (JSON and SSE); routes: full pipeline and token zone alone", run: budgetGzip},
		{name: "budget-big-answer", finding: "2", what: "answers over 4 MiB (usage at the end)", run: budgetSimple("budget-big-answer", "big", "/v1/chat/completions", `"stream":false`)},
		{name: "budget-stream-int", finding: "2", what: "`\"stream\":1`", run: budgetSimple("budget-stream-int", "", "/v1/chat/completions", `"stream":1`)},
		{name: "budget-stream-string", finding: "2", what: "`\"stream\":\"yes\"`", run: budgetSimple("budget-stream-string", "", "/v1/chat/completions", `"stream":"yes"`)},
		{name: "budget-stream-escaped", finding: "2", what: "`\"str\\u0065am\":true`", run: budgetSimple("budget-stream-escaped", "", "/v1/chat/completions", `"str\u0065am":true`)},
		{name: "budget-stream-options-dup", finding: "2", what: "`stream_options` include_usage true, then an escaped duplicate with false", run: budgetSimple("budget-stream-options-dup", "", "/v1/chat/completions", `"stream":true,"stream_options":{"include_usage":true},"stream_\u006fptions":{"include_usage":false}`)},
		{name: "budget-completions-stream", finding: "2", what: "streaming legacy `/v1/completions`", run: budgetSimple("budget-completions-stream", "", "/v1/completions", `"stream":true`)},
		{name: "budget-responses-stream", finding: "2", what: "streaming `/v1/responses`", run: budgetSimple("budget-responses-stream", "", "/v1/responses", `"stream":true`)},
		{name: "budget-anthropic-stream", finding: "2", what: "streaming Anthropic `/v1/messages`", run: budgetSimple("budget-anthropic-stream", "", "/v1/messages", `"stream":true,"max_tokens":1000`)},
		{name: "budget-stream-cut", finding: "2", what: "a stream the upstream cuts before its usage event", run: budgetSimple("budget-stream-cut", "cut", "/v1/chat/completions", `"stream":true`)},
		{name: "budget-big-body", finding: "2", what: "a streaming request padded past 4 MiB with whitespace", run: budgetBigBody},
		{name: "budget-xcache-hit", finding: "2", what: "the upstream's own `X-Cache: HIT` header", run: budgetSimple("budget-xcache-hit", "xcache", "/v1/chat/completions", `"stream":false`)},
		{name: "budget-max-tokens", finding: "2", what: "max_tokens negative, 1e999999, 400 digits (reservation arithmetic)", run: budgetMaxTokens},
		{name: "budget-parallel", finding: "2", what: "8 parallel requests of one key", run: budgetParallel},
		{name: "budget-dup-authorization", finding: "4", what: "a junk second Authorization value per request (fresh bucket?); the upstream bills the first", run: budgetDupAuth},
		{name: "rate-dup-header", finding: "4", what: "rate zone 1/s burst 3, a junk second key value per request", run: rateDupHeader},
		{name: "nesting", finding: "3", what: "~1 MiB bodies nested 990 levels (1 MiB string inside) and 100,000 levels (arrays, objects): CPU and allocation must stay linear", run: nesting},
		{name: "poison-range", finding: "5", what: "a `Range` GET primes (206); the plain GET must get a 200 of its own", run: poisonRange},
		{name: "poison-sse", finding: "5", what: "a 200 SSE stream with an in-band error event, or without its terminal event (OpenAI, Anthropic, Responses) primes; the next clean caller must not get it", run: poisonSSE},
		{name: "key-vary", finding: "6", what: "answers with `Vary: Accept`, `Vary: Accept-Language`, `Vary: *`", run: keyVary},
		{name: "key-headers", finding: "6", what: "Accept (no Vary), OpenAI-Project, OpenAI-Organization, anthropic-version, anthropic-beta select another answer", run: keyHeaders},
		{name: "breaker-429", finding: "7", what: "one caller's 429s (quota) must not open the shared breaker: the next caller gets the primary", run: breaker429},
		{name: "breaker-slow-client", finding: "7", what: "clients that do not read past the tier timeout (4 s) must not open the breaker", run: breakerSlowClient},
		{name: "semantic-embeddings", finding: "8", what: "a paraphrase to `/v1/embeddings` or `/v1/moderations` must not get another text's answer", run: semanticEmbeddings},
		{name: "feedback-bounds", finding: "9", what: "scores 1e308, -1e308, 1e999 must be refused; the report's mean and interval stay finite", run: feedbackBounds},
		{name: "variant-override", finding: "9", what: "`X-RAG-Variant` from the client must not choose the variant (override is opt-in)", run: variantOverride},
		{name: "request-id-hijack", finding: "9", what: "another client reuses the victim's X-Request-ID: the victim's feedback must count for the victim's variant", run: requestIDHijack},
		{name: "ambiguous-body", finding: "10", what: "duplicate keys, invalid UTF-8, lone surrogates: bodies with other meanings must not share an answer", run: ambiguousBody},
		{name: "concurrent-eviction", finding: "weak", what: "a full `concurrent 1` zone (max_keys 64, every slot live) must refuse new keys, not evict live ones", run: concurrentEviction},
		{name: "raw-truncated-body", finding: "http", what: "Content-Length longer than the body, then EOF", run: rawTruncated},
		{name: "raw-content-length-longer", finding: "http", what: "Content-Length longer than sent, connection left open", run: rawCLLonger},
		{name: "raw-content-length-shorter", finding: "http", what: "Content-Length shorter than the body (the rest is garbage)", run: rawCLShorter},
		{name: "raw-bad-framing", finding: "http", what: "chunked garbage, truncated chunks, CL+TE, two Content-Lengths, negative CL", run: rawBadFraming},
		{name: "raw-many-headers", finding: "http", what: "100,000 headers; a 1 MiB request line", run: rawManyHeaders},
		{name: "raw-bodies", finding: "http", what: "empty, non-JSON, invalid UTF-8, NUL bytes, 1e999999 and 400-digit numbers, top-level scalars", run: rawBodies},
	}
}

func chatJSON(question, extra string) []byte {
	if extra != "" {
		extra = "," + extra
	}
	return fmt.Appendf(nil, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":%q}]%s}`, question, extra)
}

func (e *attackEnv) chat(t *tally, url, label string, h http.Header, body []byte) *attackResp {
	if h == nil {
		h = http.Header{}
	}
	h.Set(hdrLabel, label)
	return e.send(t, attackReq{method: http.MethodPost, url: url, header: h, body: body})
}

// ---- control -------------------------------------------------------------

func controlCacheWorks(e *attackEnv, t *tally, it int) {
	n := e.next()
	q := fmt.Sprintf("What does the retrieval step of the pipeline return, run %d?", n)
	body := chatJSON(q, `"temperature":0`)
	cookie := fmt.Sprintf("session=control-%d", n)
	l := e.label("control", it, "alice")
	e.chat(t, e.mainURL+"/v1/chat/completions", l, hdr("Cookie", cookie), body)
	a := e.chat(t, e.mainURL+"/v1/chat/completions", e.label("control", it, "alice"), hdr("Cookie", cookie), body)
	if a != nil && a.header.Get("X-Cache") != "HIT" {
		t.fail("the same caller asked twice: X-Cache %q, want HIT (status %d)", a.header.Get("X-Cache"), a.status)
	}
	p := chatJSON("So "+strings.ToLower(q[:1])+q[1:], `"temperature":0`)
	a = e.chat(t, e.mainURL+"/v1/chat/completions", e.label("control", it, "alice"), hdr("Cookie", cookie), p)
	if a != nil && a.header.Get("X-Cache") != "SEMANTIC-HIT" {
		t.fail("a paraphrase by the same caller: X-Cache %q, want SEMANTIC-HIT", a.header.Get("X-Cache"))
	}
}

// ---- finding 1: scope ------------------------------------------------------

func scopeClass(class, header, prefix string) func(e *attackEnv, t *tally, it int) {
	return func(e *attackEnv, t *tally, it int) {
		n := e.next()
		body := chatJSON(fmt.Sprintf("Show my account balance and last orders, request %d", n), "")
		alice := e.label(class, it, "alice")
		bob := e.label(class, it, "bob")
		url := e.mainURL + "/v1/chat/completions"
		e.chat(t, url, alice, hdr(header, fmt.Sprintf("%salice-%d", prefix, n)), body)
		a := e.chat(t, url, bob, hdr(header, fmt.Sprintf("%sbob-%d", prefix, n)), body)
		t.expectOwn(a, bob, header)
		// The same pair on a GET (files, models): no body in the key at all.
		files := fmt.Sprintf("%s/v1/files/file-%d", e.mainURL, n)
		e.send(t, attackReq{method: http.MethodGet, url: files, header: hdr(header, fmt.Sprintf("%salice-%d", prefix, n), hdrLabel, alice)})
		a = e.send(t, attackReq{method: http.MethodGet, url: files, header: hdr(header, fmt.Sprintf("%sbob-%d", prefix, n), hdrLabel, bob)})
		t.expectOwn(a, bob, header+" GET")
	}
}

func scopePrivate(e *attackEnv, t *tally, it int) {
	n := e.next()
	body := chatJSON(fmt.Sprintf("Show my private notes, request %d", n), "")
	alice, bob := e.label("scope-private", it, "alice"), e.label("scope-private", it, "bob")
	url := e.mainURL + "/v1/chat/completions"
	e.chat(t, url, alice, hdr(hdrMode, "private"), body)
	a := e.chat(t, url, bob, hdr(hdrMode, "private"), body)
	t.expectOwn(a, bob, "anonymous, Cache-Control: private")
}

func scopeEmptyPlaceholder(e *attackEnv, t *tally, it int) {
	n := e.next()
	body := chatJSON(fmt.Sprintf("Show my tenant's invoices, request %d", n), "")
	alice, bob := e.label("scope-empty", it, "alice"), e.label("scope-empty", it, "bob")
	url := e.tenantURL + "/v1/chat/completions"
	e.chat(t, url, alice, hdr("Cookie", fmt.Sprintf("session=alice-%d", n)), body)
	a := e.chat(t, url, bob, hdr("Cookie", fmt.Sprintf("session=bob-%d", n)), body)
	t.expectOwn(a, bob, "scope placeholder rendered empty")
	// A tenant that is set still shares within the tenant (control).
	tn := fmt.Sprintf("tenant-%d", n)
	e.chat(t, url, e.label("scope-empty", it, "tenant"), hdr("X-Tenant", tn), body)
	if a := e.chat(t, url, e.label("scope-empty", it, "tenant"), hdr("X-Tenant", tn), body); a != nil && a.header.Get("X-Cache") != "HIT" {
		t.fail("same tenant twice: X-Cache %q, want HIT", a.header.Get("X-Cache"))
	}
}

// ---- findings 2 and 4: budgets ---------------------------------------------

// budgetRun sends n requests made by mk for one fresh token-zone key, on the
// full pipeline and on the token zone alone, and counts the answers the
// upstream billed past the one that may overshoot the 100-token budget.
func budgetRun(e *attackEnv, t *tally, class string, it int, n int, parallel bool, mk func(base, key string, i int) attackReq) {
	for _, route := range []struct{ name, base string }{{"full", e.mainURL}, {"bare", e.bareURL}} {
		key := fmt.Sprintf("Bearer sk-%s-%d-%s-%d", class, it, route.name, e.next())
		if parallel {
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { e.send(t, mk(route.base, key, i)) })
			}
			wg.Wait()
		} else {
			for i := range n {
				e.send(t, mk(route.base, key, i))
			}
		}
		if b := e.up.answersBilled(key); b > 1 {
			t.leak(b-1, "%s route: %d answers of %d tokens billed to one key with a budget of 100/h (allowed: 1)", route.name, b, tokensPerAnswer)
		}
	}
}

func budgetSimple(class, mode, path, fields string) func(e *attackEnv, t *tally, it int) {
	return func(e *attackEnv, t *tally, it int) {
		budgetRun(e, t, class, it, 3, false, func(base, key string, i int) attackReq {
			body := chatJSON(fmt.Sprintf("Budget question %d of %s", e.next(), class), fields)
			if strings.HasSuffix(path, "/responses") {
				body = fmt.Appendf(nil, `{"model":"gpt-4o-mini","input":"Budget question %d",%s}`, e.next(), fields)
			}
			if strings.HasSuffix(path, "/v1/completions") {
				body = fmt.Appendf(nil, `{"model":"gpt-3.5-turbo-instruct","prompt":"Budget question %d",%s}`, e.next(), fields)
			}
			return attackReq{method: http.MethodPost, url: base + path,
				header: hdr("Authorization", key, hdrMode, mode, hdrLabel, e.label(class, it, "k")), body: body}
		})
	}
}

func budgetGzip(e *attackEnv, t *tally, it int) {
	budgetRun(e, t, "budget-gzip", it, 4, false, func(base, key string, i int) attackReq {
		stream := []string{`"stream":false`, `"stream":true`}[i%2]
		return attackReq{method: http.MethodPost, url: base + "/v1/chat/completions",
			header: hdr("Authorization", key, "Accept-Encoding", "gzip", hdrLabel, e.label("budget-gzip", it, "k")),
			body:   chatJSON(fmt.Sprintf("Budget question %d", e.next()), stream)}
	})
}

func budgetBigBody(e *attackEnv, t *tally, it int) {
	budgetRun(e, t, "budget-big-body", it, 2, false, func(base, key string, i int) attackReq {
		pad := strings.Repeat(" ", 4<<20+512<<10)
		body := fmt.Appendf(nil, `{"model":"gpt-4o-mini",%s"messages":[{"role":"user","content":"Budget question %d"}],"stream":true}`, pad, e.next())
		return attackReq{method: http.MethodPost, url: base + "/v1/chat/completions",
			header: hdr("Authorization", key, hdrLabel, e.label("budget-big-body", it, "k")), body: body}
	})
}

func budgetMaxTokens(e *attackEnv, t *tally, it int) {
	caps := []string{`"max_tokens":-1000000000`, `"max_tokens":1e999999`, `"max_completion_tokens":-9223372036854775808`,
		`"max_tokens":` + strings.Repeat("9", 400), `"max_tokens":-` + strings.Repeat("9", 400), `"max_output_tokens":-1e308`}
	budgetRun(e, t, "budget-max-tokens", it, len(caps), false, func(base, key string, i int) attackReq {
		return attackReq{method: http.MethodPost, url: base + "/v1/chat/completions",
			header: hdr("Authorization", key, hdrLabel, e.label("budget-max-tokens", it, "k")),
			body:   chatJSON(fmt.Sprintf("Budget question %d", e.next()), caps[i])}
	})
}

func budgetParallel(e *attackEnv, t *tally, it int) {
	budgetRun(e, t, "budget-parallel", it, 8, true, func(base, key string, i int) attackReq {
		return attackReq{method: http.MethodPost, url: base + "/v1/chat/completions",
			header: hdr("Authorization", key, hdrLabel, e.label("budget-parallel", it, "k")),
			body:   chatJSON(fmt.Sprintf("Budget question %d", e.next()), `"max_tokens":1000`)}
	})
}

func budgetDupAuth(e *attackEnv, t *tally, it int) {
	budgetRun(e, t, "budget-dup-authorization", it, 4, false, func(base, key string, i int) attackReq {
		h := hdr("Authorization", key, "Authorization", fmt.Sprintf("junk-%d", e.next()), hdrLabel, e.label("budget-dup-authorization", it, "k"))
		return attackReq{method: http.MethodPost, url: base + "/v1/chat/completions", header: h,
			body: chatJSON(fmt.Sprintf("Budget question %d", e.next()), "")}
	})
}

func rateDupHeader(e *attackEnv, t *tally, it int) {
	key := fmt.Sprintf("rate-%d-%d", it, e.next())
	start := time.Now()
	for range 10 {
		e.send(t, attackReq{method: http.MethodGet, url: fmt.Sprintf("%s/v1/models?n=%d", e.bareURL, e.next()),
			header: hdr(hdrRateKey, key, hdrRateKey, fmt.Sprintf("junk-%d", e.next()))})
	}
	allowed := 3 + int(time.Since(start).Seconds()) + 1
	if got := e.up.rateCount(key); got > allowed {
		t.leak(got-allowed, "rate 1/s burst 3: %d requests of one key reached the upstream in %v (allowed %d)", got, time.Since(start).Round(time.Millisecond), allowed)
	}
}

// ---- finding 3: nesting ----------------------------------------------------

var nestShapes = sync.OnceValue(func() map[string][]byte {
	const depth = 100_000
	deepArr := []byte(`{"model":"m","x":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`)
	deepObj := []byte(`{"model":"m","x":` + strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth) + `}`)
	var b bytes.Buffer
	b.WriteString(`{"model":"m","x":`)
	// 990 levels: just under the depth today's canonicalizer gives up at
	// (1000), where each object level copied everything it held.
	for range 990 {
		b.WriteString(`{"k":1,"a":`)
	}
	b.WriteString(`"` + strings.Repeat("x", 1<<20-20_000) + `"`)
	b.WriteString(strings.Repeat("}", 990) + "}")
	return map[string][]byte{"990-levels+1MiB-string": b.Bytes(), "100k-levels-arrays": deepArr, "100k-levels-objects": deepObj}
})

func nesting(e *attackEnv, t *tally, it int) {
	for _, name := range []string{"990-levels+1MiB-string", "100k-levels-arrays", "100k-levels-objects"} {
		body := nestShapes()[name]
		req := attackReq{method: http.MethodPost, url: e.mainURL + "/v1/chat/completions",
			header: hdr("Authorization", fmt.Sprintf("Bearer sk-nest-%d", e.next()), hdrMode, "drain", hdrLabel, e.label("nesting", it, "n")), body: body}
		if !e.measureNesting {
			e.send(t, req)
			continue
		}
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		c0 := cpuTime()
		e.send(t, req)
		c1 := cpuTime()
		runtime.ReadMemStats(&m1)
		alloc := float64(m1.TotalAlloc - m0.TotalAlloc)
		e.nestMu.Lock()
		if e.nestAllocPerReq == nil {
			e.nestAllocPerReq, e.nestCPUPerReq, e.nestB = map[string]float64{}, map[string]float64{}, map[string]float64{}
		}
		e.nestAllocPerReq[name] = max(e.nestAllocPerReq[name], alloc)
		e.nestCPUPerReq[name] = max(e.nestCPUPerReq[name], (c1 - c0).Seconds())
		e.nestB[name] = float64(len(body))
		e.nestMu.Unlock()
		if bound := 32*float64(len(body)) + 4<<20; alloc > bound {
			t.fail("%s (%d KiB): one request allocated %.0f MiB, over the linear bound %.0f MiB (CPU %v)",
				name, len(body)>>10, alloc/(1<<20), bound/(1<<20), (c1 - c0).Round(time.Millisecond))
		}
	}
}

// ---- finding 5: poisoned entries ------------------------------------------

func poisonRange(e *attackEnv, t *tally, it int) {
	n := e.next()
	url := fmt.Sprintf("%s/v1/files/file-%d/content", e.mainURL, n)
	cookie := fmt.Sprintf("session=range-%d", n)
	e.send(t, attackReq{method: http.MethodGet, url: url, header: hdr("Cookie", cookie, "Range", "bytes=0-4", hdrLabel, e.label("poison-range", it, "range"))})
	plain := e.label("poison-range", it, "plain")
	a := e.send(t, attackReq{method: http.MethodGet, url: url, header: hdr("Cookie", cookie, hdrLabel, plain)})
	if a != nil && a.status == http.StatusPartialContent {
		t.leak(1, "a plain GET received the 206 a Range request primed (X-Cache %s)", a.header.Get("X-Cache"))
		return
	}
	t.expectOwn(a, plain, "plain GET after Range")
	// Conditional requests bypass too: If-None-Match must not be answered from another's entry.
	e.send(t, attackReq{method: http.MethodGet, url: url, header: hdr("Cookie", cookie, "If-None-Match", `"x"`, hdrLabel, e.label("poison-range", it, "cond"))})
}

func poisonSSE(e *attackEnv, t *tally, it int) {
	for _, v := range []struct{ path, mode, body string }{
		{"/v1/chat/completions", "sse-error", `"stream":true`},
		{"/v1/chat/completions", "sse-noterm", `"stream":true`},
		{"/v1/messages", "sse-error", `"stream":true,"max_tokens":100`},
		{"/v1/messages", "sse-noterm", `"stream":true,"max_tokens":100`},
		{"/v1/responses", "sse-error", ""},
		{"/v1/responses", "sse-noterm", ""},
	} {
		n := e.next()
		var body []byte
		if v.path == "/v1/responses" {
			body = fmt.Appendf(nil, `{"model":"gpt-4o-mini","input":"Summarise the incident report %d","stream":true}`, n)
		} else {
			body = chatJSON(fmt.Sprintf("Summarise the incident report %d", n), v.body)
		}
		url := e.mainURL + v.path
		poison := e.label("poison-sse", it, "poison")
		e.chat(t, url, poison, hdr(hdrMode, v.mode, "Accept", "text/event-stream"), body)
		clean := e.label("poison-sse", it, "clean")
		a := e.chat(t, url, clean, hdr("Accept", "text/event-stream"), body)
		if a != nil {
			for _, l := range a.labels() {
				if group(l) != group(clean) {
					t.leak(1, "%s %s: the clean caller received the poisoned stream (X-Cache %s)", v.path, v.mode, a.header.Get("X-Cache"))
					break
				}
			}
		}
	}
}

// ---- finding 6: headers that select the answer ----------------------------

func keyPair(e *attackEnv, t *tally, it int, class, what, method, path string, body []byte, mode string, hA, hB http.Header) {
	n := e.next()
	cookie := fmt.Sprintf("session=%s-%d", class, n)
	url := e.mainURL + path
	a1, b1 := e.label(class, it, "a"), e.label(class, it, "b")
	hA.Set("Cookie", cookie)
	hB.Set("Cookie", cookie)
	hA.Set(hdrLabel, a1)
	hB.Set(hdrLabel, b1)
	if mode != "" {
		hA.Set(hdrMode, mode)
		hB.Set(hdrMode, mode)
	}
	e.send(t, attackReq{method: method, url: url, header: hA, body: body})
	a := e.send(t, attackReq{method: method, url: url, header: hB, body: body})
	t.expectOwn(a, b1, what)
}

func keyVary(e *attackEnv, t *tally, it int) {
	q := func() []byte { return chatJSON(fmt.Sprintf("List the open tickets %d", e.next()), "") }
	keyPair(e, t, it, "key-vary", "Vary: Accept", http.MethodPost, "/v1/chat/completions", q(), "vary-accept",
		hdr("Accept", "text/event-stream"), hdr("Accept", "application/json"))
	keyPair(e, t, it, "key-vary", "Vary: Accept-Language", http.MethodPost, "/v1/chat/completions", q(), "vary-lang",
		hdr("Accept-Language", "fr"), hdr("Accept-Language", "de"))
	keyPair(e, t, it, "key-vary", "Vary: *", http.MethodPost, "/v1/chat/completions", q(), "vary-star",
		hdr(), hdr())
}

func keyHeaders(e *attackEnv, t *tally, it int) {
	q := func() []byte { return chatJSON(fmt.Sprintf("List the open tickets %d", e.next()), "") }
	keyPair(e, t, it, "key-headers", "Accept without Vary", http.MethodPost, "/v1/chat/completions", q(), "accept-novary",
		hdr("Accept", "text/event-stream"), hdr("Accept", "application/json"))
	for _, h := range []string{"OpenAI-Project", "OpenAI-Organization"} {
		keyPair(e, t, it, "key-headers", h, http.MethodGet, fmt.Sprintf("/v1/files?n=%d", e.next()), nil, "",
			hdr(h, "proj-a"), hdr(h, "proj-b"))
	}
	for _, h := range []string{"Anthropic-Version", "Anthropic-Beta"} {
		keyPair(e, t, it, "key-headers", h, http.MethodPost, "/v1/messages",
			chatJSON(fmt.Sprintf("List the open tickets %d", e.next()), `"max_tokens":100`), "",
			hdr(h, "2023-06-01"), hdr(h, "2024-10-22"))
	}
}

// ---- finding 7: breakers ---------------------------------------------------

func breaker429(e *attackEnv, t *tally, it int) {
	for range 6 {
		e.chat(t, e.brk429URL+"/v1/chat/completions", e.label("breaker-429", it, "mallory"),
			hdr(hdrMode, "429", "Cookie", fmt.Sprintf("session=mallory-%d", e.next())), chatJSON(fmt.Sprintf("q %d", e.next()), ""))
	}
	victimGetsPrimary(e, t, e.brk429URL, e.label("breaker-429", it, "victim"), "another caller's 429s")
}

// victimGetsPrimary asks url as an innocent caller after an attack on its
// breaker: the answer must come from the primary tier, not a fallback.
func victimGetsPrimary(e *attackEnv, t *tally, url, victim, after string) {
	a := e.chat(t, url+"/v1/chat/completions", victim, hdr("Cookie", fmt.Sprintf("session=victim-%d", e.next())),
		chatJSON(fmt.Sprintf("A real question %d", e.next()), ""))
	if a != nil && (a.header.Get(hdrApology) != "" || a.header.Get("X-Rag-Upstream") != "primary") {
		t.leak(1, "after %s the victim was answered by tier %q (apology %q)", after, a.header.Get("X-Rag-Upstream"), a.header.Get(hdrApology))
	}
}

func breakerSlowClient(e *attackEnv, t *tally, it int) {
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			t.tried.Add(1)
			body := chatJSON(fmt.Sprintf("Slow reader %d", e.next()), "")
			req := fmt.Sprintf("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s: huge\r\nCookie: session=slow-%d\r\nConnection: close\r\n\r\n%s",
				len(body), hdrMode, e.next(), body)
			c, err := dialSmallBuffer(e.brkSlowAddr)
			if err != nil {
				t.noAnswer.Add(1)
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			if _, err := io.WriteString(c, req); err != nil {
				t.noAnswer.Add(1)
				return
			}
			time.Sleep(slowTierTimeout + time.Second) // a slow client: reads nothing past the tier timeout
			io.Copy(io.Discard, c)
		})
	}
	wg.Wait()
	e.up.mu.Lock()
	fast := e.up.hugeFast
	e.up.mu.Unlock()
	if fast > 0 {
		t.fail("%d slow-reader answers were written in under a second: the proxy did not stall, the attack proves nothing", fast)
	}
	victimGetsPrimary(e, t, e.brkSlowURL, e.label("breaker-slow-client", it, "victim"), "slow clients")
}

// ---- finding 8: semantic matching where it has no meaning -----------------

func semanticEmbeddings(e *attackEnv, t *tally, it int) {
	for _, path := range []string{"/v1/embeddings", "/v1/moderations"} {
		n := e.next()
		mk := func(text string) []byte {
			return fmt.Appendf(nil, `{"model":"text-embedding-3-small","input":%q,"user":"pair-%d"}`, text, n)
		}
		a1 := e.label("semantic-embeddings", it, "original")
		e.chat(t, e.mainURL+path, a1, nil, mk("How do I reset the password of my account on the website?"))
		b1 := e.label("semantic-embeddings", it, "paraphrase")
		a := e.chat(t, e.mainURL+path, b1, nil, mk("How can I reset the password of my account on the website?"))
		t.expectOwn(a, b1, path+" paraphrase")
	}
}

// ---- finding 9: experiments and feedback -----------------------------------

func (e *attackEnv) splitRequest(t *tally, it int, user, reqID string, extra http.Header) *attackResp {
	h := hdr("X-User", user, "Cookie", "session="+user)
	if reqID != "" {
		h.Set("X-Request-Id", reqID)
	}
	for k, v := range extra {
		h[k] = v
	}
	return e.chat(t, e.mainURL+"/v1/chat/completions", e.label("split", it, user), h, chatJSON(fmt.Sprintf("Split question %d", e.next()), ""))
}

func (e *attackEnv) feedback(t *tally, id, score string) *attackResp {
	return e.send(t, attackReq{method: http.MethodPost, url: e.mainURL + "/feedback",
		body: []byte(`{"request_id":"` + id + `","score":` + score + `}`)})
}

func feedbackBounds(e *attackEnv, t *tally, it int) {
	for _, score := range []string{"1e308", "-1e308", "1e999", "-1e999", "1000000"} {
		a := e.splitRequest(t, it, fmt.Sprintf("fb-%d", e.next()), "", nil)
		if a == nil {
			continue
		}
		id := a.header.Get("X-Request-Id")
		if f := e.feedback(t, id, score); f != nil && f.status < 300 {
			t.leak(1, "score %s accepted: %d %.200s", score, f.status, f.body)
		}
	}
	// Ordinary ratings afterwards: the report must stay finite with an interval.
	for range 4 {
		if a := e.splitRequest(t, it, fmt.Sprintf("fb-%d", e.next()), "", nil); a != nil {
			e.feedback(t, a.header.Get("X-Request-Id"), "4")
		}
	}
	resp, err := e.client.Get(e.adminURL + "/rag/experiments/attack_exp")
	if err != nil {
		t.fail("experiment report: %v", err)
		return
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var rep struct {
		Variants []struct {
			Name     string `json:"name"`
			Feedback struct {
				Count int64       `json:"count"`
				Mean  float64     `json:"mean"`
				CI95  *[2]float64 `json:"ci95"`
			} `json:"feedback"`
		} `json:"variants"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &rep) != nil {
		t.fail("experiment report: %d %.300s", resp.StatusCode, raw)
		return
	}
	for _, v := range rep.Variants {
		f := v.Feedback
		if f.Count >= 2 && (f.CI95 == nil || math.Abs(f.Mean) > 100 || math.IsNaN(f.Mean)) {
			t.leak(1, "variant %s: %d scores, mean %g, interval %v: the statistics are poisoned", v.Name, f.Count, f.Mean, f.CI95)
		}
	}
}

func variantOverride(e *attackEnv, t *tally, it int) {
	user := fmt.Sprintf("ov-%d", e.next())
	a := e.splitRequest(t, it, user, "", nil)
	if a == nil {
		return
	}
	assigned := a.header.Get("X-Rag-Variant")
	other := map[string]string{"control": "treatment", "treatment": "control"}[assigned]
	if other == "" {
		t.fail("no variant on the answer: %q", assigned)
		return
	}
	b := e.splitRequest(t, it, user, "", hdr("X-Rag-Variant", other))
	if b != nil && b.header.Get("X-Rag-Variant") == other {
		t.leak(1, "the client chose variant %s over its assignment %s with X-RAG-Variant", other, assigned)
	}
}

func requestIDHijack(e *attackEnv, t *tally, it int) {
	victim := fmt.Sprintf("victim-%d", e.next())
	chosen := fmt.Sprintf("req-%d-%d", it, e.next())
	a := e.splitRequest(t, it, victim, chosen, nil)
	if a == nil {
		return
	}
	vVariant, vID := a.header.Get("X-Rag-Variant"), a.header.Get("X-Request-Id")
	// Mallory sends the same id from users until one lands in the other variant.
	for range 16 {
		m := e.splitRequest(t, it, fmt.Sprintf("mallory-%d", e.next()), vID, nil)
		if m == nil || m.header.Get("X-Rag-Variant") != vVariant {
			break
		}
	}
	f := e.feedback(t, vID, "1")
	if f == nil || f.status >= 300 {
		if f != nil && f.status == http.StatusConflict {
			t.leak(1, "the victim's feedback for its own request id was refused as a duplicate")
		}
		return
	}
	var got struct {
		Variant string `json:"variant"`
	}
	json.Unmarshal(f.body, &got)
	if got.Variant != vVariant {
		t.leak(1, "the victim's feedback (variant %s) was counted for variant %s: another client reused its X-Request-ID", vVariant, got.Variant)
	}
}

// ---- finding 10: canonical form merging bodies ------------------------------

func ambiguousBody(e *attackEnv, t *tally, it int) {
	for _, pair := range [][2]string{
		{`{"model":"m","nonce":%d,"q":"X","q":"Y"}`, `{"model":"m","nonce":%d,"q":"Y"}`},
		{`{"model":"m","nonce":%d,"q":"Y"}`, `{"model":"m","nonce":%d,"q":"X","q":"Y"}`},
		{`{"model":"m","nonce":%d,"o":{"a":1,"a":2}}`, `{"model":"m","nonce":%d,"o":{"a":2}}`},
		{"{\"model\":\"m\",\"nonce\":%d,\"q\":\"a\xff\"}", "{\"model\":\"m\",\"nonce\":%d,\"q\":\"a\xfe\"}"},
		{`{"model":"m","nonce":%d,"q":"x\ud800"}`, `{"model":"m","nonce":%d,"q":"x\udbff"}`},
		{`{"model":"m","nonce":%d,"q":"x\ud800"}`, "{\"model\":\"m\",\"nonce\":%d,\"q\":\"x\xef\xbf\xbd\"}"},
	} {
		n := e.next()
		url := e.mainURL + "/v1/query"
		l1, l2 := e.label("ambiguous-body", it, "first"), e.label("ambiguous-body", it, "second")
		e.chat(t, url, l1, nil, fmt.Appendf(nil, pair[0], n))
		a := e.chat(t, url, l2, nil, fmt.Appendf(nil, pair[1], n))
		t.expectOwn(a, l2, fmt.Sprintf("%q after %q", pair[1], pair[0]))
	}
}

// ---- also weak: concurrency zones evicting live keys ------------------------

func concurrentEviction(e *attackEnv, t *tally, it int) {
	prefix := fmt.Sprintf("conc-%d-%d-", it, e.next())
	holdGroup := prefix + "hold"
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	wave := func(keys []string) {
		for _, k := range keys {
			wg.Go(func() {
				e.send(t, attackReq{method: http.MethodGet, url: fmt.Sprintf("%s/v1/models?k=%s&n=%d", e.mainURL, k, e.next()),
					header: hdr(hdrConcKey, k, hdrHold, holdGroup)})
				mu.Lock()
				done++
				mu.Unlock()
			})
		}
	}
	// waitSettled waits until every request sent so far is either held at
	// the upstream or answered (refused).
	waitSettled := func(sent int) {
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			in, _ := e.up.concStats(prefix)
			mu.Lock()
			d := done
			mu.Unlock()
			if in+d >= sent {
				return
			}
			time.Sleep(5 * time.Millisecond) // polling, bounded by the deadline
		}
	}
	first := make([]string, 64)
	for i := range first {
		first[i] = fmt.Sprintf("%sa%d", prefix, i)
	}
	wave(first)
	waitSettled(64)
	second := make([]string, 64)
	for i := range second {
		second[i] = fmt.Sprintf("%sb%d", prefix, i)
	}
	wave(second)
	waitSettled(128)
	wave(first) // the same keys again, while their first requests are in flight
	waitSettled(192)
	_, over := e.up.concStats(prefix)
	e.up.release(holdGroup)
	wg.Wait()
	if over > 0 {
		t.leak(over, "concurrent 1: %d keys had two requests in flight after new keys filled the zone", over)
	}
}
