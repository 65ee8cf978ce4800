package caddymodule

import (
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// FuzzCacheCaddyfile feeds arbitrary Caddyfile text to the rag_cache
// parser: errors are fine, panics are not.
func FuzzCacheCaddyfile(f *testing.F) {
	for _, s := range []string{
		"rag_cache",
		"rag_cache llm {\n ttl 1h\n max_size 64MiB\n scope shared\n ignore_fields user a.b\n coalesce off\n}",
		"rag_cache {\n max_body 1KB\n max_entry_size 2\n}",
		"rag_cache {\n ttl\n}",
		"rag_cache {\n scope_headers X-Forwarded-User X-Forwarded-Groups\n}",
		"rag_cache {\n scope_headers\n}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tokens, err := caddyfile.Tokenize([]byte(src), "Caddyfile")
		if err != nil || len(tokens) == 0 {
			return
		}
		var h CacheHandler
		_ = h.UnmarshalCaddyfile(caddyfile.NewDispenser(tokens))
	})
}

func TestCacheCaddyfileScopeHeaders(t *testing.T) {
	tokens, err := caddyfile.Tokenize([]byte("rag_cache {\n scope_headers X-Forwarded-User\n scope_headers x-team\n}"), "Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	var h CacheHandler
	if err := h.UnmarshalCaddyfile(caddyfile.NewDispenser(tokens)); err != nil {
		t.Fatal(err)
	}
	if len(h.ScopeHeaders) != 2 || h.ScopeHeaders[0] != "X-Forwarded-User" || h.ScopeHeaders[1] != "x-team" {
		t.Errorf("ScopeHeaders = %q", h.ScopeHeaders)
	}
	if err := h.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	h.Scope = "shared"
	if err := h.Validate(); err == nil {
		t.Error("scope_headers with scope shared passed validation")
	}
	tokens, _ = caddyfile.Tokenize([]byte("rag_cache {\n scope_headers\n}"), "Caddyfile")
	if err := new(CacheHandler).UnmarshalCaddyfile(caddyfile.NewDispenser(tokens)); err == nil {
		t.Error("scope_headers without a name parsed")
	}
}
