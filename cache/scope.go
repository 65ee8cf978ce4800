package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"net/http"
)

// CredentialHeaders are the request headers that carry a caller's
// credentials with the APIs ragproxy fronts: OpenAI and most others
// (Authorization), a proxy in front (Proxy-Authorization), Anthropic
// (X-Api-Key), Azure OpenAI (Api-Key), Google (X-Goog-Api-Key) and session
// cookies (Cookie). Canonical names.
var CredentialHeaders = [...]string{
	"Authorization", "Proxy-Authorization", "X-Api-Key", "Api-Key", "X-Goog-Api-Key", "Cookie",
}

// SelectorHeaders are request headers that make an upstream choose another
// answer for the same method, path and body: the representation (Accept),
// the OpenAI project and organization whose files, assistants and quotas
// are used, and the Anthropic API version and beta features. They are
// part of every key (see AppendSelectors).
var SelectorHeaders = [...]string{
	"Accept", "Openai-Project", "Openai-Organization", "Anthropic-Version", "Anthropic-Beta",
}

// Scope kinds: the first byte of a scope, so that scopes of different
// kinds (a credential hash, a placeholder's value) can never be equal.
const (
	scopeAnonymous   = 'a' // the default scope, for a request with no credential
	scopeCredentials = 'c' // the default scope: a hash of the request's credentials
	scopeShared      = 's' // scope shared: every caller
	scopePlaceholder = 'p' // a placeholder's value
)

// AppendCredentialScope appends the default scope of a request: a SHA-256
// hash over every credential it carries — all values of each of
// CredentialHeaders and of the extra (canonical) header names an operator
// configured (identity headers set in front, e.g. by forward_auth), and
// the SHA-256 fingerprint of the client's TLS certificate (peerCert, DER,
// nil without one). Every part is tagged and length prefixed, so no two
// different sets of credentials hash alike by concatenation. A request
// with no credential at all gets the anonymous scope, shared by every
// anonymous caller; hasCredential says which.
func AppendCredentialScope(dst []byte, h http.Header, extra []string, peerCert []byte) (out []byte, hasCredential bool) {
	var d hash.Hash
	write := func(tag string, vals []string) {
		if d == nil {
			d = sha256.New()
		}
		writeLen(d, len(tag))
		d.Write([]byte(tag))
		writeLen(d, len(vals))
		for _, v := range vals {
			writeLen(d, len(v))
			d.Write([]byte(v))
		}
	}
	for _, name := range CredentialHeaders {
		if vals := h[name]; len(vals) > 0 {
			write(name, vals)
		}
	}
	for _, name := range extra {
		if vals := h[name]; len(vals) > 0 {
			write("extra:"+name, vals)
		}
	}
	if len(peerCert) > 0 {
		sum := sha256.Sum256(peerCert)
		write("tls-client-cert", []string{string(sum[:])})
	}
	if d == nil {
		return append(dst, scopeAnonymous), false
	}
	dst = append(dst, scopeCredentials)
	return d.Sum(dst), true
}

func writeLen(d hash.Hash, n int) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	d.Write(b[:])
}

// AppendSharedScope appends the scope every caller shares (scope shared).
func AppendSharedScope(dst []byte) []byte { return append(dst, scopeShared) }

// AppendPlaceholderScope appends the scope named by a placeholder's value.
// The caller must not pass an empty value (an empty placeholder is a
// configuration problem, not a tenant: the request bypasses the cache).
func AppendPlaceholderScope(dst []byte, value string) []byte {
	dst = append(dst, scopePlaceholder)
	return appendLenString(dst, value)
}

// AppendVariant appends a rag_split variant to a scope: each variant's
// answers are cached apart.
func AppendVariant(dst []byte, variant string) []byte {
	dst = append(dst, 'v')
	return appendLenString(dst, variant)
}

// AppendSelectors appends the values of the SelectorHeaders the request
// carries, all values in order, tagged and length prefixed. A request
// without any appends nothing.
func AppendSelectors(dst []byte, h http.Header) []byte {
	for i, name := range SelectorHeaders {
		vals := h[name]
		if len(vals) == 0 {
			continue
		}
		dst = append(dst, 'h', byte(i))
		dst = binary.AppendUvarint(dst, uint64(len(vals)))
		for _, v := range vals {
			dst = appendLenString(dst, v)
		}
	}
	return dst
}

func appendLenString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// TenantIDSize is the size of a tenant id.
const TenantIDSize = 16

// TenantID identifies a tenant — the part of a scope an Append*Scope
// function wrote, before any variant or selector — by a truncated SHA-256
// hash of it, so that entries (in memory or in a shared Redis) can be
// purged by tenant while no store ever holds a credential or a tenant's
// name in clear.
func TenantID(tenantScope []byte) string {
	sum := sha256.Sum256(tenantScope)
	return string(sum[:TenantIDSize])
}

// ScopeTenant returns the tenant part of a scope built by one of the
// Append*Scope functions (then maybe AppendVariant, AppendSelectors): the
// scope without its variant and selectors. A scope of no known kind is
// its own tenant.
func ScopeTenant(scope string) string {
	if scope == "" {
		return ""
	}
	switch scope[0] {
	case scopeAnonymous, scopeShared:
		return scope[:1]
	case scopeCredentials:
		if len(scope) >= 1+sha256.Size {
			return scope[:1+sha256.Size]
		}
	case scopePlaceholder:
		n, w := binary.Uvarint([]byte(scope[1:min(len(scope), 1+binary.MaxVarintLen64)]))
		if w > 0 && uint64(len(scope)-1-w) >= n {
			return scope[:1+w+int(n)]
		}
	}
	return scope
}
