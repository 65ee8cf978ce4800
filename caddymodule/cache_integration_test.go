package caddymodule_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/ragproxy/ragproxy/internal/mockupstream"
)

// cacheSite is a site with rag_cache in front of upstream; opts go inside
// the rag_cache block.
func cacheSite(upstream, opts string) string {
	return fmt.Sprintf("http://{SITE} {\n\trag_cache {\n%s\n\t}\n\treverse_proxy %s\n}\n", opts, upstream)
}

func newClient(p *proxy, apiKey string) openai.Client {
	return openai.NewClient(
		option.WithBaseURL(p.URL+"/v1/"),
		option.WithAPIKey(apiKey),
		option.WithMaxRetries(0),
	)
}

func chatParams(q string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:    "mock-model",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(q)},
	}
}

func TestCacheHitAfterMiss(t *testing.T) {
	mock, upstream := startMock(t, mockupstream.Options{})
	p := startCaddy(t, cacheSite(upstream, ""))
	client := newClient(p, "key-a")
	ctx := context.Background()

	var first, second *http.Response
	a, err := client.Chat.Completions.New(ctx, chatParams("What is RAG?"), option.WithResponseInto(&first))
	if err != nil {
		t.Fatal(err)
	}
	b, err := client.Chat.Completions.New(ctx, chatParams("What is RAG?"), option.WithResponseInto(&second))
	if err != nil {
		t.Fatal(err)
	}
	if got := first.Header.Get("X-Cache"); got != "MISS" {
		t.Errorf("first X-Cache = %q, want MISS", got)
	}
	if got := second.Header.Get("X-Cache"); got != "HIT" {
		t.Errorf("second X-Cache = %q, want HIT", got)
	}
	if a.ID != b.ID || b.Choices[0].Message.Content != "Mock answer to: What is RAG?" {
		t.Errorf("hit answered %q %q, want the cached %q", b.ID, b.Choices[0].Message.Content, a.ID)
	}
	if n := mock.CallsTo("/v1/chat/completions"); n != 1 {
		t.Errorf("upstream received %d calls, want 1", n)
	}

	// The same request written differently (key order, whitespace) hits
	// too; it asks for the same representation as the client did (Accept
	// is part of the key).
	resp, _ := post(t, p.URL+"/v1/chat/completions",
		`{ "messages" : [ {"content":"What is RAG?", "role":"user"} ], "model":"mock-model" }`,
		"Authorization", "Bearer key-a", "Accept", "application/json")
	if resp.Header.Get("X-Cache") != "HIT" {
		t.Errorf("reordered body: X-Cache = %q, want HIT", resp.Header.Get("X-Cache"))
	}
	// Another question misses.
	if _, err := client.Chat.Completions.New(ctx, chatParams("Something else?"), option.WithResponseInto(&second)); err != nil {
		t.Fatal(err)
	}
	if second.Header.Get("X-Cache") != "MISS" {
		t.Errorf("other question: X-Cache = %q, want MISS", second.Header.Get("X-Cache"))
	}
}

