// Package pytruth is Python's truth value of a decoded JSON value: how the
// Python LLM backends (vLLM, LiteLLM, …) coerce a field such as "stream".
// Tests and the attack suite use it as the oracle the proxy's own byte-level
// reading is checked against.
package pytruth

import "encoding/json"

// Of returns Python's bool() of v, a value decoded by encoding/json (with
// or without UseNumber).
func Of(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case float64:
		return v != 0
	case json.Number:
		f, err := v.Float64()
		return err != nil || f != 0 // too large for a float64: not zero
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	return true
}
