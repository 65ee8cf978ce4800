package caddymodule

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/ragproxy/ragproxy/split"
)

// The experiments' admin endpoint (routed in admin.go).

// handleExperiments reports every experiment, or the one named in the path.
func (adminAPI) handleExperiments(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method not allowed")}
	}
	name, one := strings.CutPrefix(r.URL.Path, "/rag/experiments/")
	reports := []split.Report{}
	eachExperiment(func(e *split.Experiment) {
		if !one || e.Name() == name {
			reports = append(reports, e.Report())
		}
	})
	sort.Slice(reports, func(i, j int) bool { return reports[i].Name < reports[j].Name })
	w.Header().Set("Content-Type", "application/json")
	if !one {
		return json.NewEncoder(w).Encode(reports)
	}
	if len(reports) == 0 {
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("no experiment named %q", name)}
	}
	return json.NewEncoder(w).Encode(reports[0])
}
