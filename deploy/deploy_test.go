// Package deploy holds what operators load next to ragproxy: Prometheus
// alert rules (prometheus/) and a Grafana dashboard (grafana/). Its tests
// check them with promtool; caddymodule's TestPrometheusQueries evaluates
// every expression against a real Prometheus scraping a real ragproxy.
package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ragproxy/ragproxy/internal/promtest"
)

// TestAlertRules: promtool check rules and promtool test rules (the unit
// tests in prometheus/alerts_test.yml) pass.
func TestAlertRules(t *testing.T) {
	promtool := promtest.Tool(t, "promtool")
	for _, args := range [][]string{
		{"check", "rules", "prometheus/alerts.yml"},
		{"test", "rules", "prometheus/alerts_test.yml"},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}

// TestDashboardImportable: the Grafana dashboard is importable as it is:
// valid JSON, no fixed data source (every panel and query uses the
// datasource variable), unique panel ids, panels within the 24-column
// grid, and a query in every panel but the rows.
func TestDashboardImportable(t *testing.T) {
	b, err := os.ReadFile("grafana/ragproxy.json")
	if err != nil {
		t.Fatal(err)
	}
	type ds struct{ Type, UID string }
	var d struct {
		UID        string `json:"uid"`
		Templating struct {
			List []struct{ Name, Type, Query string } `json:"list"`
		} `json:"templating"`
		Panels []struct {
			ID         int                      `json:"id"`
			Type       string                   `json:"type"`
			Title      string                   `json:"title"`
			Datasource *ds                      `json:"datasource"`
			GridPos    struct{ X, Y, W, H int } `json:"gridPos"`
			Targets    []struct {
				Expr       string `json:"expr"`
				Datasource *ds    `json:"datasource"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("not valid JSON: %v", err)
	}
	if d.UID == "" {
		t.Error("no uid: every import would make a new dashboard")
	}
	hasVar := false
	for _, v := range d.Templating.List {
		hasVar = hasVar || v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus"
	}
	if !hasVar {
		t.Error("no datasource variable of type prometheus")
	}
	if strings.Contains(string(b), "__inputs") {
		t.Error("__inputs: Grafana would ask for a data source at import; use the variable")
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel %q: id %d used twice", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.X+p.GridPos.W > 24 || p.GridPos.W <= 0 || p.GridPos.H <= 0 {
			t.Errorf("panel %q: gridPos %+v outside the 24-column grid", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: data source %+v, want the ${datasource} variable", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			if tg.Expr == "" || tg.Datasource == nil || tg.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q: a query without an expression or on a fixed data source", p.Title)
			}
		}
	}
}
