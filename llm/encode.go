package llm

import (
	"bytes"
	"encoding/json"
)

// EncodeJSON encodes v as encoding/json does, but without escaping '<',
// '>' and '&' and without the encoder's trailing newline: a request body
// a handler rewrites keeps the client's characters as they were.
func EncodeJSON(v any) ([]byte, bool) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return nil, false
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), true
}
