package caddymodule

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// TestPublish checks publish sets the placeholder and the var, and
// publishPlaceholder the placeholder alone.
func TestPublish(t *testing.T) {
	repl, vars := caddy.NewReplacer(), map[string]any{}
	ctx := context.WithValue(context.Background(), caddy.ReplacerCtxKey, repl)
	ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, vars)
	r := httptest.NewRequest("GET", "/", nil).WithContext(ctx)

	publish(r, "rag.test.var", "a")
	publishPlaceholder(r, "rag.test.placeholder", "b")

	if got, _ := repl.GetString("rag.test.var"); got != "a" {
		t.Errorf("{rag.test.var} = %q, want a", got)
	}
	if got := vars["rag.test.var"]; got != "a" {
		t.Errorf("var rag.test.var = %v, want a", got)
	}
	if got, _ := repl.GetString("rag.test.placeholder"); got != "b" {
		t.Errorf("{rag.test.placeholder} = %q, want b", got)
	}
	if _, ok := vars["rag.test.placeholder"]; ok {
		t.Error("publishPlaceholder set a var")
	}
	// Outside a Caddy request (no replacer, no vars) both do nothing.
	bare := httptest.NewRequest("GET", "/", nil)
	publish(bare, "rag.test.var", "a")
	publishPlaceholder(bare, "rag.test.placeholder", "b")
}
