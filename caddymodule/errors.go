package caddymodule

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// writeError answers with an error the proxy itself produced, in the shape
// OpenAI's API uses, so every OpenAI client surfaces it properly:
// {"error":{"message":…,"type":…,"code":…}}.
func writeError(w http.ResponseWriter, status int, errType, code, message string) {
	writeErrorBody(w, status, map[string]any{"error": map[string]any{
		"message": message,
		"type":    errType,
		"code":    code,
	}})
}

// writeErrorBody answers status with v as JSON: the one place the proxy's
// error answers are written, whatever their API's shape.
func writeErrorBody(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Del("Content-Encoding")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeBodyTooLarge answers 413 for a request body over limit bytes. It
// returns nil, for a handler to return: the answer is written.
func writeBodyTooLarge(w http.ResponseWriter, limit int64) error {
	writeError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "request_too_large",
		"request body exceeds the limit of "+strconv.FormatInt(limit, 10)+" bytes")
	return nil
}
