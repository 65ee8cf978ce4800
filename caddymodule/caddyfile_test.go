package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"

	"github.com/ragproxy/ragproxy/internal/mockupstream"
)

// TestAdaptCaddyfileExample adapts the shipped example and checks the JSON
// a user gets: every option in place, and the rag_* handlers ordered
// before reverse_proxy with no `order` option.
func TestAdaptCaddyfileExample(t *testing.T) {
	src, err := os.ReadFile("../Caddyfile.example")
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt(src, nil)
	if err != nil {
		t.Fatalf("adapt: %v", err)
	}
	var got []map[string]any
	var lists [][]string
	collectHandlers(t, out, &got, &lists)
	want := []string{
		`{"handler":"rag_dashboard"}`,
		`{"experiment":"chunking","handler":"rag_feedback"}`,
		`{"experiment":"chunking","handler":"rag_split","sticky":"{http.request.header.X-User-ID}","variants":[{"name":"current","weight":80},{"name":"new_chunking","weight":20}]}`,
		`{"handler":"rag_cache","max_size":134217728,"name":"search","scope":"shared","ttl":600000000000}`,
		`{"handler":"rag_fallback","tiers":[{"fail_on_empty":"documents","name":"vector","retries":1,"routes":[{"handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"127.0.0.1:9003"}]}],"match":[{"vars":{"{rag.variant}":["new_chunking"]}}]},{"handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"127.0.0.1:9001"}]}]}],"timeout":2000000000},{"name":"bm25","routes":[{"handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"127.0.0.1:9200"}]}]}],"uri":"/search/bm25"},{"name":"apology","routes":[{"handle":[{"handler":"headers","response":{"set":{"Content-Type":["application/json"]}}},{"body":"{\"answer\":\"Search is busy, please retry in a minute.\",\"documents\":[]}","handler":"static_response","status_code":200}]}]}]}`,
		`{"handler":"rag_cost","prices":{"small-model":{"input":0.1,"cached_input":0.05,"output":0.4}}}`,
		`{"clamp_max_tokens":true,"deny":["(?i)ignore (all )?previous instructions"],"handler":"rag_validate","max_messages":100,"max_prompt_tokens":100000,"max_question_length":8000,"max_tokens":4096}`,
		`{"handler":"rag_rate_limit","zones":[{"burst":20,"key":"{http.request.header.Authorization}","name":"per_key","rate":"60/m"},{"key":"{http.request.header.X-Team}","name":"team_tokens","tokens":"100000/h"},{"budget":"5/h","key":"{http.request.header.X-Team}","name":"team_usd"},{"concurrent":8,"key":"{http.request.remote.host}","name":"inflight"}]}`,
		`{"handler":"rag_cache","ignore_fields":["user","metadata.trace_id"],"max_body":1048576,"max_entry_size":1048576,"max_size":536870912,"name":"llm","semantic":{},"stale_if_error":86400000000000,"ttl":3600000000000}`,
		`{"handler":"rag_prompt_cache"}`,
		`{"handler":"rag_fallback","tiers":[{"breaker":{"failures":5,"open":15000000000,"window":10000000000},"fail_on_finish":["length"],"fail_on_invalid_json":true,"fail_on_refusal":true,"first_byte_timeout":10000000000,"name":"primary","routes":[{"handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"127.0.0.1:9000"}]}]}]},{"name":"small_model","routes":[{"handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"127.0.0.1:9002"}]}]}],"set_json":{"model":"small-model"}}]}`,
	}
	if len(got) != len(want) {
		t.Fatalf("found %d rag_* handlers, want %d:\n%s", len(got), len(want), out)
	}
	for i := range want {
		var w map[string]any
		if err := json.Unmarshal([]byte(want[i]), &w); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got[i], w) {
			g, _ := json.Marshal(got[i])
			t.Errorf("handler %d:\n got %s\nwant %s", i, g, want[i])
		}
	}
	for _, l := range lists {
		switch strings.Join(l, ",") {
		case "rag_dashboard", "rag_feedback", "rag_split,rag_cache,rag_fallback", "rag_cost,rag_validate,rag_rate_limit,rag_cache,rag_prompt_cache,rag_fallback":
		default:
			t.Errorf("handler order %v, want rag_cost, rag_validate, rag_rate_limit or rag_split, then rag_cache, rag_prompt_cache, rag_fallback", l)
		}
	}
}

