package caddymodule

import (
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// TestPlaceholderMatchesReplaceAll checks the one-placeholder shortcut
// against Caddy's ReplaceAll, on requests whose headers have one value
// each (with more, see TestPlaceholderHeaderFirstValue).
func TestPlaceholderMatchesReplaceAll(t *testing.T) {
	req := httptest.NewRequest("POST", "http://example.com/v1/chat?team=a", nil)
	req.Header.Add("Authorization", "Bearer sk-1")
	req.Header.Add("X-Team", "a")
	repl := caddyhttp.NewTestReplacer(req)
	repl.Set("rag.n", 42)
	for _, text := range []string{
		"{http.request.header.Authorization}",
		"{http.request.header.X-Team}",
		"{http.request.header.X-Team}-{http.request.header.authorization}",
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

// TestPlaceholderHeaderFirstValue: a repeated header renders as its first
// value, alone or inside a longer text, as Header.Get (and the upstream)
// reads it; a junk second value cannot make a new key.
func TestPlaceholderHeaderFirstValue(t *testing.T) {
	req := httptest.NewRequest("POST", "http://example.com/v1/chat", nil)
	req.Header.Add("Authorization", "Bearer sk-1")
	req.Header.Add("Authorization", "junk")
	repl := caddyhttp.NewTestReplacer(req)
	for text, want := range map[string]string{
		"{http.request.header.Authorization}":                      "Bearer sk-1",
		"{http.request.header.authorization}":                      "Bearer sk-1",
		"key={http.request.header.Authorization}":                  "key=Bearer sk-1",
		"{http.request.header.Authorization}{http.request.method}": "Bearer sk-1POST",
		"{http.request.header.X-None}/x":                           "/x",
	} {
		if got := newPlaceholder(text).render(req, repl); got != want {
			t.Errorf("%q rendered %q, want %q", text, got, want)
		}
	}
}
