package caddymodule

import (
	"net/http"

	"github.com/ragproxy/ragproxy/llm"
)

// writeAPIError answers with an error the proxy produced, in the shape of
// the API the request was for, so its own SDK surfaces it: Anthropic's
// {"type":"error","error":{"type":…,"message":…}} for the Messages API
// (with our stable code added as error.code), OpenAI's (writeError) for
// every other path.
func writeAPIError(w http.ResponseWriter, api llm.API, status int, errType, code, message string) {
	if api != llm.Messages {
		writeError(w, status, errType, code, message)
		return
	}
	if status == http.StatusRequestEntityTooLarge {
		errType = "request_too_large" // Anthropic's type for a 413
	}
	writeErrorBody(w, status, map[string]any{"type": "error", "error": map[string]any{
		"type":    errType,
		"message": message,
		"code":    code,
	}})
}
