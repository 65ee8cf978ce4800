package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/ragproxy/ragproxy/breaker"
	"github.com/ragproxy/ragproxy/cache"
	"github.com/ragproxy/ragproxy/cache/rediscache"
	"github.com/ragproxy/ragproxy/split"
)

func init() {
	caddy.RegisterModule(adminAPI{})
}

// adminAPI serves ragproxy's endpoints on Caddy's admin API:
//
//	GET    /rag/caches                          stats of every cache
//	DELETE /rag/caches/{name}                   purge one cache (and its Redis, on every instance)
//	DELETE /rag/caches/{name}/entries?scope=…   purge one tenant's entries (see purgeTenant)
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
	if name, ok := strings.CutSuffix(name, "/entries"); ok {
		return purgeTenant(w, r, name)
	}
	return purgeCache(w, r, name, "")
}

// purgeCache empties the caches named name — in this instance's memory,
// in Redis, and (told through Redis) in every other instance's memory —
// of every entry, or of one tenant's (a cache.TenantID) when tenant is
// not empty.
func purgeCache(w http.ResponseWriter, r *http.Request, name, tenant string) error {
	purged, shared, found := 0, 0, false
	var errs []error
	redisDone := map[*rediscache.Store]bool{}
	eachStore(func(s *sharedStore) {
		if s.name != name {
			return
		}
		found = true
		if tenant == "" {
			n, err := s.Purge()
			purged += n
			if err != nil {
				errs = append(errs, err)
			}
		} else {
			purged += s.PurgeTenant(tenant)
		}
		if s.redis != nil && !redisDone[s.redis] {
			redisDone[s.redis] = true
			ctx, cancel := context.WithTimeout(r.Context(), purgeTimeout)
			n, err := s.redis.Purge(ctx, tenant)
			cancel()
			shared += n
			if err != nil {
				errs = append(errs, err)
			}
		}
	})
	if !found {
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("no cache named %q", name)}
	}
	if len(errs) > 0 {
		// this instance's memory is purged; Redis or the other instances may not be
		return caddy.APIError{HTTPStatus: http.StatusBadGateway,
			Err: fmt.Errorf("purged %d entries from this instance's memory, but not everywhere: %w", purged, errors.Join(errs...))}
	}
	w.Header().Set("Content-Type", "application/json")
	out := map[string]any{"name": name, "purged": purged}
	if len(redisDone) > 0 {
		out["purged_redis"] = shared
	}
	return json.NewEncoder(w).Encode(out)
}

// purgeTimeout bounds a purge's Redis work (a scan of the cache's keys).
const purgeTimeout = 30 * time.Second

// purgeTenant purges one tenant's entries. The tenant is named as the
// cache's scope sees it: `?scope=<value>` (or a JSON body
// {"scope": "<value>"}) for a cache whose scope is a placeholder (the
// value it renders, e.g. the X-Tenant header's); {"headers": {"Authorization":
// "Bearer …", …}} for the default scope: the credential headers (and
// scope_headers) the tenant's requests carry, hashed as the cache hashes
// them. Only hashes are compared: no store holds the values.
func purgeTenant(w http.ResponseWriter, r *http.Request, name string) error {
	var req struct {
		Scope   string            `json:"scope"`
		Headers map[string]string `json:"headers"`
	}
	if body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10)); err != nil {
		return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: err}
	} else if len(strings.TrimSpace(string(body))) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("body: %w", err)}
		}
	}
	if q := r.URL.Query().Get("scope"); q != "" {
		req.Scope = q
	}
	var tenant []byte
	switch {
	case req.Scope != "" && len(req.Headers) == 0:
		tenant = cache.AppendPlaceholderScope(nil, req.Scope)
	case req.Scope == "" && len(req.Headers) > 0:
		h := http.Header{}
		var extra []string
		for k, v := range req.Headers {
			k = textproto.CanonicalMIMEHeaderKey(k)
			h.Set(k, v)
			if !slices.Contains(cache.CredentialHeaders[:], k) {
				extra = append(extra, k)
			}
		}
		slices.Sort(extra) // as the handler sorts scope_headers
		tenant, _ = cache.AppendCredentialScope(nil, h, extra, nil)
	default:
		return caddy.APIError{HTTPStatus: http.StatusBadRequest,
			Err: fmt.Errorf(`name the tenant with ?scope=<value>, {"scope": "<value>"} or {"headers": {"Authorization": "…"}}`)}
	}
	return purgeCache(w, r, name, cache.TenantID(tenant))
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
