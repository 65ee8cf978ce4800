package caddymodule

import (
	"net/http"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

// setLogField adds field to the request's access-log entry. It does
// nothing when the server keeps no access log: ExtraLogFields.Set
// allocates on every call (it resets a cache of log handlers), and
// rag_split and rag_cache would pay that on every request for a line
// nobody writes.
func setLogField(r *http.Request, field zap.Field) {
	if srv, ok := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server); ok && srv != nil && srv.Logs == nil {
		return
	}
	if extra, ok := r.Context().Value(caddyhttp.ExtraLogFieldsCtxKey).(*caddyhttp.ExtraLogFields); ok {
		extra.Set(field)
	}
}
