package caddymodule

import (
	"encoding/json"
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
