package cache

import (
	"net/http"
	"testing"
)

func credScope(h http.Header, extra []string, cert []byte) string {
	s, _ := AppendCredentialScope(nil, h, extra, cert)
	return string(s)
}

// TestCredentialScopeSeparatesEveryCredential: each credential a request
// can carry gives its own scope, and a request with none is anonymous.
func TestCredentialScopeSeparatesEveryCredential(t *testing.T) {
	anon, has := AppendCredentialScope(nil, http.Header{"Accept": {"x"}}, nil, nil)
	if has || string(anon) != string(rune(scopeAnonymous)) {
		t.Fatalf("no credential: scope %q, credential %v", anon, has)
	}
	seen := map[string]string{string(anon): "anonymous"}
	add := func(name, scope string) {
		t.Helper()
		if other, ok := seen[scope]; ok {
			t.Errorf("%s shares a scope with %s", name, other)
		}
		seen[scope] = name
	}
	extra := []string{"X-Forwarded-User"}
	for _, name := range append(CredentialHeaders[:], extra...) {
		for _, v := range []string{"alice", "bob"} {
			add(name+"="+v, credScope(http.Header{name: {v}}, extra, nil))
		}
		add(name+" repeated", credScope(http.Header{name: {"alice", "bob"}}, extra, nil))
	}
	add("cert a", credScope(http.Header{}, nil, []byte("cert-a")))
	add("cert b", credScope(http.Header{}, nil, []byte("cert-b")))
	add("two headers", credScope(http.Header{"Authorization": {"a"}, "Cookie": {"b"}}, nil, nil))
	add("concatenated", credScope(http.Header{"Authorization": {"ab"}}, nil, nil)) // not a + b
	// An identity header only counts when configured.
	if credScope(http.Header{"X-Forwarded-User": {"alice"}}, nil, nil) != string(anon) {
		t.Error("an unconfigured header changed the scope")
	}
}

func TestScopeKindsNeverCollide(t *testing.T) {
	cred := credScope(http.Header{"Authorization": {"x"}}, nil, nil)
	if string(AppendPlaceholderScope(nil, cred[1:])) == cred || string(AppendSharedScope(nil)) == credScope(nil, nil, nil) {
		t.Error("scopes of different kinds are equal")
	}
	a := AppendSelectors(nil, http.Header{"Accept": {"a"}, "Openai-Project": {"p"}})
	b := AppendSelectors(nil, http.Header{"Accept": {"a"}, "Openai-Organization": {"p"}})
	c := AppendSelectors(nil, http.Header{"Accept": {"a", "p"}})
	if string(a) == string(b) || string(a) == string(c) || string(b) == string(c) {
		t.Errorf("selector headers collide: %q %q %q", a, b, c)
	}
	if len(AppendSelectors(nil, http.Header{"Authorization": {"x"}})) != 0 {
		t.Error("a header that selects nothing was appended")
	}
}

func TestScopeTenant(t *testing.T) {
	creds, _ := AppendCredentialScope(nil, http.Header{"Authorization": {"Bearer k"}}, nil, nil)
	anon, _ := AppendCredentialScope(nil, http.Header{}, nil, nil)
	for _, tenant := range [][]byte{creds, anon, AppendSharedScope(nil), AppendPlaceholderScope(nil, "acme"), AppendPlaceholderScope(nil, string(make([]byte, 300)))} {
		full := AppendSelectors(AppendVariant(append([]byte(nil), tenant...), "b"), http.Header{"Accept": {"text/event-stream"}})
		if got := ScopeTenant(string(full)); got != string(tenant) {
			t.Errorf("ScopeTenant(%q) = %q, want %q", full, got, tenant)
		}
		if got := ScopeTenant(string(tenant)); got != string(tenant) {
			t.Errorf("ScopeTenant(%q) = %q alone", tenant, got)
		}
	}
	if TenantID(AppendPlaceholderScope(nil, "acme")) == TenantID(AppendPlaceholderScope(nil, "acme2")) {
		t.Error("two tenants, one id")
	}
}
