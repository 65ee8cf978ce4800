package caddymodule_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// TestFeedbackScoreRangeConfig checks score_range reads the same from the
// Caddyfile (`score_range <min> <max>`) and from JSON (`"score_range":
// [min, max]`), is left out by default, and refuses ranges that are not
// two finite numbers, min < max, within ±1e15.
func TestFeedbackScoreRangeConfig(t *testing.T) {
	adapt := func(body string) (string, error) {
		cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(":8080 {\n"+body+"\n}\n"), nil)
		return string(cfg), err
	}
	for body, want := range map[string]string{
		"rag_feedback e":                                                 `{"experiment":"e","handler":"rag_feedback"}`,
		"rag_feedback e {\n score_range 1 5\n}":                          `{"experiment":"e","handler":"rag_feedback","score_range":[1,5]}`,
		"rag_feedback e {\n score_range -1e15 0\n}":                      `{"experiment":"e","handler":"rag_feedback","score_range":[-1000000000000000,0]}`,
		"rag_split e {\n variant a 1\n override_header X-RAG-Variant\n}": `"override_header":"X-RAG-Variant"`,
	} {
		cfg, err := adapt(body)
		if err != nil || !strings.Contains(cfg, want) {
			t.Errorf("%q: %v\n%s\nwant it to contain %s", body, err, cfg, want)
		}
	}
	for body, want := range map[string]string{
		"rag_feedback e {\n score_range 1\n}":        "wrong argument count",
		"rag_feedback e {\n score_range 1 5 9\n}":    "wrong argument count",
		"rag_feedback e {\n score_range low high\n}": "two numbers",
		"rag_feedback e {\n score_range 5 1\n}":      "min < max",
		"rag_feedback e {\n score_range 1 1\n}":      "min < max",
		"rag_feedback e {\n score_range NaN 1\n}":    "min < max",
		"rag_feedback e {\n score_range -Inf 1\n}":   "within",
		"rag_feedback e {\n score_range 0 1e16\n}":   "within",
		"rag_feedback e {\n colour red\n}":           "unrecognized rag_feedback option",
	} {
		if _, err := adapt(body); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one mentioning %q", body, err, want)
		}
	}
	// The same checks hold for JSON config, at provisioning.
	for _, r := range []string{`[5, 1]`, `[1]`, `[0, 1e16]`} {
		cfg, _ := json.Marshal(map[string]any{
			"admin": map[string]any{"disabled": true},
			"apps": map[string]any{"http": map[string]any{"servers": map[string]any{"s": map[string]any{
				"listen": []string{"127.0.0.1:0"},
				"routes": []any{map[string]any{"handle": []any{
					map[string]any{"handler": "rag_feedback", "experiment": "e", "score_range": json.RawMessage(r)},
				}}},
			}}}},
		})
		var c caddy.Config
		if err := json.Unmarshal(cfg, &c); err != nil {
			t.Fatal(err)
		}
		if err := caddy.Validate(&c); err == nil || !strings.Contains(err.Error(), "score_range") {
			t.Errorf("JSON score_range %s: %v, want a score_range error", r, err)
		}
	}
}
