package caddymodule

import (
	"crypto/tls"
	"crypto/x509"
	"net/http/httptest"
	"slices"
	"testing"
)

// TestCacheScopeClientCertificate (finding 1): callers that authenticate
// with a TLS client certificate alone get a scope per certificate, and one
// with a credential may have private answers stored.
func TestCacheScopeClientCertificate(t *testing.T) {
	h := &CacheHandler{}
	withCert := func(raw string) (string, bool) {
		r := httptest.NewRequest("POST", "/v1/chat/completions", nil)
		if raw != "" {
			r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{{Raw: []byte(raw)}}}
		}
		scope, privateOK, ok := h.scope(r)
		if !ok {
			t.Fatal("the default scope is never refused")
		}
		return scope, privateOK
	}
	alice, alicePrivate := withCert("alice's certificate")
	bob, _ := withCert("bob's certificate")
	anon, anonPrivate := withCert("")
	if alice == bob || alice == anon || bob == anon {
		t.Error("client certificates share a scope")
	}
	if !alicePrivate || anonPrivate {
		t.Errorf("private allowed: with a certificate %v, anonymous %v; want true, false", alicePrivate, anonPrivate)
	}
}

func TestScopeParts(t *testing.T) {
	for in, want := range map[string][]string{
		"{http.request.header.X-Tenant}":        nil, // a lone placeholder is checked whole
		"team-{http.request.header.X}-{vars.v}": {"{http.request.header.X}", "{vars.v}"},
		"{a}{b}":                                {"{a}", "{b}"},
		"prefix-{a}":                            {"{a}"},
		"plain":                                 nil,
		"open{":                                 nil,
	} {
		var got []string
		for _, p := range scopeParts(in) {
			got = append(got, p.text)
		}
		if !slices.Equal(got, want) {
			t.Errorf("scopeParts(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCacheScopeAllocs keeps the scope cheap on the hot path: one
// allocation for a request with credentials (the hash), one for the
// string.
func TestCacheScopeAllocs(t *testing.T) {
	h := &CacheHandler{}
	r := httptest.NewRequest("POST", "/v1/chat/completions", nil)
	r.Header.Set("Authorization", "Bearer sk-0123456789")
	r.Header.Set("Accept", "application/json")
	if n := testing.AllocsPerRun(100, func() { h.scope(r) }); n > 2 {
		t.Errorf("scope allocated %v times, want at most 2", n)
	}
}
