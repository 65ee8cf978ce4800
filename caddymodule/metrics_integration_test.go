package caddymodule_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/ragproxy/ragproxy/internal/mockupstream"
)

// TestRequestMetrics: a request through rag_split, rag_cache and
// rag_fallback is counted once, labelled with what the handlers decided,
// and timed to its first byte and its end; a tier's failed try is counted
// by class.
func TestRequestMetrics(t *testing.T) {
	_, primary := startMock(t, mockupstream.Options{Latency: 300 * time.Millisecond})
	_, backup := startMock(t, mockupstream.Options{})
	p := startCaddy(t, `http://{SITE} {
	rag_split m_exp {
		variant m_a 1
	}
	rag_cache m_cache
	rag_fallback {
		tier m_primary {
			reverse_proxy `+primary+`
		}
		tier m_backup {
			header_up X-Mock-Status 0
			reverse_proxy `+backup+`
		}
	}
}
`)
	client := newClient(p, "key-m")
	labels := func(cacheStatus, upstream string) []string {
		return []string{`cache_status="` + cacheStatus + `"`, `upstream="` + upstream + `"`, `variant="m_a"`}
	}
	missLabels, hitLabels := labels("miss", "m_primary"), labels("hit", "none")
	missCount := p.counter("ragproxy_requests_total", append(missLabels, `code="2xx"`)...)
	hitCount := p.counter("ragproxy_requests_total", append(hitLabels, `code="2xx"`)...)
	missFast := p.counter("ragproxy_request_first_byte_seconds_bucket", append(missLabels, `le="0.25"`)...)
	missSlow := p.counter("ragproxy_request_first_byte_seconds_bucket", append(missLabels, `le="5"`)...)
	missTotal := p.counter("ragproxy_request_duration_seconds_count", missLabels...)
	hitFast := p.counter("ragproxy_request_first_byte_seconds_bucket", append(hitLabels, `le="0.25"`)...)
	tierFirstByte := p.counter("ragproxy_fallback_first_byte_seconds_count", `tier="m_primary"`)

	_, r1 := ask(t, client, chatParams("what is the refund policy?"))
	_, r2 := ask(t, client, chatParams("what is the refund policy?"))
	if r1.Header.Get("X-Cache") != "MISS" || r2.Header.Get("X-Cache") != "HIT" {
		t.Fatalf("X-Cache %q then %q, want MISS then HIT", r1.Header.Get("X-Cache"), r2.Header.Get("X-Cache"))
	}
	for what, got := range map[string]float64{
		"miss requests (counted once, not once per handler)": missCount(),
		"hit requests":                 hitCount(),
		"miss first bytes within 5s":   missSlow(),
		"miss durations":               missTotal(),
		"hit first bytes within 250ms": hitFast(),
		"primary tier first bytes":     tierFirstByte(),
	} {
		if got != 1 {
			t.Errorf("%s: %v, want 1", what, got)
		}
	}
	if got := missFast(); got != 0 {
		t.Errorf("miss first bytes within 250ms: %v, want 0 (the upstream takes 300ms)", got)
	}

	// The primary fails with a 500: counted by class; the backup answers.
	errs := p.counter("ragproxy_upstream_errors_total", `tier="m_primary"`, `class="status"`)
	byBackup := p.counter("ragproxy_requests_total", append(labels("miss", "m_backup"), `code="2xx"`)...)
	r3 := askWith(t, client, chatParams("and the shipping times?"), option.WithHeader("X-Mock-Status", "500"))
	if r3.Header.Get("X-Rag-Upstream") != "m_backup" {
		t.Fatalf("X-RAG-Upstream %q, want m_backup", r3.Header.Get("X-Rag-Upstream"))
	}
	if errs() != 1 || byBackup() != 1 {
		t.Errorf("upstream errors (status) %v, requests answered by the backup %v; want 1 and 1", errs(), byBackup())
	}
}

