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
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/ragproxy/ragproxy/cache"
	"github.com/ragproxy/ragproxy/cache/rediscache"
)

// rag_cache's admin endpoints (routed in admin.go).

func (adminAPI) handleCaches(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return errMethodNotAllowed
	}
	return writeAdminJSON(w, statsByName())
}

func (adminAPI) handleCache(w http.ResponseWriter, r *http.Request) error {
	name := strings.TrimPrefix(r.URL.Path, "/rag/caches/")
	if r.Method != http.MethodDelete {
		return errMethodNotAllowed
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
	out := map[string]any{"name": name, "purged": purged}
	if len(redisDone) > 0 {
		out["purged_redis"] = shared
	}
	return writeAdminJSON(w, out)
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