func TestCacheIgnoreFields(t *testing.T) {
	mock, upstream := startMock(t, mockupstream.Options{})
	p := startCaddy(t, cacheSite(upstream, "\t\tignore_fields user"))
	post(t, p.URL+"/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"q"}],"user":"alice"}`)
	resp, _ := post(t, p.URL+"/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"q"}],"user":"bob"}`)
	if resp.Header.Get("X-Cache") != "HIT" || mock.Calls() != 1 {
		t.Errorf("ignored field changed the key: X-Cache %q, upstream calls %d", resp.Header.Get("X-Cache"), mock.Calls())
	}
}

func TestCacheStreamingReplay(t *testing.T) {
	mock, upstream := startMock(t, mockupstream.Options{})
	p := startCaddy(t, cacheSite(upstream, ""))
	client := newClient(p, "key-a")

	read := func() (string, string) {
		var resp *http.Response
		stream := client.Chat.Completions.NewStreaming(context.Background(), chatParams("Tell me about streams"), option.WithResponseInto(&resp))
		var text strings.Builder
		chunks := 0
		for stream.Next() {
			chunks++
			for _, c := range stream.Current().Choices {
				text.WriteString(c.Delta.Content)
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		if chunks < 3 {
			t.Errorf("only %d chunks", chunks)
		}
		return text.String(), resp.Header.Get("X-Cache")
	}
	text1, status1 := read()
	text2, status2 := read()
	if status1 != "MISS" || status2 != "HIT" {
		t.Errorf("X-Cache = %s then %s, want MISS then HIT", status1, status2)
	}
	if text1 != "Mock answer to: Tell me about streams" || text2 != text1 {
		t.Errorf("replayed stream %q, want %q", text2, text1)
	}
	if n := mock.Calls(); n != 1 {
		t.Errorf("upstream received %d calls, want 1", n)
	}
	// The replay carries the same events, usage chunk and [DONE] included.
	resp, body := post(t, p.URL+"/v1/chat/completions", chatBody("Tell me about streams", true),
		"Authorization", "Bearer key-a", "Accept", "application/json") // what the client sent
	if resp.Header.Get("X-Cache") != "HIT" || !strings.Contains(body, `"usage"`) || !strings.HasSuffix(body, "data: [DONE]\n\n") {
		t.Errorf("raw replay: X-Cache %q body %q", resp.Header.Get("X-Cache"), body)
	}
}

// TestCacheStreamsEventsAsTheyArrive holds the upstream after its first
// event: the client must have that event before the upstream goes on.
func TestCacheStreamsEventsAsTheyArrive(t *testing.T) {
	release := make(chan struct{})
	p := startCaddy(t, cacheSite(newGatedStream(t, release).addr, ""))

	readLiveStream(t, p.URL+"/v1/chat/completions", release)
	// and it was recorded: the replay has every event
	_, body := post(t, p.URL+"/v1/chat/completions", chatBody("hi", true))
	if body != "data: first\n\ndata: second\n\ndata: [DONE]\n\n" {
		t.Errorf("replay = %q", body)
	}
}

func TestCacheTenantIsolation(t *testing.T) {
	mock, upstream := startMock(t, mockupstream.Options{})
	p := startCaddy(t, cacheSite(upstream, ""))
	ctx := context.Background()
	alice, bob := newClient(p, "alice-key"), newClient(p, "bob-key")

	var resp *http.Response
	a, err := alice.Chat.Completions.New(ctx, chatParams("secret plans"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := bob.Chat.Completions.New(ctx, chatParams("secret plans"), option.WithResponseInto(&resp))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("X-Cache") != "MISS" || a.ID == b.ID {
		t.Errorf("bob got alice's answer: X-Cache %q, ids %s %s", resp.Header.Get("X-Cache"), a.ID, b.ID)
	}
	// x-api-key (Anthropic style) scopes too
	r1, _ := post(t, p.URL+"/v1/chat/completions", chatBody("secret plans", false), "X-Api-Key", "k1")
	r2, _ := post(t, p.URL+"/v1/chat/completions", chatBody("secret plans", false), "X-Api-Key", "k2")
	r3, _ := post(t, p.URL+"/v1/chat/completions", chatBody("secret plans", false), "X-Api-Key", "k1")
	if r1.Header.Get("X-Cache") != "MISS" || r2.Header.Get("X-Cache") != "MISS" || r3.Header.Get("X-Cache") != "HIT" {
		t.Errorf("x-api-key scoping: %s %s %s", r1.Header.Get("X-Cache"), r2.Header.Get("X-Cache"), r3.Header.Get("X-Cache"))
	}
	if n := mock.Calls(); n != 4 {
		t.Errorf("upstream calls = %d, want 4", n)
	}
}

func TestCacheScopeSharedAndPlaceholder(t *testing.T) {
	_, upstream := startMock(t, mockupstream.Options{})
	p := startCaddy(t, `http://{SITE} {
	handle /v1/* {
		rag_cache shared_llm {
			scope shared
		}
		reverse_proxy `+upstream+`
	}
	handle /query {
		rag_cache by_team {
			scope {http.request.header.X-Team}
		}
		reverse_proxy `+upstream+`
	}
}`)
	post(t, p.URL+"/v1/chat/completions", chatBody("q", false), "Authorization", "Bearer a")
	r, _ := post(t, p.URL+"/v1/chat/completions", chatBody("q", false), "Authorization", "Bearer b")
	if r.Header.Get("X-Cache") != "HIT" {
		t.Errorf("shared scope: X-Cache = %q, want HIT", r.Header.Get("X-Cache"))
	}
	post(t, p.URL+"/query", `{"query":"x"}`, "X-Team", "red")
	r1, _ := post(t, p.URL+"/query", `{"query":"x"}`, "X-Team", "blue")
	r2, _ := post(t, p.URL+"/query", `{"query":"x"}`, "X-Team", "red", "Authorization", "Bearer other")
	if r1.Header.Get("X-Cache") != "MISS" || r2.Header.Get("X-Cache") != "HIT" {
		t.Errorf("team scope: blue %q (want MISS), red %q (want HIT)", r1.Header.Get("X-Cache"), r2.Header.Get("X-Cache"))
	}
}

func TestCacheTwoRoutesShareNamedCache(t *testing.T) {
	mock, upstream := startMock(t, mockupstream.Options{})
	p := startCaddy(t, `http://{SITE} {
	handle /a/* {
		uri strip_prefix /a
		rag_cache common
		reverse_proxy `+upstream+`
	}
	handle /b/* {
		uri strip_prefix /b
		rag_cache common
		reverse_proxy `+upstream+`
	}
}`)
	post(t, p.URL+"/a/v1/chat/completions", chatBody("q", false))
	r, _ := post(t, p.URL+"/b/v1/chat/completions", chatBody("q", false))
	if r.Header.Get("X-Cache") != "HIT" || mock.Calls() != 1 {
		t.Errorf("second route: X-Cache %q, upstream calls %d; want HIT, 1", r.Header.Get("X-Cache"), mock.Calls())
	}
	_, body := get(t, p.Admin+"/rag/caches")
	if !strings.Contains(body, `"name":"common"`) || !strings.Contains(body, `"entries":1`) {
		t.Errorf("/rag/caches = %s", body)
	}
}

func TestCacheDoesNotStoreErrorsOrBrokenAnswers(t *testing.T) {
	mock, upstream := startMock(t, mockupstream.Options{})
	p := startCaddy(t, cacheSite(upstream, ""))
	client := newClient(p, "k")
	ctx := context.Background()

	mock.SetOptions(mockupstream.Options{FailStatus: 500})
	for range 2 {
		_, err := client.Chat.Completions.New(ctx, chatParams("fails"))
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 500 {
			t.Fatalf("err = %v, want a 500 API error", err)
		}
	}
	mock.SetOptions(mockupstream.Options{})
	var resp *http.Response
	if _, err := client.Chat.Completions.New(ctx, chatParams("fails"), option.WithResponseInto(&resp)); err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("X-Cache") != "MISS" || mock.Calls() != 3 {
		t.Errorf("after errors: X-Cache %q, calls %d; want MISS, 3", resp.Header.Get("X-Cache"), mock.Calls())
	}

	// A stream cut in the middle is not stored.
	mock.SetOptions(mockupstream.Options{Drop: mockupstream.DropMid})
	r, err := http.Post(p.URL+"/v1/chat/completions", "application/json", strings.NewReader(chatBody("broken stream", true)))
	if err == nil {
		if _, err = readAll(r.Body); err == nil {
			t.Error("the client did not see the stream break")
		}
		r.Body.Close()
	}
	mock.SetOptions(mockupstream.Options{})
	r2, body := post(t, p.URL+"/v1/chat/completions", chatBody("broken stream", true))
	if r2.Header.Get("X-Cache") != "MISS" || !strings.HasSuffix(body, "data: [DONE]\n\n") {
		t.Errorf("after a broken stream: X-Cache %q, body %q; want MISS and a whole stream", r2.Header.Get("X-Cache"), body)
	}
}

func TestCacheRespectsNoStore(t *testing.T) {
	upstream, calls := newNoStoreUpstream(t)
	p := startCaddy(t, cacheSite(upstream, ""))
	for range 2 {
		r, _ := post(t, p.URL+"/private", `{"q":1}`)
		if r.Header.Get("X-Cache") != "MISS" {
			t.Errorf("X-Cache = %q, want MISS", r.Header.Get("X-Cache"))
		}
	}
	if calls() != 2 {
		t.Errorf("upstream calls = %d, want 2", calls())
	}
}

func TestCacheClientBypass(t *testing.T) {
	mock, upstream := startMock(t, mockupstream.Options{})
	p := startCaddy(t, cacheSite(upstream, ""))
	post(t, p.URL+"/v1/chat/completions", chatBody("q", false))
	for _, cc := range []string{"no-cache", "no-store"} {
		r, body := post(t, p.URL+"/v1/chat/completions", chatBody("q", false), "Cache-Control", cc)
		if r.Header.Get("X-Cache") != "BYPASS" || !strings.Contains(body, "Mock answer") {
			t.Errorf("Cache-Control %s: X-Cache %q", cc, r.Header.Get("X-Cache"))
		}
	}
	if mock.Calls() != 3 {
		t.Errorf("upstream calls = %d, want 3", mock.Calls())
	}
}

func TestCacheCoalescesConcurrentMisses(t *testing.T) {
	release := make(chan struct{})
	upstream, calls := newBlockingUpstream(t, release, http.StatusOK)
	p := startCaddy(t, fmt.Sprintf("http://{SITE} {\n\trag_cache herd\n\treverse_proxy %s\n}\n", upstream))
	const n = 16
	// counters are process-wide (go test -count=N): compare with the start
	coalescedBefore := max(0, p.metricValue("ragproxy_cache_lookups_total", `cache="herd"`, `result="coalesced"`))
	var wg sync.WaitGroup
	statuses := make(chan string, n)
	bodies := make(chan string, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, body := post(t, p.URL+"/v1/chat/completions", chatBody("herd", false))
			statuses <- r.Header.Get("X-Cache")
			bodies <- body
		}()
	}
	eventually(t, "one upstream call and 15 waiters", func() bool {
		return calls() == 1 && p.metricValue("ragproxy_cache_coalesced_waiting", `cache="herd"`) == n-1
	})
	close(release)
	wg.Wait()
	close(statuses)
	close(bodies)
	count := map[string]int{}
	for s := range statuses {
		count[s]++
	}
	if count["MISS"] != 1 || count["HIT"] != n-1 {
		t.Errorf("statuses = %v, want 1 MISS and %d HIT", count, n-1)
	}
	first := ""
	for b := range bodies {
		if first == "" {
			first = b
		}
		if b != first {
			t.Errorf("answers differ: %q vs %q", b, first)
		}
	}
	if calls() != 1 {
		t.Errorf("upstream calls = %d, want 1", calls())
	}
	if v := p.metricValue("ragproxy_cache_lookups_total", `cache="herd"`, `result="coalesced"`) - coalescedBefore; v != n-1 {
		t.Errorf("coalesced lookups metric = %v, want %d", v, n-1)
	}
}

// TestCacheCoalescedStreamIsLive: followers of a streamed miss receive each
// event as the upstream sends it, not once the leader has finished.
func TestCacheCoalescedStreamIsLive(t *testing.T) {
	release := make(chan struct{})
	upstream := newGatedStream(t, release)
	p := startCaddy(t, fmt.Sprintf("http://{SITE} {\n\trag_cache live\n\treverse_proxy %s\n}\n", upstream.addr))
	const n = 4
	var bodies []io.ReadCloser
	var statuses []string
	for i := range n {
		resp, err := http.Post(p.URL+"/v1/chat/completions", "application/json", strings.NewReader(chatBody("live", true)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		bodies = append(bodies, resp.Body)
		statuses = append(statuses, resp.Header.Get("X-Cache"))
		buf := make([]byte, len("data: first\n\n"))
		if _, err := readFull(resp.Body, buf); err != nil || string(buf) != "data: first\n\n" {
			t.Fatalf("request %d: first event %q, %v", i, buf, err)
		}
	}
	if n := upstream.calls.Load(); n != 1 {
		t.Fatalf("upstream calls = %d, want 1", n)
	}
	close(release)
	for i, b := range bodies {
		if rest, err := readAll(b); err != nil || rest != "data: second\n\ndata: [DONE]\n\n" {
			t.Errorf("request %d: rest %q, %v", i, rest, err)
		}
	}
	if strings.Join(statuses, ",") != "MISS,HIT,HIT,HIT" {
		t.Errorf("X-Cache = %v, want MISS then HITs", statuses)
	}
}

// TestCacheCoalescingDoesNotShareErrors: when the leader's answer is an
// error, the waiting requests ask upstream themselves.
func TestCacheCoalescingDoesNotShareErrors(t *testing.T) {
	release := make(chan struct{})
	upstream, calls := newBlockingUpstream(t, release, http.StatusServiceUnavailable)
	p := startCaddy(t, fmt.Sprintf("http://{SITE} {\n\trag_cache failing\n\treverse_proxy %s\n}\n", upstream))
	const n = 4
	var wg sync.WaitGroup
	codes := make(chan int, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _ := post(t, p.URL+"/x", `{"q":1}`)
			codes <- r.StatusCode
		}()
	}
	eventually(t, "three waiters", func() bool {
		return p.metricValue("ragproxy_cache_coalesced_waiting", `cache="failing"`) == n-1
	})
	close(release)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusServiceUnavailable {
			t.Errorf("status %d, want the upstream's 503", c)
		}
	}
	if calls() != n {
		t.Errorf("upstream calls = %d, want %d (errors are not shared)", calls(), n)
	}
}

func TestCacheReloadKeepsEntries(t *testing.T) {
	mock, upstream := startMock(t, mockupstream.Options{})
	p := startCaddy(t, cacheSite(upstream, "\t\tttl 1h"))
	post(t, p.URL+"/v1/chat/completions", chatBody("survive", false))
	p.reload()
	waitDial(t, strings.TrimPrefix(p.URL, "http://"))
	r, _ := post(t, p.URL+"/v1/chat/completions", chatBody("survive", false))
	if r.Header.Get("X-Cache") != "HIT" || mock.Calls() != 1 {
		t.Errorf("after reload: X-Cache %q, upstream calls %d; want HIT, 1", r.Header.Get("X-Cache"), mock.Calls())
	}
}

func TestCacheRejectsLargeBody(t *testing.T) {
	mock, upstream := startMock(t, mockupstream.Options{})
	p := startCaddy(t, cacheSite(upstream, "\t\tmax_body 1KiB"))
	client := newClient(p, "k")
	_, err := client.Chat.Completions.New(context.Background(), chatParams(strings.Repeat("long ", 400)))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("err = %v, want 413", err)
	}
	if apiErr.Code != "request_too_large" || apiErr.Type != "invalid_request_error" {
		t.Errorf("error body = %+v", apiErr)
	}
	// chunked upload (no Content-Length) is limited too
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/v1/chat/completions", io.NopCloser(strings.NewReader(chatBody(strings.Repeat("x", 2000), false))))
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked: status %d, want 413", resp.StatusCode)
	}
	if mock.Calls() != 0 {
		t.Errorf("upstream received %d calls, want 0", mock.Calls())
	}
}

func TestCacheMalformedJSONPassesThrough(t *testing.T) {
	mock, upstream := startMock(t, mockupstream.Options{})
	p := startCaddy(t, cacheSite(upstream, ""))
	for range 2 {
		r, body := post(t, p.URL+"/v1/chat/completions", `{"model": "m", "messages": [`)
		if r.StatusCode != http.StatusBadRequest || r.Header.Get("X-Cache") != "BYPASS" {
			t.Errorf("malformed: status %d X-Cache %q body %s; want the upstream's 400, BYPASS", r.StatusCode, r.Header.Get("X-Cache"), body)
		}
	}
	if mock.Calls() != 2 {
		t.Errorf("upstream calls = %d, want 2", mock.Calls())
	}
}

func TestCacheMetricsAndAdmin(t *testing.T) {
	_, upstream := startMock(t, mockupstream.Options{})
	// counters are process-wide: this cache's name is used by no other
	// test, and deltas keep go test -count=N honest
	p := startCaddy(t, fmt.Sprintf("http://{SITE} {\n\trag_cache metered\n\treverse_proxy %s\n}\n", upstream))
	hitsBefore := max(0, p.metricValue("ragproxy_cache_lookups_total", `cache="metered"`, `result="hit"`))
	missesBefore := max(0, p.metricValue("ragproxy_cache_lookups_total", `cache="metered"`, `result="miss"`))
	post(t, p.URL+"/v1/chat/completions", chatBody("m", false))
	post(t, p.URL+"/v1/chat/completions", chatBody("m", false))

	if v := p.metricValue("ragproxy_cache_lookups_total", `cache="metered"`, `result="hit"`) - hitsBefore; v != 1 {
		t.Errorf("hit lookups = %v, want 1", v)
	}
	if v := p.metricValue("ragproxy_cache_lookups_total", `cache="metered"`, `result="miss"`) - missesBefore; v != 1 {
		t.Errorf("miss lookups = %v, want 1", v)
	}
	for _, name := range []string{"ragproxy_cache_entries", "ragproxy_cache_bytes", "ragproxy_cache_max_bytes",
		"ragproxy_cache_evictions_total", "ragproxy_cache_lookup_duration_seconds_count", "ragproxy_cache_stores_total"} {
		if p.metricValue(name, `cache="metered"`) < 0 {
			t.Errorf("metric %s missing", name)
		}
	}
	if v := p.metricValue("ragproxy_cache_entries", `cache="metered"`); v != 1 {
		t.Errorf("entries = %v, want 1", v)
	}

	status, body := get(t, p.Admin+"/rag/caches")
	if status != 200 || !strings.Contains(body, `"name":"metered"`) || !strings.Contains(body, `"entries":1`) {
		t.Errorf("GET /rag/caches = %d %s", status, body)
	}
	req, _ := http.NewRequest(http.MethodDelete, p.Admin+"/rag/caches/metered", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("DELETE = %v %v", resp, err)
	}
	resp.Body.Close()
	r, _ := post(t, p.URL+"/v1/chat/completions", chatBody("m", false))
	if r.Header.Get("X-Cache") != "MISS" {
		t.Errorf("after purge: X-Cache = %q, want MISS", r.Header.Get("X-Cache"))
	}
	req, _ = http.NewRequest(http.MethodDelete, p.Admin+"/rag/caches/nope", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 404 {
		t.Errorf("DELETE unknown = %v %v, want 404", resp, err)
	}
	resp.Body.Close()
}

// TestCacheStatusPlaceholderAndLog checks {rag.cache.status} (sent upstream
// here) and the access log field.
func TestCacheStatusPlaceholderAndLog(t *testing.T) {
	upstream, seen := newHeaderEchoUpstream(t, "X-Seen-Status")
	logDirective, logFile := accessLog(t)
	p := startCaddy(t, `http://{SITE} {
	`+logDirective+`
	rag_cache
	reverse_proxy `+upstream+` {
		header_up X-Seen-Status {rag.cache.status}
	}
}`)
	post(t, p.URL+"/x", `{"a":1}`)
	post(t, p.URL+"/x", `{"a":1}`)
	if got := seen(); got != "MISS" {
		t.Errorf("{rag.cache.status} upstream saw %q, want MISS", got)
	}
	eventually(t, "access log with rag_cache fields", func() bool {
		b, _ := os.ReadFile(logFile)
		return strings.Contains(string(b), `"rag_cache":"MISS"`) && strings.Contains(string(b), `"rag_cache":"HIT"`)
	})
}

// TestCacheLeaderDisconnect: when the client whose request leads a
// coalesced miss goes away, requests tailing its answer still get all of
// it (and it is cached); with nobody tailing, the upstream call is
// cancelled as it would be without the cache.
func TestCacheLeaderDisconnect(t *testing.T) {
	release := make(chan struct{})
	upstream := newGatedStream(t, release)
	p := startCaddy(t, fmt.Sprintf("http://{SITE} {\n\trag_cache leader_gone\n\treverse_proxy %s\n}\n", upstream.addr))

	// With a follower: the leader leaves, the follower gets everything.
	leader, leave := openStream(t, p.URL)
	follower, _ := openStream(t, p.URL)
	leave()
	leader.Body.Close()
	eventually(t, "the follower to be tailing", func() bool {
		return p.metricValue("ragproxy_cache_coalesced_waiting", `cache="leader_gone"`) == 1
	})
	close(release)
	rest, err := io.ReadAll(follower.Body)
	follower.Body.Close()
	if err != nil || string(rest) != "data: second\n\ndata: [DONE]\n\n" {
		t.Fatalf("follower after the leader left: %q, %v", rest, err)
	}
	if r, _ := post(t, p.URL+"/v1/chat/completions", chatBody("hi", true)); r.Header.Get("X-Cache") != "HIT" {
		t.Errorf("the answer was not cached: X-Cache %q", r.Header.Get("X-Cache"))
	}
	if n := upstream.cancelled.Load(); n != 0 {
		t.Errorf("the upstream call was cancelled")
	}
}

func TestCacheLeaderDisconnectAloneCancelsUpstream(t *testing.T) {
	upstream := newGatedStream(t, make(chan struct{}))
	p := startCaddy(t, fmt.Sprintf("http://{SITE} {\n\trag_cache alone\n\treverse_proxy %s\n}\n", upstream.addr))
	resp, leave := openStream(t, p.URL)
	leave()
	resp.Body.Close()
	eventually(t, "the upstream call to be cancelled", func() bool { return upstream.cancelled.Load() == 1 })
}

// openStream starts a streaming chat request and reads its first event;
// the returned function abandons it.
func openStream(t *testing.T, base string) (*http.Response, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/chat/completions", strings.NewReader(chatBody("hi", true)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len("data: first\n\n"))
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "data: first\n\n" {
		t.Fatalf("first event %q, %v", buf, err)
	}
	return resp, cancel
}
