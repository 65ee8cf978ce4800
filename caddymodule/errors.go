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
	body, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": message,
		"type":    errType,
		"code":    code,
	}})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Del("Content-Encoding")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
