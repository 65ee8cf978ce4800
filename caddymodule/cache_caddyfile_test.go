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
