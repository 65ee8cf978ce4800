package caddymodule_test

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// pricedUpstream answers chat completions for the model the request
// names with a usage of 2M prompt tokens (1M of them read from the prompt
// cache) and 1M completion tokens.
func pricedUpstream(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Model string }
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &req)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "c1", "object": "chat.completion", "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": "ok"}, "finish_reason": "stop"}},
			"usage": map[string]any{"prompt_tokens": 2_000_000, "completion_tokens": 1_000_000, "total_tokens": 3_000_000,
				"prompt_tokens_details": map[string]any{"cached_tokens": 1_000_000}},
		})
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func modelBody(model, q string) string {
	b, _ := json.Marshal(map[string]any{"model": model, "messages": []map[string]string{{"role": "user", "content": q}}})
	return string(b)
}

// TestCostOncePerRequest: with every ragproxy handler in the route, an
// answer's cost is recorded once, cached input priced as cached; a cache
// hit costs nothing and records what it saved; the access log has it.
func TestCostOncePerRequest(t *testing.T) {
	up := pricedUpstream(t)
	logDirective, logPath := accessLog(t)
	p := startCaddy(t, `http://{SITE} {
	`+logDirective+`
	rag_validate
	rag_rate_limit {
		zone cost_tokens {
			key {http.request.header.X-Key}
			tokens 1000000000/h
		}
	}
	rag_split cost_exp {
		variant only 1
	}
	rag_cache cost_cache
	rag_fallback {
		tier cost_primary {
			reverse_proxy `+up+`
		}
	}
}`)
	spent := p.counter("ragproxy_llm_cost_usd_total", `model="gpt-4o-mini*"`)
	cacheRead := p.counter("ragproxy_llm_prompt_tokens_total", `cache="read"`, `model="gpt-4o-mini*"`)
	uncached := p.counter("ragproxy_llm_prompt_tokens_total", `cache="uncached"`, `model="gpt-4o-mini*"`)
	saved := p.counter("ragproxy_cache_saved_usd_total", `model="gpt-4o-mini*"`)
	const want = 0.15 + 0.075 + 0.60 // 1M plain input, 1M cached input, 1M output at gpt-4o-mini's prices
	body := modelBody("gpt-4o-mini", "What is RAG?")
	if resp, b := post(t, p.URL+"/v1/chat/completions", body, "X-Key", "a"); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if got := spent(); math.Abs(got-want) > 1e-9 {
		t.Errorf("cost recorded %v, want %v (once, cached input as cached)", got, want)
	}
	if r, u := cacheRead(), uncached(); r != 1e6 || u != 1e6 {
		t.Errorf("prompt tokens read from the provider's cache %v, uncached %v; want 1M each", r, u)
	}
	if resp, _ := post(t, p.URL+"/v1/chat/completions", body, "X-Key", "a"); resp.Header.Get("X-Cache") != "HIT" {
		t.Fatalf("second ask: X-Cache %q", resp.Header.Get("X-Cache"))
	}
	if got := spent(); math.Abs(got-want) > 1e-9 {
		t.Errorf("a cache hit cost something: %v", got-want)
	}
	if got := saved(); math.Abs(got-want) > 1e-9 {
		t.Errorf("saved %v, want %v", got, want)
	}
	var costs []float64
	eventually(t, "two access log lines", func() bool {
		b, _ := os.ReadFile(logPath)
		costs = costs[:0]
		for line := range strings.SplitSeq(strings.TrimSpace(string(b)), "\n") {
			var entry struct {
				Cost *float64 `json:"rag_cost_usd"`
			}
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Cost != nil {
				costs = append(costs, *entry.Cost)
			}
		}
		return len(costs) == 2
	})
	if math.Abs(costs[0]-want) > 1e-9 || costs[1] != 0 {
		t.Errorf("access log costs %v, want [%v 0]", costs, want)
	}
}

// TestCostPriceOverride: rag_cost's prices override and extend the
// shipped table; a fallback tier's set_json model prices its answer.
func TestCostPriceOverride(t *testing.T) {
	up := pricedUpstream(t)
	p := startCaddy(t, `http://{SITE} {
	handle /direct/* {
		rag_cost {
			price my-model 1 0.5 2
		}
		uri strip_prefix /direct
		reverse_proxy `+up+`
	}
	handle {
		rag_cost {
			price small-* 0.1 0.1 0.1
		}
		rag_fallback {
			tier po_primary {
				respond 500
			}
			tier po_small {
				set_json model small-v2
				reverse_proxy `+up+`
			}
		}
	}
}`)
	mine := p.counter("ragproxy_llm_cost_usd_total", `model="my-model"`)
	small := p.counter("ragproxy_llm_cost_usd_total", `model="small-*"`)
	// rag_cost alone meters: 1M input, 1M cached, 1M output at 1, 0.5, 2
	if resp, b := post(t, p.URL+"/direct/v1/chat/completions", modelBody("my-model", "q")); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if got := mine(); math.Abs(got-3.5) > 1e-9 {
		t.Errorf("my-model cost %v, want 3.5", got)
	}
	if resp, b := post(t, p.URL+"/v1/chat/completions", modelBody("my-model", "q")); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	// the request named my-model, but the tier that answered sent small-v2
	if got := small(); math.Abs(got-0.3) > 1e-9 || math.Abs(mine()-3.5) > 1e-9 {
		t.Errorf("small-* cost %v (want 0.3), my-model cost %v (want still 3.5)", got, mine())
	}
}
