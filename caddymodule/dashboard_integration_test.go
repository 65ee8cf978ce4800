package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ragproxy/ragproxy/internal/mockupstream"
)

type dashboardState struct {
	Caches []struct {
		Name    string             `json:"name"`
		Entries int                `json:"entries"`
		HitRate *float64           `json:"hit_rate"`
		Lookups map[string]float64 `json:"lookups"`
	} `json:"caches"`
	Breakers []struct {
		Name, State string
		Transitions []struct {
			Time     time.Time
			From, To string
		}
	} `json:"breakers"`
	Zones []struct {
		Name    string  `json:"name"`
		Limited float64 `json:"limited"`
	} `json:"zones"`
	Recent []struct {
		Path   string `json:"path"`
		Status int    `json:"status"`
	} `json:"recent"`
}

func (p *proxy) dashboard(prefix string) (dashboardState, string) {
	p.t.Helper()
	status, body := get(p.t, p.URL+prefix+"state.json")
	if status != http.StatusOK {
		p.t.Fatalf("GET state.json: %d %s", status, body)
	}
	var s dashboardState
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		p.t.Fatalf("state.json: %v: %s", err, body)
	}
	return s, body
}

// dashboardSite mounts rag_dashboard under /ragproxy/ in front of a
// cached route whose primary tier is upstream and backup tier backup.
func dashboardSite(upstream, backup string) string {
	return `http://{SITE} {
	handle_path /ragproxy/* {
		rag_dashboard
	}
	handle {
		rag_rate_limit {
			zone d_zone {
				key {http.request.header.X-User}
				rate 1/m
			}
		}
		rag_cache d_cache
		rag_fallback {
			tier d_primary {
				breaker {
					failures 2
					open 1m
				}
				reverse_proxy ` + upstream + `
			}
			tier d_backup {
				reverse_proxy ` + backup + `
			}
		}
	}
}
`
}