// TestRequestMetricsOtherVariant: a variant name the config never named
// (here set by a user's vars directive from a header) is labelled "other":
// clients cannot grow the label set.
func TestRequestMetricsOtherVariant(t *testing.T) {
	_, upstream := startMock(t, mockupstream.Options{})
	p := startCaddy(t, `http://{SITE} {
	vars rag.variant {http.request.header.X-Pick}
	rag_cache m_other
	reverse_proxy `+upstream+`
}
`)
	other := p.counter("ragproxy_requests_total", `variant="other"`, `cache_status="miss"`)
	askWith(t, newClient(p, "key-o"), chatParams("hello there"), option.WithHeader("X-Pick", "made-up-by-a-client"))
	if got := other(); got != 1 {
		t.Errorf(`requests labelled variant="other": %v, want 1`, got)
	}
	if v := p.metricValue("ragproxy_requests_total", "made-up-by-a-client"); v != -1 {
		t.Errorf("a client's value became a label (%v)", v)
	}
}

// TestCacheLookupsCountSemanticHits: a hit by meaning is a cache lookup of
// its own kind, so hit rates by kind add up.
func TestCacheLookupsCountSemanticHits(t *testing.T) {
	_, upstream := startMock(t, mockupstream.Options{})
	p := startCaddy(t, semanticSite(upstream, ""))
	semantic := p.counter("ragproxy_cache_lookups_total", `cache="semantic_test"`, `result="semantic"`)
	requests := p.counter("ragproxy_requests_total", `cache_status="semantic_hit"`)
	client := newClient(p, "tenant-m")
	ask(t, client, chatParams(question))
	_, r := ask(t, client, chatParams(paraphrase))
	if r.Header.Get("X-Cache") != "SEMANTIC-HIT" {
		t.Fatalf("X-Cache %q, want SEMANTIC-HIT", r.Header.Get("X-Cache"))
	}
	if semantic() != 1 || requests() != 1 {
		t.Errorf("semantic lookups %v, semantic_hit requests %v; want 1 and 1", semantic(), requests())
	}
}

// askWith asks with request options and returns the answer's response.
func askWith(t *testing.T, client openai.Client, params openai.ChatCompletionNewParams, opts ...option.RequestOption) *http.Response {
	t.Helper()
	var resp *http.Response
	if _, err := client.Chat.Completions.New(context.Background(), params, append(opts, option.WithResponseInto(&resp))...); err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestRequestMetricsFirstHandlerValidateOrPromptCache: a route whose only
// ragproxy handler is rag_validate or rag_prompt_cache counts and times
// its requests like any other, refusals included.
func TestRequestMetricsFirstHandlerValidateOrPromptCache(t *testing.T) {
	_, upstream := startMock(t, mockupstream.Options{})
	for _, handler := range []string{"rag_validate", "rag_prompt_cache"} {
		t.Run(handler, func(t *testing.T) {
			p := startCaddy(t, "http://{SITE} {\n\t"+handler+"\n\treverse_proxy "+upstream+"\n}\n")
			none := []string{`cache_status="none"`, `upstream="none"`, `variant="none"`}
			ok := p.counter("ragproxy_requests_total", append(none, `code="2xx"`)...)
			refused := p.counter("ragproxy_requests_total", append(none, `code="4xx"`)...)
			timed := p.counter("ragproxy_request_duration_seconds_count", none...)
			if resp, body := post(t, p.URL+"/v1/chat/completions", chatBody("what is the refund policy?", false)); resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			wantRefused := 0.0
			if handler == "rag_validate" {
				if resp, _ := post(t, p.URL+"/v1/chat/completions", `{"model":`); resp.StatusCode != http.StatusBadRequest {
					t.Fatalf("malformed body: %d, want 400", resp.StatusCode)
				}
				wantRefused = 1
			}
			if ok() != 1 || refused() != wantRefused || timed() != 1+wantRefused {
				t.Fatalf("requests counted: 2xx %v, 4xx %v, timed %v; want 1, %v, %v", ok(), refused(), timed(), wantRefused, 1+wantRefused)
			}
		})
	}
}
