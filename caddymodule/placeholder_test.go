package caddymodule

import (
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// TestPlaceholderMatchesReplaceAll checks the one-placeholder shortcut
// against Caddy's ReplaceAll.
func TestPlaceholderMatchesReplaceAll(t *testing.T) {
	req := httptest.NewRequest("POST", "http://example.com/v1/chat?team=a", nil)
	req.Header.Add("Authorization", "Bearer sk-1")
	req.Header.Add("X-Multi", "a")
	req.Header.Add("X-Multi", "b")
	repl := caddyhttp.NewTestReplacer(req)
	repl.Set("rag.n", 42)
	for _, text := range []string{
		"{http.request.header.Authorization}",
		"{http.request.header.X-Multi}",
		"{http.request.header.X-Missing}",
		"{http.request.header.authorization}",
		"{http.request.header.}",
		"{http.request.uri.query.team}",
		"{rag.n}",
		"{unknown.placeholder}",
		"team-{http.request.uri.query.team}",
		"{http.request.uri.query.team}{rag.n}",
		`\{http.request.uri.query.team}`,
		"{}",
		"plain",
		"",
	} {
		p := newPlaceholder(text)
		if got, want := p.render(req, repl), repl.ReplaceAll(text, ""); got != want {
			t.Errorf("%q: render %q, ReplaceAll %q", text, got, want)
		}
	}
	if newPlaceholder("{a}{b}").name != "" || newPlaceholder("{a}").name != "a" {
		t.Error("one-placeholder detection is wrong")
	}
}
