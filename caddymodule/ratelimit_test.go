package caddymodule

import (
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/ragproxy/ragproxy/ratelimit"
)

func TestRateLimitValidate(t *testing.T) {
	for _, c := range []struct {
		zones []*RateLimitZone
		want  string
	}{
		{nil, "no zones"},
		{[]*RateLimitZone{{Key: "k", Rate: "1/s"}}, "no name"},
		{[]*RateLimitZone{{Name: "a", Rate: "1/s"}}, "key is required"},
		{[]*RateLimitZone{{Name: "a", Key: "k"}}, "exactly one"},
		{[]*RateLimitZone{{Name: "a", Key: "k", Rate: "1/s", Tokens: "1/h"}}, "exactly one"},
		{[]*RateLimitZone{{Name: "a", Key: "k", Tokens: "1/h", Burst: 3}}, "burst goes with rate"},
		{[]*RateLimitZone{{Name: "a", Key: "k", Concurrent: -1}}, "negative"},
		{[]*RateLimitZone{{Name: "a", Key: "k", Concurrent: 1}, {Name: "a", Key: "k", Concurrent: 1}}, "twice"},
	} {
		h := RateLimitHandler{Zones: c.zones}
		if err := h.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error mentioning %q", c.zones, err, c.want)
		}
	}
	h := RateLimitHandler{StreamUsage: "sometimes", Zones: []*RateLimitZone{{Name: "a", Key: "k", Tokens: "1/h"}}}
	if err := h.Validate(); err == nil || !strings.Contains(err.Error(), "stream_usage") {
		t.Errorf("stream_usage sometimes: %v, want an error naming stream_usage", err)
	}
}

// FuzzRateLimitCaddyfile feeds arbitrary Caddyfile text to the parser:
// errors are fine, panics are not.
func FuzzRateLimitCaddyfile(f *testing.F) {
	for _, s := range []string{
		"rag_rate_limit {\n redis redis://x:1/0\n zone a {\n key {remote_host}\n rate 5/s\n burst 2\n }\n}",
		"rag_rate_limit {\n zone t {\n key k\n tokens 10/h\n max_keys 100\n }\n zone c {\n key k\n concurrent 1\n }\n}",
		"rag_rate_limit {\n zone\n}",
		"rag_rate_limit {\n stream_usage off\n zone a {\n key k\n tokens 5/m\n }\n}",
		"rag_rate_limit {\n max_body 2MiB\n reserve_output 4096\n zone a {\n key k\n tokens 5/m\n }\n}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tokens, err := caddyfile.Tokenize([]byte(src), "Caddyfile")
		if err != nil || len(tokens) == 0 {
			return
		}
		var h RateLimitHandler
		if h.UnmarshalCaddyfile(caddyfile.NewDispenser(tokens)) == nil {
			_ = h.Validate()
		}
	})
}

func TestRateLimitHeaderChoice(t *testing.T) {
	nearly := ratelimit.Decision{Limit: 100, Remaining: 5}
	roomy := ratelimit.Decision{Limit: 10, Remaining: 9}
	if !closerToLimit(nearly, roomy) || closerToLimit(roomy, nearly) {
		t.Fatal("the zone with 5% left must be shown over the one with 90% left")
	}
	for _, c := range []struct {
		d     time.Duration
		floor int64
		want  int64
	}{{0, 0, 0}, {0, 1, 1}, {time.Millisecond, 0, 1}, {time.Second, 0, 1}, {1001 * time.Millisecond, 1, 2}} {
		if got := ceilSeconds(c.d, c.floor); got != c.want {
			t.Errorf("ceilSeconds(%v, %d) = %d, want %d", c.d, c.floor, got, c.want)
		}
	}
}

func TestValidRequestID(t *testing.T) {
	for id, want := range map[string]bool{
		"abc-123": true, "f8945f3a-e449-40a2-8297-d715bfc40bd9": true, "": false,
		"has space": false, "tab\t": false, "nl\n": false, "é": false, strings.Repeat("x", 201): false, strings.Repeat("x", 200): true,
	} {
		if validRequestID(id) != want {
			t.Errorf("validRequestID(%q) = %v", id, !want)
		}
	}
}

func TestRateLimitCaddyfileBudgetOptions(t *testing.T) {
	tokens, err := caddyfile.Tokenize([]byte("rag_rate_limit {\n max_body 2MiB\n reserve_output 4096\n zone a {\n key k\n tokens 5/m\n }\n}"), "Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	var h RateLimitHandler
	if err := h.UnmarshalCaddyfile(caddyfile.NewDispenser(tokens)); err != nil {
		t.Fatal(err)
	}
	if h.MaxBody != 2<<20 || h.ReserveOutput != 4096 {
		t.Fatalf("max_body %d, reserve_output %d", h.MaxBody, h.ReserveOutput)
	}
	h.MaxBody = -1
	if err := h.Validate(); err == nil {
		t.Fatal("negative max_body accepted")
	}
}

// TestRateLimitCaddyfileCostBudget: budget <usd>/<period> parses, with or
// without a dollar sign, and bad amounts, periods and mixes are refused.
func TestRateLimitCaddyfileCostBudget(t *testing.T) {
	parse := func(src string) (*RateLimitHandler, error) {
		tokens, err := caddyfile.Tokenize([]byte(src), "Caddyfile")
		if err != nil {
			t.Fatal(err)
		}
		h := new(RateLimitHandler)
		if err := h.UnmarshalCaddyfile(caddyfile.NewDispenser(tokens)); err != nil {
			return nil, err
		}
		return h, h.Validate()
	}
	h, err := parse("rag_rate_limit {\n zone a {\n key k\n budget 0.50/d\n }\n zone b {\n key k\n budget $20/30m\n }\n}")
	if err != nil {
		t.Fatal(err)
	}
	if h.Zones[0].Budget != "0.50/d" || h.Zones[1].Budget != "$20/30m" {
		t.Fatalf("budgets %q %q", h.Zones[0].Budget, h.Zones[1].Budget)
	}
	for src, want := range map[string]string{
		"rag_rate_limit {\n zone a {\n key k\n budget 0/h\n }\n}":              "positive",
		"rag_rate_limit {\n zone a {\n key k\n budget -3/h\n }\n}":             "positive",
		"rag_rate_limit {\n zone a {\n key k\n budget five/h\n }\n}":           "positive",
		"rag_rate_limit {\n zone a {\n key k\n budget NaN/h\n }\n}":            "positive",
		"rag_rate_limit {\n zone a {\n key k\n budget 5/fortnight\n }\n}":      "period",
		"rag_rate_limit {\n zone a {\n key k\n budget 5\n }\n}":                "usd/period",
		"rag_rate_limit {\n zone a {\n key k\n budget\n }\n}":                  "argument",
		"rag_rate_limit {\n zone a {\n key k\n budget 5/h\n tokens 9/h\n }\n}": "exactly one",
	} {
		if _, err := parse(src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error mentioning %q", src, err, want)
		}
	}
	// JSON config is checked alike.
	bad := RateLimitHandler{Zones: []*RateLimitZone{{Name: "a", Key: "k", Budget: "1e13/h"}}}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "budget") {
		t.Errorf("budget 1e13/h: %v, want an error", err)
	}
}
