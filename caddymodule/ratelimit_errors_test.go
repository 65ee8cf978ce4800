package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/ragproxy/ragproxy/internal/mockupstream"
)

// TestRateLimitRefuseWithError: with refuse_with_error a refusal goes
// through handle_errors, which sees the zone, the wait and the status in
// placeholders; the headers are set as before. Without it the handler
// answers with its own JSON error and handle_errors is never reached.
func TestRateLimitRefuseWithError(t *testing.T) {
	_, mock := startMock(t, mockupstream.Options{})
	p := startCaddy(t, `
http://{SITE} {
	handle /shaped/* {
		rag_rate_limit {
			refuse_with_error
			zone shaped {
				key {http.request.header.X-Key}
				rate 1/h
			}
		}
		rewrite * /v1/chat/completions
		reverse_proxy `+mock+`
	}
	handle {
		rag_rate_limit {
			zone plain {
				key {http.request.header.X-Key}
				rate 1/h
			}
		}
		reverse_proxy `+mock+`
	}
	handle_errors {
		respond "slow down {rag.rate_limit.zone} {rag.rate_limit.retry_after} {http.error.status_code}" {http.error.status_code}
	}
}`)
	if resp, body := post(t, p.URL+"/shaped/x", chatBody("hi", false), "X-Key", "alice"); resp.StatusCode != http.StatusOK {
		t.Fatalf("first shaped request: %d %s", resp.StatusCode, body)
	}
	resp, body := post(t, p.URL+"/shaped/x", chatBody("hi", false), "X-Key", "alice")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("second shaped request: %d %s, want 429", resp.StatusCode, body)
	}
	retry, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	if retry < 3590 || retry > 3600 || resp.Header.Get("RateLimit-Limit") != "1" || resp.Header.Get("RateLimit-Remaining") != "0" {
		t.Fatalf("shaped 429 headers: %v", resp.Header)
	}
	if want := fmt.Sprintf("slow down shaped %d 429", retry); body != want {
		t.Fatalf("shaped 429 body %q, want %q", body, want)
	}

	if resp, body := post(t, p.URL+"/v1/chat/completions", chatBody("hi", false), "X-Key", "alice"); resp.StatusCode != http.StatusOK {
		t.Fatalf("first plain request: %d %s", resp.StatusCode, body)
	}
	resp, body = post(t, p.URL+"/v1/chat/completions", chatBody("hi", false), "X-Key", "alice")
	var answer struct {
		Error struct{ Type, Code, Message string }
	}
	if resp.StatusCode != http.StatusTooManyRequests || json.Unmarshal([]byte(body), &answer) != nil ||
		answer.Error.Code != "rate_limit_exceeded" || !strings.Contains(answer.Error.Message, `"plain"`) {
		t.Fatalf("plain 429: %d %s, want the OpenAI-shaped JSON error", resp.StatusCode, body)
	}
	if resp.Header.Get("Retry-After") == "" || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("plain 429 headers: %v", resp.Header)
	}
}

// TestBadJSONConfigRefusedAtLoad: the checks hold for JSON configs too,
// not only for the Caddyfile parser.
func TestBadJSONConfigRefusedAtLoad(t *testing.T) {
	for _, c := range []struct {
		name, handler, want string
	}{
		{"max_keys below a shard each", `{"handler": "rag_rate_limit", "zones": [{"name": "z", "key": "{remote_host}", "rate": "5/s", "max_keys": 10}]}`, "max_keys"},
		{"rate unparsable", `{"handler": "rag_rate_limit", "zones": [{"name": "z", "key": "{remote_host}", "rate": "fast"}]}`, "rate"},
		{"no zones", `{"handler": "rag_rate_limit"}`, "no zones"},
		{"split weight too large", `{"handler": "rag_split", "experiment": "e", "variants": [{"name": "a", "weight": 2e9}]}`, "weight"},
		{"split without experiment", `{"handler": "rag_split", "variants": [{"name": "a", "weight": 1}]}`, "experiment name is required"},
		{"split without variants", `{"handler": "rag_split", "experiment": "e"}`, "variant"},
		{"feedback without experiment", `{"handler": "rag_feedback"}`, "experiment name is required"},
		{"feedback range upside down", `{"handler": "rag_feedback", "experiment": "e", "score_range": [5, 1]}`, "score_range"},
		{"feedback range of one", `{"handler": "rag_feedback", "experiment": "e", "score_range": [5]}`, "score_range"},
		{"fallback max_body negative", `{"handler": "rag_fallback", "max_body": -1, "tiers": [{"name": "a", "routes": [{"handle": [{"handler": "static_response"}]}]}]}`, "max_body"},
		{"fallback breaker negative", `{"handler": "rag_fallback", "tiers": [{"name": "a", "breaker": {"failures": -1}, "routes": [{"handle": [{"handler": "static_response"}]}]}]}`, "breaker settings"},
		{"semantic max_entries negative", `{"handler": "rag_cache", "name": "bad_sem", "semantic": {"max_entries": -5}}`, "max_entries"},
		{"semantic threshold above 1", `{"handler": "rag_cache", "name": "bad_sem", "semantic": {"threshold": 2}}`, "threshold"},
		{"semantic model_path without model2vec", `{"handler": "rag_cache", "name": "bad_sem", "semantic": {"model_path": "/nowhere"}}`, "model_path"},
		{"semantic batch_window not below timeout", `{"handler": "rag_cache", "name": "bad_sem", "semantic": {"embedder": "openai", "url": "http://127.0.0.1:9/v1/embeddings", "batch_window": "1s", "timeout": "1s"}}`, "batch_window"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := fmt.Sprintf(`{
				"admin": {"listen": %q},
				"logging": {"logs": {"default": {"writer": {"output": "discard"}}}},
				"apps": {"http": {"servers": {"s": {
					"listen": [%q],
					"automatic_https": {"disable": true},
					"routes": [{"handle": [%s]}]
				}}}}
			}`, freeAddr(t), freeAddr(t), c.handler)
			err := caddy.Load([]byte(cfg), true)
			if err == nil {
				_ = caddy.Stop()
				t.Fatalf("config loaded; want it refused for %s", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one mentioning %q", err, c.want)
			}
		})
	}
}
