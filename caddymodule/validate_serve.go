package caddymodule

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ragproxy/ragproxy/llm"
	"github.com/ragproxy/ragproxy/validate"
)

// ServeHTTP judges a POST body and refuses it, or passes it on (rewritten
// when an output cap was clamped). As the first ragproxy handler of a
// route it times the request and meters its cost (serveTimed).
func (h *ValidateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	return serveTimed(h, w, r, next)
}

func (h *ValidateHandler) serve(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if r.Method != http.MethodPost {
		return next.ServeHTTP(w, r)
	}
	api := llm.APIOf(r.URL.Path)
	if enc := r.Header.Get("Content-Encoding"); enc != "" && enc != "identity" {
		// A compressed body could carry anything past the checks.
		return h.refuse(w, r, api, &validate.Refusal{Code: validate.InvalidJSON, Message: "compressed request bodies are not accepted"})
	}
	body, err := readBody(r, h.MaxBody)
	if errors.Is(err, errBodyTooLarge) {
		return h.refuse(w, r, api, &validate.Refusal{Code: validate.RequestTooLarge,
			Message: "request body exceeds the limit of " + strconv.FormatInt(h.MaxBody, 10) + " bytes"})
	}
	if err != nil {
		return caddyhttp.Error(http.StatusBadRequest, err)
	}
	out, ref := h.rules.Check(r.URL.Path, body)
	if ref != nil {
		return h.refuse(w, r, api, ref)
	}
	if len(out) != len(body) || (len(out) > 0 && &out[0] != &body[0]) {
		setBody(r, out)
		r.Header.Set("Content-Length", strconv.Itoa(len(out)))
		h.metrics.clamped.Inc()
	} else {
		h.metrics.allowed.Inc()
	}
	return next.ServeHTTP(w, r)
}

func (h *ValidateHandler) refuse(w http.ResponseWriter, r *http.Request, api llm.API, ref *validate.Refusal) error {
	h.metrics.refused[ref.Code].Inc()
	if c := h.logger.Check(zapcore.DebugLevel, "request refused"); c != nil {
		c.Write(zap.String("code", string(ref.Code)), zap.String("path", r.URL.Path))
	}
	writeAPIError(w, api, ref.Code.Status(), "invalid_request_error", string(ref.Code), ref.Message)
	return nil
}
