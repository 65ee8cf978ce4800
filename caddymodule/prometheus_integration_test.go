package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ragproxy/ragproxy/internal/mockupstream"
	"github.com/ragproxy/ragproxy/internal/promtest"
	"github.com/ragproxy/ragproxy/internal/redistest"
)

// TestPrometheusQueries runs a real Prometheus scraping this ragproxy
// (Caddy's admin /metrics) under a short mixed load: misses, exact and
// semantic hits, a bypass, a breaker opening, every tier failing,
// rate-limit refusals, tokens through a Redis zone, two variants. Then it
// evaluates every PromQL expression of the Grafana dashboard and of the
// alert rules through Prometheus's HTTP API: each must be valid and
// return series with values; the alerts the load provokes must hold.
func TestPrometheusQueries(t *testing.T) {
	dashboard := dashboardExprs(t)
	alerts := alertExprs(t)
	redis := redistest.Start(t)
	_, primary := startMock(t, mockupstream.Options{})
	_, backup := startMock(t, mockupstream.Options{})
	dead := freeAddr(t)
	p := startCaddy(t, `http://{SITE} {
	handle /v1/chat/completions {
		rag_rate_limit {
			redis `+redis.URL+`
			zone prom_users {
				key {http.request.header.X-User}
				rate 4/m
			}
			zone prom_tokens {
				key {http.request.header.Authorization}
				tokens 1000000/h
			}
		}
		rag_split prom_exp {
			variant prom_a 1
			variant prom_b 1
		}
		rag_cache prom_cache {
			semantic
		}
		rag_fallback {
			tier prom_primary {
				breaker {
					failures 3
					open 5m
				}
				reverse_proxy `+primary+`
			}
			tier prom_backup {
				header_up X-Mock-Status 0
				reverse_proxy `+backup+`
			}
		}
	}
	handle /v1/completions {
		rag_fallback {
			tier prom_dead {
				reverse_proxy `+dead+`
			}
		}
	}
}
`)
	prom := promtest.Start(t, strings.TrimPrefix(p.Admin, "http://"), "/metrics",
		filepath.Join("..", "deploy", "prometheus", "alerts.yml"))

	// scrapes is how many times Prometheus has scraped ragproxy.
	scrapes := func() float64 {
		s, err := prom.Query(`count_over_time(up{job="ragproxy"}[10m])`)
		if err != nil || len(s) == 0 {
			return 0
		}
		return s[0].Float()
	}
	waitScrapes := func(n float64) {
		after := scrapes() + n
		eventually(t, "Prometheus to scrape ragproxy", func() bool { return scrapes() >= after })
	}

	// The load: a few seconds, spread over several scrapes.
	chat := p.URL + "/v1/chat/completions"
	auth := func(extra ...string) []string { return append([]string{"Authorization", "Bearer prom-key"}, extra...) }
	for round := range 3 {
		for i := range 4 {
			q := fmt.Sprintf("What is the capital of country number %d?", i)
			post(t, chat, modelBody("gpt-4o-mini", q), auth()...) // a miss, then hits; priced: cost, then savings
		}
		post(t, chat, chatBody(question, false), auth()...)
		post(t, chat, chatBody(paraphrase, false), auth()...)                                             // by meaning
		post(t, chat, `{"model":"m","model":"n","messages":[]}`, auth()...)                               // ambiguous: bypassed
		post(t, chat, chatBody(fmt.Sprintf("failing %d", round), false), auth("X-Mock-Status", "500")...) // the primary fails
		for range 3 {
			post(t, chat, chatBody("from a greedy user", false), auth("X-User", "greedy")...) // 4/m: refusals
		}
		if resp, _ := post(t, p.URL+"/v1/completions", `{"model":"m","prompt":"hi"}`); resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("every tier failing: status %d, want 503", resp.StatusCode)
		}
		waitScrapes(1)
	}
	if p.breakerState("prom_primary") != "open" {
		t.Fatalf("breaker prom_primary is %q after its upstream failed, want open", p.breakerState("prom_primary"))
	}

	// Wait until Prometheus has scraped the final state twice, so every
	// series has the two samples a rate needs.
	waitScrapes(2)

	check := func(where, expr string, wantValue bool) {
		t.Helper()
		samples, err := prom.Query(expr)
		if err != nil {
			t.Errorf("%s: invalid: %v\n%s", where, err, expr)
			return
		}
		if len(samples) == 0 {
			t.Errorf("%s: no series\n%s", where, expr)
			return
		}
		if !wantValue {
			return
		}
		for _, s := range samples {
			if !math.IsNaN(s.Float()) {
				return
			}
		}
		t.Errorf("%s: only NaN\n%s", where, expr)
	}
	for _, e := range dashboard {
		check("dashboard panel "+strconv.Quote(e.where), e.expr, true)
	}

	// Alert rules: every expression is valid and what it compares is
	// there; the alerts the load provoked hold now.
	provoked := map[string]bool{"RagproxyBreakerOpen": true, "RagproxyAllTiersFailing": true, "RagproxyErrorRateHigh": true}
	cacheRedisMetric := p.metricValue("ragproxy_cache_redis_up") != -1
	for _, a := range alerts {
		if _, err := prom.Query(a.expr); err != nil {
			t.Errorf("alert %s: invalid: %v", a.name, err)
			continue
		}
		if a.name == "RagproxyCacheRedisDown" && !cacheRedisMetric {
			continue // ragproxy_cache_redis_up comes with rag_cache's Redis store
		}
		check("alert "+a.name+" (its measure)", comparison.ReplaceAllString(a.expr, ""), false)
		if provoked[a.name] {
			check("alert "+a.name, a.expr, false)
		}
	}
	eventually(t, "Prometheus's rules to hold RagproxyBreakerOpen", func() bool {
		held, err := prom.Alerts()
		return err == nil && held["RagproxyBreakerOpen"] != ""
	})
}

// comparison is an alert expression's final threshold (`… > 0.001`).
var comparison = regexp.MustCompile(`\s*(==|!=|>=|<=|>|<)\s*[0-9.e+-]+\s*$`)

type namedExpr struct{ where, expr string }

// dashboardExprs returns every query of the Grafana dashboard, with
// Grafana's interval variables set for a short test.
func dashboardExprs(t *testing.T) []namedExpr {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "deploy", "grafana", "ragproxy.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	vars := strings.NewReplacer("$__rate_interval", "1m", "$__interval", "1s", "$__range", "10m")
	var out []namedExpr
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			out = append(out, namedExpr{p.Title, vars.Replace(tg.Expr)})
		}
	}
	if len(out) < 20 {
		t.Fatalf("dashboard has %d queries; did its format change?", len(out))
	}
	return out
}

type alertExpr struct{ name, expr string }

// alertExprs returns the alert rules' expressions.
func alertExprs(t *testing.T) []alertExpr {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "deploy", "prometheus", "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	var out []alertExpr
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			out = append(out, alertExpr{r.Alert, strings.TrimSpace(r.Expr)})
		}
	}
	if len(out) < 7 {
		t.Fatalf("alerts.yml has %d rules, want 7", len(out))
	}
	return out
}
