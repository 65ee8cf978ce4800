package caddymodule_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/ragproxy/ragproxy/internal/mockupstream"
)

// breakerState reads one breaker's state from the admin API.
func (p *proxy) breakerState(name string) string {
	p.t.Helper()
	_, body := get(p.t, p.Admin+"/rag/breakers")
	var list []struct{ Name, State string }
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		p.t.Fatalf("GET /rag/breakers: %v: %s", err, body)
	}
	for _, b := range list {
		if b.Name == name {
			return b.State
		}
	}
	return ""
}

func (p *proxy) breakerAction(name, action string) int {
	p.t.Helper()
	resp, err := http.Post(p.Admin+"/rag/breakers/"+name+"/"+action, "", nil)
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestFallbackPrimaryDownServesNextTier(t *testing.T) {
	deadAddr := freeAddr(t) // nobody listens: every dial fails
	backup, backupAddr := startMock(t, mockupstream.Options{})
	p := startCaddy(t, `http://{SITE} {
	rag_fallback {
		tier fb_primary {
			reverse_proxy `+deadAddr+`
		}
		tier fb_small {
			set_json model small-model
			header_up X-Tier small
			reverse_proxy `+backupAddr+`
		}
	}
}`)
	client := newClient(p, "k")
	for i := range 8 {
		var resp *http.Response
		c, err := client.Chat.Completions.New(context.Background(), chatParams(fmt.Sprint("q", i)), option.WithResponseInto(&resp))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if c.Model != "small-model" || resp.Header.Get("X-RAG-Upstream") != "fb_small" {
			t.Errorf("request %d: model %q upstream %q; want the rewritten body answered by fb_small", i, c.Model, resp.Header.Get("X-RAG-Upstream"))
		}
	}
	if backup.Calls() != 8 {
		t.Errorf("backup calls = %d, want 8", backup.Calls())
	}
}

// TestFallbackAnswersAreNotCached: a stand-in answer from a fallback tier
// must not outlive the outage in rag_cache.
func TestFallbackAnswersAreNotCached(t *testing.T) {
	primary, primaryAddr := startMock(t, mockupstream.Options{FailStatus: 503})
	p := startCaddy(t, `http://{SITE} {
	rag_cache no_standins
	rag_fallback {
		tier nc_primary {
			reverse_proxy `+primaryAddr+`
		}
		tier nc_apology {
			respond "busy" 200
		}
	}
}`)
	for range 2 {
		r, body := post(t, p.URL+"/v1/chat/completions", chatBody("q", false))
		if body != "busy" || r.Header.Get("X-Cache") != "MISS" {
			t.Fatalf("during the outage: %q X-Cache %q, want the apology, uncached", body, r.Header.Get("X-Cache"))
		}
	}
	primary.SetOptions(mockupstream.Options{})
	r, body := post(t, p.URL+"/v1/chat/completions", chatBody("q", false))
	if r.Header.Get("X-RAG-Upstream") != "nc_primary" || !strings.Contains(body, "Mock answer") {
		t.Errorf("after recovery: %q from %q, want the primary's answer", body, r.Header.Get("X-RAG-Upstream"))
	}
	r, _ = post(t, p.URL+"/v1/chat/completions", chatBody("q", false))
	if r.Header.Get("X-Cache") != "HIT" {
		t.Errorf("the primary's answer was not cached: X-Cache %q", r.Header.Get("X-Cache"))
	}
}

func TestFallbackBreakerOpensThenProbeCloses(t *testing.T) {
	primary, primaryAddr := startMock(t, mockupstream.Options{FailStatus: 500})
	_, backupAddr := startMock(t, mockupstream.Options{})
	p := startCaddy(t, `http://{SITE} {
	rag_fallback {
		tier br_primary {
			breaker {
				failures 3
				window 1m
				open 2s
			}
			reverse_proxy `+primaryAddr+`
		}
		tier br_backup {
			reverse_proxy `+backupAddr+`
		}
	}
}`)
	openFallbacks := p.counter("ragproxy_fallbacks_total", `from="br_primary"`, `to="br_backup"`, `reason="open"`)
	for i := range 10 {
		r, _ := post(t, p.URL+"/v1/chat/completions", chatBody(fmt.Sprint("q", i), false))
		if r.StatusCode != 200 || r.Header.Get("X-RAG-Upstream") != "br_backup" {
			t.Fatalf("request %d: %d from %q", i, r.StatusCode, r.Header.Get("X-RAG-Upstream"))
		}
		if i == 2 && p.breakerState("br_primary") != "open" {
			t.Fatalf("breaker %q after 3 failures, want open", p.breakerState("br_primary"))
		}
	}
	if n := primary.Calls(); n != 3 {
		t.Errorf("primary received %d calls, want 3 (none while open)", n)
	}
	if v := p.metricValue("ragproxy_breaker_state", `breaker="br_primary"`); v != 2 {
		t.Errorf("ragproxy_breaker_state = %v, want 2 (open)", v)
	}
	// The primary recovers; once the open time is over a probe closes the breaker.
	primary.SetOptions(mockupstream.Options{})
	eventually(t, "a probe to reach the recovered primary", func() bool {
		r, _ := post(t, p.URL+"/v1/chat/completions", chatBody("probe", false))
		return r.Header.Get("X-RAG-Upstream") == "br_primary"
	})
	if s := p.breakerState("br_primary"); s != "closed" {
		t.Errorf("breaker %q after a good probe, want closed", s)
	}
	if v := openFallbacks(); v < 7 {
		t.Errorf("fallbacks for reason open = %v, want ≥ 7", v)
	}
}

func TestFallbackTimeoutsCutSlowPrimary(t *testing.T) {
	_, slowAddr := startMock(t, mockupstream.Options{Latency: time.Minute})
	_, backupAddr := startMock(t, mockupstream.Options{})
	p := startCaddy(t, `http://{SITE} {
	rag_fallback {
		tier slow {
			timeout 200ms
			reverse_proxy `+slowAddr+`
		}
		tier slow_stream {
			first_byte_timeout 200ms
			reverse_proxy `+slowAddr+`
		}
		tier quick {
			reverse_proxy `+backupAddr+`
		}
	}
}`)
	timeouts := p.counter("ragproxy_fallbacks_total", `from="slow"`, `reason="timeout"`)
	firstByte := p.counter("ragproxy_fallbacks_total", `from="slow_stream"`, `reason="first_byte_timeout"`)
	start := time.Now()
	r, body := post(t, p.URL+"/v1/chat/completions", chatBody("hurry", true))
	if r.StatusCode != 200 || r.Header.Get("X-RAG-Upstream") != "quick" || !strings.HasSuffix(body, "data: [DONE]\n\n") {
		t.Errorf("status %d from %q, body %q", r.StatusCode, r.Header.Get("X-RAG-Upstream"), body)
	}
	if time.Since(start) > 30*time.Second {
		t.Errorf("the slow tiers were not cut")
	}
	if v := timeouts(); v != 1 {
		t.Errorf("timeout fallbacks = %v, want 1", v)
	}
	if v := firstByte(); v != 1 {
		t.Errorf("first-byte-timeout fallbacks = %v, want 1", v)
	}
}

func TestFallbackStreamsHealthyAnswerThrough(t *testing.T) {
	release := make(chan struct{})
	upstream := newGatedStream(t, release).addr
	p := startCaddy(t, `http://{SITE} {
	rag_fallback {
		tier live {
			timeout 1m
			reverse_proxy `+upstream+`
		}
		tier other {
			respond "unused"
		}
	}
}`)
	resp := readLiveStream(t, p.URL+"/v1/chat/completions", release)
	if resp.Header.Get("X-RAG-Upstream") != "live" {
		t.Errorf("X-RAG-Upstream = %q", resp.Header.Get("X-RAG-Upstream"))
	}
}

func TestFallbackAllTiersDown(t *testing.T) {
	_, failing := startMock(t, mockupstream.Options{FailStatus: 503})
	p := startCaddy(t, `http://{SITE} {
	rag_fallback {
		tier down_a {
			reverse_proxy `+failing+`
		}
		tier down_b {
			reverse_proxy `+freeAddr(t)+`
		}
	}
}`)
	client := newClient(p, "k")
	_, err := client.Chat.Completions.New(context.Background(), chatParams("anyone?"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 || apiErr.Code != "upstream_unavailable" {
		t.Fatalf("err = %v, want a 503 upstream_unavailable error", err)
	}
	// the failed tries' headers (the mock's Retry-After) do not leak
	r, _ := post(t, p.URL+"/v1/chat/completions", chatBody("x", false))
	if r.Header.Get("Retry-After") != "" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers of the 503: %v", r.Header)
	}
}

func TestFallbackEmptyResultAndRetries(t *testing.T) {
	_, emptyAddr := startMock(t, mockupstream.Options{EmptyResults: true})
	flaky, flakyCalls := newFailFirstUpstream(t, 2)
	p := startCaddy(t, `http://{SITE} {
	rag_fallback {
		tier vector {
			fail_on_empty documents
			reverse_proxy `+emptyAddr+`
		}
		tier flaky {
			retries 2
			retry_backoff 10ms
			reverse_proxy `+flaky+`
		}
	}
}`)
	empties := p.counter("ragproxy_fallbacks_total", `from="vector"`, `reason="empty"`)
	r, body := post(t, p.URL+"/query", `{"query":"nothing here"}`)
	if r.StatusCode != 200 || r.Header.Get("X-RAG-Upstream") != "flaky" || !strings.Contains(body, `"ok":true`) {
		t.Errorf("status %d from %q: %s", r.StatusCode, r.Header.Get("X-RAG-Upstream"), body)
	}
	if flakyCalls() != 3 {
		t.Errorf("flaky tier calls = %d, want 3 (two failures retried)", flakyCalls())
	}
	if v := empties(); v != 1 {
		t.Errorf("empty fallbacks = %v, want 1", v)
	}
}

func TestFallbackStaleIfError(t *testing.T) {
	mock, upstream := startMock(t, mockupstream.Options{})
	p := startCaddy(t, `http://{SITE} {
	rag_cache stale_test {
		ttl 200ms
		stale_if_error 1h
	}
	rag_fallback {
		tier only {
			reverse_proxy `+upstream+`
		}
	}
}`)
	_, first := post(t, p.URL+"/v1/chat/completions", chatBody("keep me", false))
	mock.SetOptions(mockupstream.Options{FailStatus: 500})
	var last *http.Response
	var body string
	eventually(t, "a stale answer once the entry expired", func() bool {
		last, body = post(t, p.URL+"/v1/chat/completions", chatBody("keep me", false))
		return last.Header.Get("X-Cache") != "HIT"
	})
	if last.StatusCode != 200 || last.Header.Get("X-Cache") != "STALE" || body != first {
		t.Errorf("after expiry with the upstream down: %d X-Cache %q body %q; want 200 STALE %q", last.StatusCode, last.Header.Get("X-Cache"), body, first)
	}
	// a question never answered before still gets the 503
	r, _ := post(t, p.URL+"/v1/chat/completions", chatBody("new question", false))
	if r.StatusCode != 503 {
		t.Errorf("uncached request: %d, want 503", r.StatusCode)
	}
}

func TestFallbackClientDisconnectDoesNotCount(t *testing.T) {
	slow, slowAddr := startMock(t, mockupstream.Options{Latency: time.Minute})
	p := startCaddy(t, `http://{SITE} {
	rag_fallback {
		tier patient {
			breaker {
				failures 1
			}
			reverse_proxy `+slowAddr+`
		}
	}
}`)
	ignored := p.counter("ragproxy_fallback_requests_total", `tier="patient"`, `outcome="ignored"`)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.URL+"/v1/chat/completions", strings.NewReader(chatBody("bye", false)))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	eventually(t, "the request to reach the upstream", func() bool { return slow.Calls() == 1 })
	cancel()
	<-done
	eventually(t, "the abandoned try to be recorded", func() bool {
		return ignored() == 1
	})
	if s := p.breakerState("patient"); s != "closed" {
		t.Errorf("breaker %q after a client disconnect, want closed", s)
	}
}

func TestFallbackReloadKeepsBreakerAndAdminControls(t *testing.T) {
	_, primaryAddr := startMock(t, mockupstream.Options{})
	_, backupAddr := startMock(t, mockupstream.Options{})
	p := startCaddy(t, `http://{SITE} {
	rag_fallback {
		tier kept {
			reverse_proxy `+primaryAddr+`
		}
		tier kept_backup {
			reverse_proxy `+backupAddr+`
		}
	}
}`)
	if code := p.breakerAction("kept", "open"); code != 200 {
		t.Fatalf("POST open = %d", code)
	}
	p.reload()
	waitDial(t, strings.TrimPrefix(p.URL, "http://"))
	if s := p.breakerState("kept"); s != "open" {
		t.Fatalf("after reload breaker is %q, want open", s)
	}
	r, _ := post(t, p.URL+"/x", `{}`)
	if r.Header.Get("X-RAG-Upstream") != "kept_backup" {
		t.Errorf("forced-open tier answered: %q", r.Header.Get("X-RAG-Upstream"))
	}
	if code := p.breakerAction("kept", "reset"); code != 200 || p.breakerState("kept") != "closed" {
		t.Errorf("reset: %d, state %q", code, p.breakerState("kept"))
	}
	if code := p.breakerAction("nope", "open"); code != 404 {
		t.Errorf("unknown breaker: %d, want 404", code)
	}
	if code := p.breakerAction("kept", "explode"); code != 404 {
		t.Errorf("unknown action: %d, want 404", code)
	}
}

// TestFallbackChaos: 16 clients for 10s while the primary flaps every
// second. No client sees an error, and while the primary fails it gets few
// requests: the breaker bounds them.
func TestFallbackChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("10s chaos test")
	}
	primary, primaryAddr := startMock(t, mockupstream.Options{})
	_, backupAddr := startMock(t, mockupstream.Options{})
	p := startCaddy(t, `http://{SITE} {
	rag_fallback {
		tier chaos_primary {
			timeout 2s
			breaker {
				failures 3
				window 5s
				open 500ms
				half_open_probes 1
			}
			reverse_proxy `+primaryAddr+`
		}
		tier chaos_backup {
			reverse_proxy `+backupAddr+`
		}
	}
}`)
	var failingCalls, phases atomic.Int64
	stop := make(chan struct{})
	var flapper sync.WaitGroup
	flapper.Add(1)
	go func() { // the primary fails every other second
		defer flapper.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		failing := false
		for {
			select {
			case <-stop:
				primary.SetOptions(mockupstream.Options{})
				return
			case <-tick.C:
				if failing {
					failingCalls.Add(primary.Calls())
				}
				primary.ResetCalls()
				failing = !failing
				if failing {
					phases.Add(1)
					primary.SetOptions(mockupstream.Options{FailStatus: 503})
				} else {
					primary.SetOptions(mockupstream.Options{})
				}
			}
		}
	}()
	var errs, total atomic.Int64
	var clients sync.WaitGroup
	deadline := time.Now().Add(10 * time.Second)
	for c := range 16 {
		clients.Add(1)
		go func() {
			defer clients.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				resp, err := http.Post(p.URL+"/v1/chat/completions", "application/json",
					strings.NewReader(chatBody(fmt.Sprint("c", c, "-", i), false)))
				total.Add(1)
				if err != nil {
					errs.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs.Add(1)
				}
			}
		}()
	}
	clients.Wait()
	close(stop)
	flapper.Wait()
	t.Logf("%d requests, %d errors; %d failing phases, %d requests reached the failing primary",
		total.Load(), errs.Load(), phases.Load(), failingCalls.Load())
	if errs.Load() != 0 {
		t.Errorf("%d of %d requests failed, want 0", errs.Load(), total.Load())
	}
	// Per failing second: the failures that open the breaker, plus the
	// requests already in flight at that moment (one per client), plus one
	// probe per open period (500ms).
	if limit := phases.Load() * (3 + 16 + 2); failingCalls.Load() > limit {
		t.Errorf("the failing primary received %d requests, want ≤ %d", failingCalls.Load(), limit)
	}
	if total.Load() < 100 {
		t.Errorf("only %d requests in 10s", total.Load())
	}
}

