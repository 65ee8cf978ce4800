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
// a user gets: every option in place, rag_cache ordered before reverse_proxy
// with no `order` option.
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
		`{"handler":"rag_cache","max_size":134217728,"name":"search","scope":"shared","ttl":600000000000}`,
		`{"handler":"rag_cache","ignore_fields":["user","metadata.trace_id"],"max_body":1048576,"max_entry_size":1048576,"max_size":536870912,"name":"llm","ttl":3600000000000}`,
	}
	if len(got) != len(want) {
		t.Fatalf("found %d rag_cache handlers, want %d:\n%s", len(got), len(want), out)
	}
	for i := range want {
		var w map[string]any
		json.Unmarshal([]byte(want[i]), &w)
		if !reflect.DeepEqual(got[i], w) {
			g, _ := json.Marshal(got[i])
			t.Errorf("handler %d:\n got %s\nwant %s", i, g, want[i])
		}
	}
	for _, l := range lists {
		if strings.Join(l, ",") != "rag_cache,reverse_proxy" {
			t.Errorf("handler order %v, want rag_cache before reverse_proxy", l)
		}
	}
}

// collectHandlers walks adapted JSON for rag_cache handlers and the
// handler lists that hold them.
func collectHandlers(t *testing.T, cfg []byte, found *[]map[string]any, lists *[][]string) {
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if hs, ok := v["handle"].([]any); ok {
				var names []string
				for _, h := range hs {
					if m, ok := h.(map[string]any); ok {
						names = append(names, fmt.Sprint(m["handler"]))
						if m["handler"] == "rag_cache" {
							*found = append(*found, m)
						}
					}
				}
				if strings.Contains(strings.Join(names, ","), "rag_cache") {
					*lists = append(*lists, names)
				}
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