// collectHandlers walks adapted JSON for the top-level rag_* handlers and
// the handler lists that hold them (tier routes are not descended into).
func collectHandlers(t *testing.T, cfg []byte, found *[]map[string]any, lists *[][]string) {
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if hs, ok := v["handle"].([]any); ok {
				var names []string
				for _, h := range hs {
					if m, ok := h.(map[string]any); ok {
						name := fmt.Sprint(m["handler"])
						names = append(names, name)
						if strings.HasPrefix(name, "rag_") {
							*found = append(*found, m)
						}
					}
				}
				if strings.Contains(strings.Join(names, ","), "rag_") {
					*lists = append(*lists, names)
				}
			}
			if v["handler"] == "rag_fallback" {
				return
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	var root any
	if err := json.Unmarshal(cfg, &root); err != nil {
		t.Fatal(err)
	}
	walk(root)
}

func TestCaddyfileErrors(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{"rag_cache {\n ttl soon\n}", "ttl"},
		{"rag_cache {\n ttl -1s\n}", "ttl"},
		{"rag_cache {\n max_size lots\n}", "max_size"},
		{"rag_cache {\n colour blue\n}", "unrecognized rag_cache option"},
		{"rag_cache a b", "wrong argument count"},
		{"rag_cache {\n coalesce maybe\n}", "coalesce"},
		{"rag_cache {\n ignore_fields\n}", "wrong argument count"},
		{"rag_cache {\n stale_if_error never\n}", "stale_if_error"},
		{"rag_fallback", "at least one tier"},
		{"rag_cache {\n semantic {\n threshold 2\n }\n}", "threshold"},
		{"rag_cache {\n semantic {\n embedder magic\n }\n}", "embedder"},
		{"rag_cache {\n semantic {\n embedder openai\n }\n}", "needs a url"},
		{"rag_cache {\n semantic {\n colour red\n }\n}", "unrecognized semantic option"},
		{"rag_fallback {\n tier a {\n timeout 1s\n }\n}", "no handler"},
		{"rag_fallback {\n tier a {\n retries -1\n respond ok\n }\n}", "retries"},
		{"rag_fallback {\n tier a {\n fail_status 7xx\n respond ok\n }\n}", "status code or class"},
		{"rag_fallback {\n tier a {\n breaker {\n failures 0\n }\n respond ok\n }\n}", "failures"},
		{"rag_fallback {\n tier a {\n breaker {\n colour red\n }\n respond ok\n }\n}", "unrecognized breaker option"},
		{"rag_fallback {\n tier a {\n respond ok\n }\n tier a {\n respond ok\n }\n}", "used twice"},
		{"rag_fallback {\n tier {\n respond ok\n }\n}", "wrong argument count"},
		{"rag_fallback {\n colour red\n}", "unrecognized rag_fallback option"},
		{"rag_rate_limit {\n colour red\n}", "unrecognized rag_rate_limit option"},
		{"rag_split", "wrong argument count"},
		{"rag_split e", "at least one variant"},
		{"rag_split e {\n variant a\n}", "wrong argument count"},
		{"rag_split e {\n variant a -1\n}", "positive"},
		{"rag_split e {\n variant a NaN\n}", "positive"},
		{"rag_split e {\n colour red\n}", "unrecognized rag_split option"},
		{"rag_split e {\n variant a 1\n feedback_requests 0\n}", "feedback_requests"},
		{"rag_feedback", "wrong argument count"},
		{"rag_feedback e {\n x\n}", "no options"},
		{"rag_rate_limit extra", "wrong argument count"},
		{"rag_rate_limit {\n zone {\n key x\n }\n}", "wrong argument count"},
		{"rag_rate_limit {\n zone z {\n rate fast\n }\n}", "rate"},
		{"rag_rate_limit {\n zone z {\n tokens 0/h\n }\n}", "positive"},
		{"rag_rate_limit {\n zone z {\n burst 0\n }\n}", "burst"},
		{"rag_rate_limit {\n zone z {\n concurrent many\n }\n}", "concurrent"},
		{"rag_rate_limit {\n zone z {\n colour red\n }\n}", "unrecognized zone option"},
		{"rag_rate_limit {\n redis_timeout never\n}", "redis_timeout"},
		{"rag_rate_limit {\n stream_usage sometimes\n}", "stream_usage must be ask or off"},
		{"rag_rate_limit {\n reserve_output 99999999999999999999\n}", "reserve_output"},
		{"rag_rate_limit {\n refuse_with_error yes\n}", "wrong argument count"},
		{"rag_cache {\n semantic {\n max_entries 0\n }\n}", "max_entries"},
		{"rag_cache {\n semantic {\n embedder openai\n url http://127.0.0.1:9/v1/embeddings\n batch_window 1s\n }\n}", "batch_window"},
		{"rag_cache {\n semantic {\n embedder model2vec\n }\n}", "path"},
		{"rag_prompt_cache {\n min_tokens 0\n}", "min_tokens"},
		{"rag_validate {\n models\n}", "wrong argument count"},
		{"rag_fallback {\n tier a {\n fail_on_refusal yes\n respond ok\n }\n}", "wrong argument count"},
		{"rag_fallback {\n tier a {\n respond ok\n }\n}\nrag_fallback {\n tier b {\n reverse_proxy\n colour red\n }\n}", "colour"},
	} {
		_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(":8080 {\n"+c.body+"\n}\n"), nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one mentioning %q", c.body, err, c.want)
		}
	}
}

// TestCacheFromJSONConfig runs the handler from native JSON config.
func TestCacheFromJSONConfig(t *testing.T) {
	mock, upstream := startMock(t, mockupstream.Options{})
	site, admin := freeAddr(t), freeAddr(t)
	cfg := fmt.Sprintf(`{
		"admin": {"listen": %q},
		"logging": {"logs": {"default": {"writer": {"output": "discard"}}}},
		"apps": {"http": {"servers": {"s": {
			"listen": [%q],
			"automatic_https": {"disable": true},
			"routes": [{"handle": [
				{"handler": "rag_cache", "name": "json_cfg", "ttl": "1m", "max_size": 4194304},
				{"handler": "reverse_proxy", "upstreams": [{"dial": %q}]}
			]}]
		}}}}
	}`, admin, site, upstream)
	if err := caddy.Load([]byte(cfg), true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { caddy.Stop() })
	waitDial(t, site)
	post(t, "http://"+site+"/v1/chat/completions", chatBody("json", false))
	r, _ := post(t, "http://"+site+"/v1/chat/completions", chatBody("json", false))
	if r.Header.Get("X-Cache") != "HIT" || mock.Calls() != 1 {
		t.Errorf("X-Cache %q, upstream calls %d; want HIT, 1", r.Header.Get("X-Cache"), mock.Calls())
	}
}
