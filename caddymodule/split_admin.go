package caddymodule

import (
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
		return errMethodNotAllowed
	}
	name, one := strings.CutPrefix(r.URL.Path, "/rag/experiments/")
	reports := []split.Report{}
	eachExperiment(func(e *split.Experiment) {
		if !one || e.Name() == name {
			reports = append(reports, e.Report())
		}
	})
	sort.Slice(reports, func(i, j int) bool { return reports[i].Name < reports[j].Name })
	if !one {
		return writeAdminJSON(w, reports)
	}
	if len(reports) == 0 {
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("no experiment named %q", name)}
	}
	return writeAdminJSON(w, reports[0])
}
