package caddymodule

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	caddy.RegisterModule(DashboardHandler{})
}

//go:embed dashboard/index.html dashboard/app.js dashboard/style.css
var dashboardFiles embed.FS

// DashboardHandler serves ragproxy's live status page: caches (entries,
// hit rate), breakers, rate-limit zones, experiments with their tests,
// and the last requests' decisions (no bodies, no query strings, no
// headers). It reads the same in-process state as the admin API. Mount it
// where you like, behind authentication, the Caddy way:
//
//	handle_path /ragproxy/* {
//		basic_auth { admin <hash> }
//		rag_dashboard
//	}
//
// It answers paths relative to its mount (handle_path strips the prefix):
// `/` the page, `/state.json` its data, `/app.js` and `/style.css`; the
// page's URLs are relative, so any mount point works. It has no options.
type DashboardHandler struct{}

// CaddyModule returns the Caddy module information.
func (DashboardHandler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.rag_dashboard",
		New: func() caddy.Module { return new(DashboardHandler) },
	}
}

// liveDashboards counts provisioned dashboards: requests are remembered
// for the page only while one is.
var liveDashboards atomic.Int64

// Provision turns on the recording of recent requests.
func (h *DashboardHandler) Provision(caddy.Context) error {
	liveDashboards.Add(1)
	return nil
}

// Cleanup turns it off with the last dashboard.
func (h *DashboardHandler) Cleanup() error {
	liveDashboards.Add(-1)
	return nil
}

// dashboardAssets are the page's files by path, with their types.
var dashboardAssets = map[string]struct{ file, contentType string }{
	"/":           {"dashboard/index.html", "text/html; charset=utf-8"},
	"":            {"dashboard/index.html", "text/html; charset=utf-8"},
	"/index.html": {"dashboard/index.html", "text/html; charset=utf-8"},
	"/app.js":     {"dashboard/app.js", "text/javascript; charset=utf-8"},
	"/style.css":  {"dashboard/style.css", "text/css; charset=utf-8"},
}

// ServeHTTP serves the page, its assets and its data.
func (h *DashboardHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		return caddyhttp.Error(http.StatusMethodNotAllowed, fmt.Errorf("rag_dashboard: method %s", r.Method))
	}
	hdr := w.Header()
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", "no-store")
	// Only the page's own files run or load; nothing from elsewhere.
	hdr.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'")
	if r.URL.Path == "/state.json" {
		hdr.Set("Content-Type", "application/json")
		return json.NewEncoder(w).Encode(dashboardSnapshot())
	}
	a, ok := dashboardAssets[r.URL.Path]
	if !ok {
		return caddyhttp.Error(http.StatusNotFound, fmt.Errorf("rag_dashboard: no %q", r.URL.Path))
	}
	b, err := dashboardFiles.ReadFile(a.file)
	if err != nil {
		return caddyhttp.Error(http.StatusInternalServerError, err)
	}
	hdr.Set("Content-Type", a.contentType)
	_, err = w.Write(b)
	return err
}

func parseDashboardCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	d := new(DashboardHandler)
	err := d.UnmarshalCaddyfile(h.Dispenser)
	return d, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens; it takes
// no arguments and no options:
//
//	rag_dashboard
func (h *DashboardHandler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the directive's name
	if d.NextArg() {
		return d.ArgErr()
	}
	if d.NextBlock(0) {
		return d.Errf("rag_dashboard takes no options")
	}
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner           = (*DashboardHandler)(nil)
	_ caddy.CleanerUpper          = (*DashboardHandler)(nil)
	_ caddyhttp.MiddlewareHandler = (*DashboardHandler)(nil)
	_ caddyfile.Unmarshaler       = (*DashboardHandler)(nil)
)