// TestDashboardPage: the page and its assets are served under the mount
// with relative URLs and a strict CSP; the data shows caches with their
// hit rate, zones, breakers and the last requests' decisions, escaped,
// without credentials; a breaker shows open soon after its upstream dies.
func TestDashboardPage(t *testing.T) {
	_, backup := startMock(t, mockupstream.Options{})
	primary, err := mockupstream.Start("127.0.0.1:0", mockupstream.New(mockupstream.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	defer primary.Close()
	p := startCaddy(t, dashboardSite(primary.Addr, backup))

	resp, err := http.Get(p.URL + "/ragproxy/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("page: %d %q CSP %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Security-Policy"))
	}
	_, page := get(t, p.URL+"/ragproxy/")
	for _, want := range []string{`src="app.js"`, `href="style.css"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks the relative URL %s", want)
		}
	}
	if status, js := get(t, p.URL+"/ragproxy/app.js"); status != http.StatusOK || !strings.Contains(js, `fetch("state.json"`) || strings.Contains(js, "innerHTML") {
		t.Errorf("app.js: %d; it must fetch the relative state.json and never use innerHTML", status)
	}
	if status, _ := get(t, p.URL+"/ragproxy/nothing-here"); status != http.StatusNotFound {
		t.Errorf("unknown path: %d, want 404", status)
	}
	if r, _ := post(t, p.URL+"/ragproxy/state.json", "{}"); r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", r.StatusCode)
	}

	hostile := "/v1/chat/completions/<script>alert(1)</script>"
	auth := []string{"Authorization", "Bearer sk-secret-dashboard"}
	for range 2 { // a miss, then a hit
		post(t, p.URL+"/v1/chat/completions", chatBody("dashboard question", false), auth...)
	}
	post(t, p.URL+strings.ReplaceAll(strings.ReplaceAll(hostile, "<", "%3C"), ">", "%3E"), chatBody("x", false), auth...)
	// The primary dies: two failures open its breaker (the backup answers).
	primary.Close()
	for i := range 2 {
		post(t, p.URL+"/v1/chat/completions", chatBody(fmt.Sprintf("after the outage %d", i), false), auth...)
	}
	post(t, p.URL+"/v1/chat/completions", chatBody("limited", false), "X-User", "u1")
	post(t, p.URL+"/v1/chat/completions", chatBody("limited", false), "X-User", "u1") // refused

	var s dashboardState
	eventually(t, "the breaker of the dead primary to show open", func() bool {
		s, _ = p.dashboard("/ragproxy/")
		for _, b := range s.Breakers {
			if b.Name == "d_primary" && b.State == "open" {
				return true
			}
		}
		return false
	})
	s, raw := p.dashboard("/ragproxy/")
	for _, b := range s.Breakers {
		if b.Name != "d_primary" {
			continue
		}
		if len(b.Transitions) != 1 || b.Transitions[0].From != "closed" || b.Transitions[0].To != "open" ||
			time.Since(b.Transitions[0].Time) > time.Minute || time.Since(b.Transitions[0].Time) < 0 {
			t.Errorf("d_primary transitions %+v, want one, closed to open, just now", b.Transitions)
		}
	}
	if strings.Contains(raw, "sk-secret-dashboard") {
		t.Error("state.json holds a credential")
	}
	if strings.Contains(raw, "<script>") {
		t.Error("state.json holds unescaped markup")
	}
	foundHostile := false
	for _, r := range s.Recent {
		foundHostile = foundHostile || r.Path == hostile
	}
	if !foundHostile || len(s.Recent) < 6 {
		t.Errorf("recent requests %+v: want 6 or more, one with path %q", s.Recent, hostile)
	}
	if len(s.Recent) > 0 && s.Recent[0].Status != http.StatusTooManyRequests {
		t.Errorf("newest request: %+v, want the 429", s.Recent[0])
	}
	var hitRate *float64
	for _, c := range s.Caches {
		if c.Name == "d_cache" {
			hitRate = c.HitRate
		}
	}
	if hitRate == nil || *hitRate <= 0 || *hitRate >= 1 {
		t.Errorf("d_cache hit rate %v, want between 0 and 1 (a miss and a hit)", hitRate)
	}
	limited := false
	for _, z := range s.Zones {
		limited = limited || z.Name == "d_zone" && z.Limited >= 1
	}
	if !limited {
		t.Errorf("zones %+v: want d_zone with a refusal", s.Zones)
	}
}

type recentCost struct {
	Path         string   `json:"path"`
	CacheStatus  string   `json:"cache_status"`
	InputTokens  *int64   `json:"input_tokens"`
	OutputTokens *int64   `json:"output_tokens"`
	CostUSD      *float64 `json:"cost_usd"`
	SavedUSD     float64  `json:"saved_usd"`
}

// TestDashboardRecentCost: the last requests show the tokens of the
// answer's usage and its cost, as the cost metering read them once: a
// miss costs its price, a hit nothing and shows what it saved, an
// unpriced model its tokens and no cost. rag_cost is the outermost
// handler (it meters), so the timing must see its reading.
func TestDashboardRecentCost(t *testing.T) {
	up := pricedUpstream(t)
	p := startCaddy(t, `http://{SITE} {
	handle_path /ragproxy/* {
		rag_dashboard
	}
	handle {
		rag_cost {
			price house-model 1 0 2
		}
		rag_cache dc_cache
		reverse_proxy `+up+`
	}
}
`)
	for _, path := range []string{"/v1/chat/completions", "/v1/chat/completions", "/v1/chat/completions?unpriced"} {
		model := "gpt-4o-mini"
		if strings.HasSuffix(path, "unpriced") {
			model = "unknown-model"
		}
		if r, body := post(t, p.URL+path, modelBody(model, "what does it cost?")); r.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %d %s", path, r.StatusCode, body)
		}
	}
	var recent []recentCost
	eventually(t, "three requests on the page", func() bool {
		status, body := get(t, p.URL+"/ragproxy/state.json")
		var s struct{ Recent []recentCost }
		if status != http.StatusOK || json.Unmarshal([]byte(body), &s) != nil {
			return false
		}
		recent = s.Recent
		return len(recent) >= 3
	})
	const price = 0.15 + 0.075 + 0.60 // 1M plain input, 1M cached, 1M output at gpt-4o-mini's prices
	near := func(x *float64, want float64) bool { return x != nil && math.Abs(*x-want) < 1e-9 }
	tokens := func(r recentCost) bool {
		return r.InputTokens != nil && *r.InputTokens == 2_000_000 && r.OutputTokens != nil && *r.OutputTokens == 1_000_000
	}
	unpriced, hit, miss := recent[0], recent[1], recent[2] // newest first
	if !tokens(miss) || miss.CacheStatus != "miss" || !near(miss.CostUSD, price) || miss.SavedUSD != 0 {
		t.Errorf("miss: %+v, want 2M/1M tokens costing %v", miss, price)
	}
	if !tokens(hit) || hit.CacheStatus != "hit" || !near(hit.CostUSD, 0) || math.Abs(hit.SavedUSD-price) > 1e-9 {
		t.Errorf("hit: %+v, want 2M/1M tokens costing 0, saving %v", hit, price)
	}
	if !tokens(unpriced) || unpriced.CostUSD != nil {
		t.Errorf("unpriced model: %+v, want its tokens and no cost", unpriced)
	}
}
