package llm

import (
	"bytes"
	"encoding/json"
)

// EmptyAt reports whether the JSON body's value at path is missing, null,
// or an empty array, object or string: a 200 that answered nothing (a
// search with no documents). A body that is not JSON is not judged empty.
func EmptyAt(body []byte, path Path) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return false
	}
	return emptyAt(v, path)
}

// emptyAt is EmptyAt on a decoded body.
func emptyAt(v any, path Path) bool {
	v, ok := path.Get(v)
	if !ok {
		return true
	}
	switch v := v.(type) {
	case nil:
		return true
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	case string:
		return v == ""
	}
	return false
}
