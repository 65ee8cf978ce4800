package caddymodule_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
)

// Tests of issue 12: the cache never gives one caller's answer to another,
// and never stores an answer not every caller of the scope should get.

// countingUpstream answers every call with a new answer number, so a
// replayed answer is told from a fresh one; respond may shape the answer
// (headers, status, body) from the request. It returns the address, the
// call count and the bodies it received.
func countingUpstream(t *testing.T, respond func(w http.ResponseWriter, r *http.Request, n int64)) (string, *atomic.Int64, chan []byte) {
	var calls atomic.Int64
	bodies := make(chan []byte, 100)
	addr := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		select {
		case bodies <- b:
		default:
		}
		if respond != nil {
			respond(w, r, n)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"answer":%d}`, n)
	})
	return addr, &calls, bodies
}

// send makes one request with the given headers (repeated values kept)
// and returns the answer with its body read.
func send(t *testing.T, method, url, body string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading answer of %s %s: %v", method, url, err)
	}
	return resp, string(b)
}

// TestCacheScopeCoversEveryCredential (finding 1): Alice and Bob
// authenticate with a session cookie, Azure's api-key, Google's
// x-goog-api-key, Proxy-Authorization, or an identity header forward_auth
// set (with scope_headers): Bob never receives Alice's cached answer,
// while Alice's second request is a hit.
func TestCacheScopeCoversEveryCredential(t *testing.T) {
	upstream, _, _ := countingUpstream(t, nil)
	p := startCaddy(t, cacheSite(upstream, "\t\tscope_headers X-Forwarded-User"))
	body := chatBody("my account balance", false)
	for _, name := range []string{"Cookie", "Api-Key", "X-Goog-Api-Key", "Proxy-Authorization", "X-Forwarded-User", "Authorization", "X-Api-Key"} {
		alice := http.Header{name: {"alice-" + name}}
		bob := http.Header{name: {"bob-" + name}}
		r1, a1 := send(t, "POST", p.URL+"/v1/chat/completions", body, alice)
		r2, b1 := send(t, "POST", p.URL+"/v1/chat/completions", body, bob)
		r3, a2 := send(t, "POST", p.URL+"/v1/chat/completions", body, alice)
		if r2.Header.Get("X-Cache") != "MISS" || b1 == a1 {
			t.Errorf("%s: Bob got X-Cache %q and answer %s; Alice's was %s", name, r2.Header.Get("X-Cache"), b1, a1)
		}
		if r1.Header.Get("X-Cache") != "MISS" || r3.Header.Get("X-Cache") != "HIT" || a2 != a1 {
			t.Errorf("%s: Alice got %q then %q (%s, %s), want MISS then HIT of the same answer",
				name, r1.Header.Get("X-Cache"), r3.Header.Get("X-Cache"), a1, a2)
		}
		// A repeated credential header is another credential.
		r4, _ := send(t, "POST", p.URL+"/v1/chat/completions", body, http.Header{name: {"alice-" + name, "junk"}})
		if r4.Header.Get("X-Cache") != "MISS" {
			t.Errorf("%s repeated: X-Cache %q, want MISS", name, r4.Header.Get("X-Cache"))
		}
	}
}

// TestCacheEmptyScopePlaceholderBypasses: a scope placeholder that renders
// empty sends the request past the cache, never into a scope shared by
// every request without the header.
func TestCacheEmptyScopePlaceholderBypasses(t *testing.T) {
	upstream, calls, _ := countingUpstream(t, nil)
	p := startCaddy(t, cacheSite(upstream, "\t\tscope {http.request.header.X-Tenant}"))
	// counters are process-wide (go test -count=N): compare with the start
	before := max(0, p.metricValue("ragproxy_cache_bypasses_total", `reason="empty_scope"`))
	body := chatBody("q", false)
	for range 2 {
		r, _ := send(t, "POST", p.URL+"/v1/chat/completions", body, http.Header{"Authorization": {"Bearer someone"}})
		if r.Header.Get("X-Cache") != "BYPASS" {
			t.Errorf("no tenant: X-Cache %q, want BYPASS", r.Header.Get("X-Cache"))
		}
	}
	send(t, "POST", p.URL+"/v1/chat/completions", body, http.Header{"X-Tenant": {"red"}})
	r, _ := send(t, "POST", p.URL+"/v1/chat/completions", body, http.Header{"X-Tenant": {"red"}})
	if r.Header.Get("X-Cache") != "HIT" || calls.Load() != 3 {
		t.Errorf("tenant red: X-Cache %q, upstream calls %d; want HIT, 3", r.Header.Get("X-Cache"), calls.Load())
	}
	if v := p.metricValue("ragproxy_cache_bypasses_total", `reason="empty_scope"`) - before; v != 2 {
		t.Errorf("empty_scope bypasses = %v, want 2", v)
	}
}

// TestCacheScopeAnyEmptyPlaceholderBypasses: with several placeholders in
// the scope, one rendering empty is a missing identity: "{org}/{user}"
// without a user must not share "acme/" with every user of the org.
func TestCacheScopeAnyEmptyPlaceholderBypasses(t *testing.T) {
	upstream, calls, _ := countingUpstream(t, nil)
	p := startCaddy(t, cacheSite(upstream, "\t\tscope {http.request.header.X-Org}/{http.request.header.X-User}"))
	body := chatBody("q", false)
	for _, user := range []string{"", ""} {
		r, _ := send(t, "POST", p.URL+"/v1/chat/completions", body, http.Header{"X-Org": {"acme"}, "X-User": {user}})
		if r.Header.Get("X-Cache") != "BYPASS" {
			t.Errorf("org without user: X-Cache %q, want BYPASS", r.Header.Get("X-Cache"))
		}
	}
	send(t, "POST", p.URL+"/v1/chat/completions", body, http.Header{"X-Org": {"acme"}, "X-User": {"ann"}})
	r, _ := send(t, "POST", p.URL+"/v1/chat/completions", body, http.Header{"X-Org": {"acme"}, "X-User": {"ann"}})
	if r.Header.Get("X-Cache") != "HIT" || calls.Load() != 3 {
		t.Errorf("org and user: X-Cache %q, upstream calls %d; want HIT, 3", r.Header.Get("X-Cache"), calls.Load())
	}
}

// TestCachePrivateAnswers (finding 1): Cache-Control: private is stored
// only under the default scope of a caller with a credential, never for
// anonymous callers (who all share one scope) nor under a placeholder
// scope.
func TestCachePrivateAnswers(t *testing.T) {
	upstream, _, _ := countingUpstream(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "private, max-age=60")
		fmt.Fprintf(w, `{"answer":%d}`, n)
	})
	p := startCaddy(t, `http://{SITE} {
	handle /team/* {
		rag_cache team {
			scope {http.request.header.X-Team}
		}
		reverse_proxy `+upstream+`
	}
	handle {
		rag_cache
		reverse_proxy `+upstream+`
	}
}`)
	body := chatBody("q", false)
	for _, c := range []struct {
		name, path string
		header     http.Header
		want       string
	}{
		{"anonymous", "/v1/chat/completions", nil, "MISS"},
		{"credential", "/v1/chat/completions", http.Header{"Authorization": {"Bearer alice"}}, "HIT"},
		{"placeholder scope", "/team/v1/chat/completions", http.Header{"X-Team": {"red"}}, "MISS"},
	} {
		send(t, "POST", p.URL+c.path, body, c.header)
		r, _ := send(t, "POST", p.URL+c.path, body, c.header)
		if got := r.Header.Get("X-Cache"); got != c.want {
			t.Errorf("%s: second request X-Cache %q, want %q", c.name, got, c.want)
		}
	}
}

// TestCacheRangeAndPartialAnswersNotStored (finding 5): a Range request
// bypasses the cache, so the 206 it gets is not what the next plain GET
// receives; no status but 200 is stored.
func TestCacheRangeAndPartialAnswersNotStored(t *testing.T) {
	const file = "0123456789abcdef"
	upstream, calls, _ := countingUpstream(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		w.Header().Set("Content-Type", "application/octet-stream")
		switch {
		case r.Header.Get("Range") == "bytes=0-4":
			w.Header().Set("Content-Range", fmt.Sprintf("bytes 0-4/%d", len(file)))
			w.WriteHeader(http.StatusPartialContent)
			io.WriteString(w, file[:5])
		case r.URL.Path == "/v1/created":
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, "%d", n)
		default:
			io.WriteString(w, file)
		}
	})
	p := startCaddy(t, cacheSite(upstream, ""))
	r, body := send(t, "GET", p.URL+"/v1/files/f1/content", "", http.Header{"Range": {"bytes=0-4"}})
	if r.StatusCode != http.StatusPartialContent || r.Header.Get("X-Cache") != "BYPASS" {
		t.Errorf("range request: %d X-Cache %q, want 206 BYPASS", r.StatusCode, r.Header.Get("X-Cache"))
	}
	r, body = send(t, "GET", p.URL+"/v1/files/f1/content", "", nil)
	if r.StatusCode != http.StatusOK || body != file {
		t.Errorf("plain GET after a range GET: %d %q (X-Cache %q), want 200 %q", r.StatusCode, body, r.Header.Get("X-Cache"), file)
	}
	for _, h := range []string{"If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range"} {
		if r, _ := send(t, "GET", p.URL+"/v1/files/f1/content", "", http.Header{h: {"x"}}); r.Header.Get("X-Cache") != "BYPASS" {
			t.Errorf("%s: X-Cache %q, want BYPASS", h, r.Header.Get("X-Cache"))
		}
	}
	send(t, "POST", p.URL+"/v1/created", `{"a":1}`, nil)
	r, _ = send(t, "POST", p.URL+"/v1/created", `{"a":1}`, nil)
	if r.Header.Get("X-Cache") != "MISS" {
		t.Errorf("a 201 was stored: X-Cache %q", r.Header.Get("X-Cache"))
	}
	if n := calls.Load(); n != 2+5+2 {
		t.Errorf("upstream calls = %d, want 9", n)
	}
}

// TestCacheStreamsWithErrorsOrCutNotStored (finding 5): a 200 SSE stream
// that carries an in-band error event, or ends without its API's terminal
// event, is not replayed; a whole one is.
func TestCacheStreamsWithErrorsOrCutNotStored(t *testing.T) {
	streams := map[string]string{
		"/anthropic-error": "event: message_start\ndata: {\"type\":\"message_start\"}\n\n" +
			"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
		"/openai-error":    "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"error\":{\"message\":\"server_error\"}}\n\ndata: [DONE]\n\n",
		"/openai-no-done":  "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n",
		"/responses-fail":  "event: response.created\ndata: {\"type\":\"response.created\"}\n\nevent: response.failed\ndata: {\"type\":\"response.failed\"}\n\n",
		"/openai-whole":    "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: [DONE]\n\n",
		"/anthropic-whole": "event: message_start\ndata: {\"type\":\"message_start\"}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
	}
	upstream, _, _ := countingUpstream(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, streams[r.URL.Path])
	})
	p := startCaddy(t, cacheSite(upstream, ""))
	for path := range streams {
		send(t, "POST", p.URL+path, chatBody("q", true), nil)
		r, _ := send(t, "POST", p.URL+path, chatBody("q", true), nil)
		want := "MISS"
		if strings.HasSuffix(path, "-whole") {
			want = "HIT"
		}
		if got := r.Header.Get("X-Cache"); got != want {
			t.Errorf("%s: second request X-Cache %q, want %q", path, got, want)
		}
	}
}

// TestCacheVaryAndSelectorHeaders (finding 6): the headers that select
// another answer are in the key, and an answer's Vary is honoured.
func TestCacheVaryAndSelectorHeaders(t *testing.T) {
	upstream, _, _ := countingUpstream(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		switch r.URL.Path {
		case "/vary-custom":
			w.Header().Set("Vary", "X-Flavour, Accept-Encoding")
		case "/vary-star":
			w.Header().Set("Vary", "*")
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"answer":%d,"accept":%q,"project":%q}`, n, r.Header.Get("Accept"), r.Header.Get("OpenAI-Project"))
	})
	p := startCaddy(t, cacheSite(upstream, ""))
	key := http.Header{"Authorization": {"Bearer k"}}
	with := func(name, value string) http.Header {
		h := key.Clone()
		h.Set(name, value)
		return h
	}
	for _, c := range []struct{ name, a, b string }{
		{"Accept", "application/json", "text/event-stream"},
		{"OpenAI-Project", "proj_A", "proj_B"},
		{"OpenAI-Organization", "org_A", "org_B"},
		{"Anthropic-Version", "2023-06-01", "2023-01-01"},
		{"Anthropic-Beta", "prompt-caching-2024-07-31", "tools-2024-04-04"},
	} {
		_, a := send(t, "GET", p.URL+"/v1/files?h="+c.name, "", with(c.name, c.a))
		r, b := send(t, "GET", p.URL+"/v1/files?h="+c.name, "", with(c.name, c.b))
		if r.Header.Get("X-Cache") != "MISS" || a == b {
			t.Errorf("%s %s then %s: X-Cache %q, answers %s and %s", c.name, c.a, c.b, r.Header.Get("X-Cache"), a, b)
		}
		r, a2 := send(t, "GET", p.URL+"/v1/files?h="+c.name, "", with(c.name, c.a))
		if r.Header.Get("X-Cache") != "HIT" || a2 != a {
			t.Errorf("%s %s again: X-Cache %q, want HIT", c.name, c.a, r.Header.Get("X-Cache"))
		}
	}

	// Vary names a header outside the key: an answer goes only to requests
	// with the same value (one entry per key: the latest variant is kept).
	_, sweet := send(t, "POST", p.URL+"/vary-custom", `{"q":1}`, with("X-Flavour", "sweet"))
	r, sour := send(t, "POST", p.URL+"/vary-custom", `{"q":1}`, with("X-Flavour", "sour"))
	if r.Header.Get("X-Cache") != "MISS" || sour == sweet {
		t.Errorf("Vary: X-Flavour: sour got X-Cache %q and %s (sweet got %s)", r.Header.Get("X-Cache"), sour, sweet)
	}
	r, again := send(t, "POST", p.URL+"/vary-custom", `{"q":1}`, with("X-Flavour", "sour"))
	if r.Header.Get("X-Cache") != "HIT" || again != sour {
		t.Errorf("Vary: X-Flavour sour again: X-Cache %q, %s; want HIT %s", r.Header.Get("X-Cache"), again, sour)
	}
	for _, h := range []http.Header{key, with("X-Flavour", "sweet"), with("X-Flavour", "SOUR")} {
		r, other := send(t, "POST", p.URL+"/vary-custom", `{"q":1}`, h)
		if r.Header.Get("X-Cache") != "MISS" || other == sour {
			t.Errorf("Vary: X-Flavour %q after sour: X-Cache %q, %s", h.Get("X-Flavour"), r.Header.Get("X-Cache"), other)
		}
		send(t, "POST", p.URL+"/vary-custom", `{"q":1}`, with("X-Flavour", "sour")) // sour's answer back
		sour = ""
		r, sour = send(t, "POST", p.URL+"/vary-custom", `{"q":1}`, with("X-Flavour", "sour"))
		if r.Header.Get("X-Cache") != "HIT" {
			t.Fatalf("sour again: X-Cache %q", r.Header.Get("X-Cache"))
		}
	}
	// Vary: * is never stored.
	send(t, "POST", p.URL+"/vary-star", `{"q":1}`, key)
	if r, _ := send(t, "POST", p.URL+"/vary-star", `{"q":1}`, key); r.Header.Get("X-Cache") != "MISS" {
		t.Errorf("Vary: *: X-Cache %q, want MISS", r.Header.Get("X-Cache"))
	}
}

// TestCacheAmbiguousBodiesBypass (finding 10): bodies that canonical form
// would merge with others — duplicate keys, invalid UTF-8, lone
// surrogates — bypass the cache and reach the backend byte for byte.
func TestCacheAmbiguousBodiesBypass(t *testing.T) {
	upstream, _, bodies := countingUpstream(t, nil)
	p := startCaddy(t, cacheSite(upstream, ""))
	for _, c := range []struct{ ambiguous, plain string }{
		{`{"q":"X","q":"Y"}`, `{"q":"Y"}`},
		{"{\"q\":\"a\xff\"}", "{\"q\":\"a\xfe\"}"},
		{`{"q":"\ud800"}`, `{"q":"\udc00"}`},
		{`{"q":"\ud800"}`, `{"q":"\ufffd"}`},
	} {
		r, _ := send(t, "POST", p.URL+"/v1/chat/completions", c.ambiguous, nil)
		if r.Header.Get("X-Cache") != "BYPASS" {
			t.Errorf("%q: X-Cache %q, want BYPASS", c.ambiguous, r.Header.Get("X-Cache"))
		}
		if r.Header.Get("X-Cache") != "HIT" {
			if got := <-bodies; string(got) != c.ambiguous {
				t.Errorf("backend received %q, want %q", got, c.ambiguous)
			}
		}
		r, _ = send(t, "POST", p.URL+"/v1/chat/completions", c.plain, nil)
		if r.Header.Get("X-Cache") == "HIT" {
			t.Errorf("%q got the answer of %q", c.plain, c.ambiguous)
			continue
		}
		<-bodies
	}
	if v := p.metricValue("ragproxy_cache_bypasses_total", `reason="ambiguous_body"`); v < 4 {
		t.Errorf("ambiguous_body bypasses = %v, want at least 4", v)
	}
}

// TestCacheDeepNestingIsCheap (finding 3): a 1 MiB body nested 1,000
// levels deep, sent through Caddy, costs allocation proportional to its
// size (it used to cost about 1 GiB in the canonicalizer alone), and is
// cached like any other body.
func TestCacheDeepNestingIsCheap(t *testing.T) {
	upstream, calls, _ := countingUpstream(t, nil)
	p := startCaddy(t, cacheSite(upstream, ""))
	const depth = 1000
	var b strings.Builder
	for range depth {
		b.WriteString(`{"a":`)
	}
	b.WriteString(`"` + strings.Repeat("x", 1<<20-depth*6-16) + `"`)
	b.WriteString(strings.Repeat("}", depth))
	body := b.String()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r, _ := send(t, "POST", p.URL+"/v1/chat/completions", body, nil)
	runtime.ReadMemStats(&after)
	if r.StatusCode != http.StatusOK || r.Header.Get("X-Cache") != "MISS" {
		t.Fatalf("deep body: %d X-Cache %q, want 200 MISS", r.StatusCode, r.Header.Get("X-Cache"))
	}
	// client, proxy and upstream each hold the body a few times over
	if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
		t.Errorf("one %d-byte request nested %d deep allocated %d MiB in the process", len(body), depth, got>>20)
	}
	if r, _ := send(t, "POST", p.URL+"/v1/chat/completions", body, nil); r.Header.Get("X-Cache") != "HIT" || calls.Load() != 1 {
		t.Errorf("deep body again: X-Cache %q, upstream calls %d; want HIT, 1", r.Header.Get("X-Cache"), calls.Load())
	}
}

// TestCacheCoalescedFollowerHonoursVary (finding 6): a request coalesced
// onto another's upstream call does not receive its answer when the answer
// varies on a header in which the two requests differ; it goes upstream
// itself.
func TestCacheCoalescedFollowerHonoursVary(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int64
	upstream := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		io.Copy(io.Discard, r.Body)
		if n == 1 {
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Vary", "X-Flavour")
		fmt.Fprintf(w, `{"flavour":%q}`, r.Header.Get("X-Flavour"))
	})
	p := startCaddy(t, fmt.Sprintf("http://{SITE} {\n\trag_cache vary_herd\n\treverse_proxy %s\n}\n", upstream))
	type answer struct{ status, body string }
	leader, follower := make(chan answer, 1), make(chan answer, 1)
	go func() {
		r, body := send(t, "POST", p.URL+"/v1/chat/completions", `{"q":1}`, http.Header{"X-Flavour": {"sweet"}})
		leader <- answer{r.Header.Get("X-Cache"), body}
	}()
	eventually(t, "the leader's upstream call", func() bool { return calls.Load() == 1 })
	go func() {
		r, body := send(t, "POST", p.URL+"/v1/chat/completions", `{"q":1}`, http.Header{"X-Flavour": {"sour"}})
		follower <- answer{r.Header.Get("X-Cache"), body}
	}()
	eventually(t, "a coalesced follower", func() bool {
		return p.metricValue("ragproxy_cache_coalesced_waiting", `cache="vary_herd"`) == 1
	})
	close(release)
	l, f := <-leader, <-follower
	if l.body != `{"flavour":"sweet"}` || f.body != `{"flavour":"sour"}` {
		t.Errorf("leader got %s (%s), follower got %s (%s); want each its own flavour", l.body, l.status, f.body, f.status)
	}
}
