package caddymodule

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/ragproxy/ragproxy/breaker"
)

// The circuit breakers' admin endpoints (routed in admin.go).

func (adminAPI) handleBreakers(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return errMethodNotAllowed
	}
	out := []breaker.Snapshot{}
	eachBreaker(func(b *breaker.Breaker) { out = append(out, b.Snapshot()) })
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return writeAdminJSON(w, out)
}

func (adminAPI) handleBreaker(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		return errMethodNotAllowed
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
	return writeAdminJSON(w, found.Snapshot())
}