// TestPlaceholders: {rag.upstream}, {rag.cache.status} and
// {rag.cache.similarity} are there for other handlers (here a deferred
// header) once the answer is known.
func TestPlaceholders(t *testing.T) {
	_, upstream := startMock(t, mockupstream.Options{})
	p := startCaddy(t, `http://{SITE} {
	header >X-Seen-Tier {rag.upstream}
	header >X-Seen-Cache {rag.cache.status}
	header >X-Seen-Similarity {rag.cache.similarity}
	rag_cache placeholders {
		semantic
	}
	rag_fallback {
		tier ph_primary {
			reverse_proxy `+upstream+`
		}
	}
}`)
	r, _ := post(t, p.URL+"/v1/chat/completions", chatBody(question, false))
	if r.Header.Get("X-Seen-Tier") != "ph_primary" || r.Header.Get("X-Seen-Cache") != "MISS" {
		t.Errorf("miss: tier %q cache %q", r.Header.Get("X-Seen-Tier"), r.Header.Get("X-Seen-Cache"))
	}
	r, _ = post(t, p.URL+"/v1/chat/completions", chatBody(paraphrase, false))
	if r.Header.Get("X-Seen-Cache") != "SEMANTIC-HIT" || r.Header.Get("X-Seen-Similarity") != r.Header.Get("X-Cache-Similarity") || r.Header.Get("X-Seen-Similarity") == "" {
		t.Errorf("semantic hit: cache %q similarity %q (X-Cache-Similarity %q)",
			r.Header.Get("X-Seen-Cache"), r.Header.Get("X-Seen-Similarity"), r.Header.Get("X-Cache-Similarity"))
	}
}
