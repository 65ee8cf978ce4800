package caddymodule

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/caddyserver/caddy/v2"
)

func init() {
	caddy.RegisterModule(adminAPI{})
}

// adminAPI serves ragproxy's endpoints on Caddy's admin API; each
// feature's handlers are in its own *_admin.go file:
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

// Interface guard
var _ caddy.AdminRouter = (*adminAPI)(nil)

// errMethodNotAllowed answers a request with a method its endpoint does
// not serve.
var errMethodNotAllowed = caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: errors.New("method not allowed")}

// writeAdminJSON answers an admin request with v as JSON.
func writeAdminJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(v)
}
