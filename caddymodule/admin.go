package caddymodule

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/ragproxy/ragproxy/breaker"
	"github.com/ragproxy/ragproxy/split"
)

func init() {
	caddy.RegisterModule(adminAPI{})
}

// adminAPI serves ragproxy's endpoints on Caddy's admin API:
//
//	GET    /rag/caches                          stats of every cache
//	DELETE /rag/caches/{name}                   purge one cache
//	GET    /rag/breakers                        state of every circuit breaker
//	POST   /rag/breakers/{name}/open|close|reset  force a breaker's state
//	GET    /rag/experiments                     report of every A/B experiment
//	GET    /rag/experiments/{name}              report of one experiment
type adminAPI struct{}

// CaddyModule returns the Caddy module information.
func (adminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.rag",
		New: func() caddy.Module { return new(adminAPI) },
	}
}

// Routes returns the admin routes.
func (a adminAPI) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{
		{Pattern: "/rag/caches", Handler: caddy.AdminHandlerFunc(a.handleCaches)},
		{Pattern: "/rag/caches/", Handler: caddy.AdminHandlerFunc(a.handleCache)},
		{Pattern: "/rag/breakers", Handler: caddy.AdminHandlerFunc(a.handleBreakers)},
		{Pattern: "/rag/breakers/", Handler: caddy.AdminHandlerFunc(a.handleBreaker)},
		{Pattern: "/rag/experiments", Handler: caddy.AdminHandlerFunc(a.handleExperiments)},
		{Pattern: "/rag/experiments/", Handler: caddy.AdminHandlerFunc(a.handleExperiments)},
	}
}

// cacheStats is one cache as the admin API and the metrics report it.
type cacheStats struct {
	Name     string `json:"name"`
	TTL      string `json:"ttl"`
	Entries  int    `json:"entries"`
	Bytes    int64  `json:"bytes"`
	MaxBytes int64  `json:"max_bytes"`
	MaxEntry int    `json:"max_entry_bytes"`
	Expired  int64  `json:"evicted_expired"`
	Evicted  int64  `json:"evicted_no_space"`
	Waiting  int64  `json:"coalesced_waiting"`
}

// statsByName sums the live stores by name, sorted by name.
func statsByName() []cacheStats {
	byName := map[string]*cacheStats{}
	eachStore(func(s *sharedStore) {
		st, ok := byName[s.name]
		if !ok {
			st = &cacheStats{Name: s.name}
			byName[s.name] = st
		}
		cfg := s.Config()
		expired, evicted := s.Evictions()
		st.TTL = cfg.TTL.String()
		st.Entries += s.Len()
		st.Bytes += s.Bytes()
		st.MaxBytes += cfg.MaxBytes
		st.MaxEntry = max(st.MaxEntry, cfg.MaxEntryBytes)
		st.Expired += expired
		st.Evicted += evicted
		st.Waiting += s.flights.Waiting()
	})
	out := make([]cacheStats, 0, len(byName))
	for _, st := range byName {
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (adminAPI) handleCaches(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method not allowed")}
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(statsByName())
}

func (adminAPI) handleCache(w http.ResponseWriter, r *http.Request) error {
	name := strings.TrimPrefix(r.URL.Path, "/rag/caches/")
	if r.Method != http.MethodDelete {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method not allowed")}
	}
	purged, found := 0, false
	var purgeErr error
	eachStore(func(s *sharedStore) {
		if s.name != name {
			return
		}
		found = true
		n, err := s.Purge()
		purged += n
		if err != nil {
			purgeErr = err
		}
	})
	if !found {
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("no cache named %q", name)}
	}
	if purgeErr != nil {
		return caddy.APIError{HTTPStatus: http.StatusInternalServerError, Err: purgeErr}
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(map[string]any{"name": name, "purged": purged})
}

func (adminAPI) handleBreakers(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method not allowed")}
	}
	out := []breaker.Snapshot{}
	eachBreaker(func(b *breaker.Breaker) { out = append(out, b.Snapshot()) })
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(out)
}

func (adminAPI) handleBreaker(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method not allowed")}
	}
	rest := strings.TrimPrefix(r.URL.Path, "/rag/breakers/")
	i := strings.LastIndex(rest, "/")
	if i < 0 {
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("want /rag/breakers/{name}/open|close|reset")}
	}
	name, action := rest[:i], rest[i+1:]
	var found *breaker.Breaker
	eachBreaker(func(b *breaker.Breaker) {
		if b.Name() == name {
			found = b
		}
	})
	if found == nil {
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("no breaker named %q", name)}
	}
	switch action {
	case "open":
		found.ForceOpen()
	case "close", "reset":
		found.Close()
	default:
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("unknown action %q: want open, close or reset", action)}
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(found.Snapshot())
}

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

// Interface guard
var _ caddy.AdminRouter = (*adminAPI)(nil)
