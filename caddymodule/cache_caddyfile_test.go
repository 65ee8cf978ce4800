package caddymodule

import (
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
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
		"rag_cache {\n redis redis://127.0.0.1:6379/0\n redis_timeout 50ms\n redis_prefix x:\n redis_max_entry_size 1KB\n}",
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

func TestCacheCaddyfileRedis(t *testing.T) {
	tokens, err := caddyfile.Tokenize([]byte("rag_cache llm {\n redis redis+cluster://h1:7000?addr=h2:7001\n redis_timeout 50ms\n redis_prefix rp:\n redis_max_entry_size 64KiB\n}"), "Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	var h CacheHandler
	if err := h.UnmarshalCaddyfile(caddyfile.NewDispenser(tokens)); err != nil {
		t.Fatal(err)
	}
	if h.Redis != "redis+cluster://h1:7000?addr=h2:7001" || h.RedisTimeout != caddy.Duration(50*time.Millisecond) || h.RedisPrefix != "rp:" || h.RedisMaxEntrySize != 64<<10 {
		t.Errorf("parsed %+v", h)
	}
	if err := h.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	h.Redis = ""
	if err := h.Validate(); err == nil {
		t.Error("redis options without redis passed validation")
	}
}

func TestCacheCaddyfileCoalesceCluster(t *testing.T) {
	for src, ok := range map[string]bool{
		"rag_cache {\n redis redis://h:6379/0\n coalesce cluster\n coalesce_wait 5s\n}": true,
		"rag_cache {\n coalesce cluster\n}":                                             false, // no redis
		"rag_cache {\n redis redis://h:6379/0\n coalesce cluster\n coalesce off\n}":     false,
	} {
		tokens, _ := caddyfile.Tokenize([]byte(src), "Caddyfile")
		var h CacheHandler
		err := h.UnmarshalCaddyfile(caddyfile.NewDispenser(tokens))
		if err == nil {
			err = h.Validate()
		}
		if (err == nil) != ok {
			t.Errorf("%q: err %v, want ok %v", src, err, ok)
		}
		if ok && (!h.CoalesceCluster || h.CoalesceWait != caddy.Duration(5*time.Second)) {
			t.Errorf("%q parsed %+v", src, h)
		}
	}
}
