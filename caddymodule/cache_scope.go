package caddymodule

import (
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ragproxy/ragproxy/cache"
	"github.com/ragproxy/ragproxy/contract"
)

// scope is the part of a request's key that says who may share its entry
// and which answer it selects: the tenant (by default every credential the
// request carries), the rag_split variant it was assigned, if any (each
// variant's answers — another model, prompt or retriever — are cached
// apart, or the experiment would compare one variant's answers with
// themselves), and the request headers that select another answer
// (Accept, OpenAI-Project, …; see cache.SelectorHeaders). privateOK says
// whether a Cache-Control: private answer may be stored under it: only
// the default scope of a request carrying a credential. ok is false when a
// scope placeholder renders empty: the request must bypass the cache.
func (h *CacheHandler) scope(r *http.Request) (scope string, privateOK, ok bool) {
	var buf [160]byte
	b := buf[:0]
	switch h.Scope {
	case "":
		var cert []byte
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			cert = r.TLS.PeerCertificates[0].Raw
		}
		b, privateOK = cache.AppendCredentialScope(b, r.Header, h.scopeHeaders, cert)
	case sharedScope:
		b = cache.AppendSharedScope(b)
	default:
		repl, _ := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
		if repl == nil {
			repl = caddy.NewReplacer()
		}
		// Any placeholder rendering empty is a missing identity, not a
		// tenant: "{org}/{user}" without a user must not share "acme/".
		for _, part := range h.scopeParts {
			if part.render(r, repl) == "" {
				return "", false, false
			}
		}
		v := h.scopeText.render(r, repl)
		if v == "" {
			return "", false, false
		}
		b = cache.AppendPlaceholderScope(b, v)
	}
	if variant, ok := caddyhttp.GetVar(r.Context(), contract.VarVariant).(string); ok && variant != "" {
		b = cache.AppendVariant(b, variant)
	}
	b = cache.AppendSelectors(b, r.Header)
	return string(b), privateOK, true
}

// scopeParts returns the placeholders of a scope expression that has more
// than the placeholder alone (static text, or several placeholders), each
// to be checked on its own; nil for a lone placeholder, which is checked
// whole.
func scopeParts(text string) []placeholder {
	var parts []placeholder
	rest := text
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			break
		}
		parts = append(parts, newPlaceholder(rest[open:open+end+1]))
		rest = rest[open+end+1:]
	}
	if len(parts) == 1 && parts[0].text == text {
		return nil
	}
	return parts
}

// warnEmptyScope logs, at most once a minute per handler, that a request
// bypassed the cache because its scope placeholder rendered empty: a
// configuration problem the operator must see, without a line per request.
func (h *CacheHandler) warnEmptyScope(r *http.Request) {
	now := time.Now().Unix()
	last := h.warnedAt.Load()
	if now-last < 60 || !h.warnedAt.CompareAndSwap(last, now) {
		return
	}
	if c := h.logger.Check(zapcore.WarnLevel, "cache scope placeholder rendered empty: request not cached"); c != nil {
		c.Write(zap.String("cache", h.Name), zap.String("scope", h.Scope), zap.String("path", r.URL.Path))
	}
}
