package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// maxDepth bounds the nesting of a request body: deeper bodies are
// refused, so a decode's stack stays small whatever the body.
const maxDepth = 64

var (
	errDuplicate = errors.New("duplicate key")
	errTooDeep   = errors.New("nested too deep")
)

// decodeStrict decodes one JSON value, numbers as json.Number, and fails
// on anything after it, on nesting deeper than maxDepth, and on a key
// that appears twice in one object — compared without regard to case,
// since lenient backends match keys so: of {"model":"a","Model":"b"} one
// backend reads a and another b, and the request must not be judged by
// the one the upstream does not read.
func decodeStrict(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	if depth >= maxDepth {
		return nil, errTooDeep
	}
	switch d {
	case '{':
		obj := map[string]any{}
		var folded map[string]struct{} // keys in lower case, once there are several
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ := tok.(string)
			lower := strings.ToLower(key)
			if folded == nil {
				folded = map[string]struct{}{}
			}
			if _, dup := folded[lower]; dup {
				return nil, errDuplicate
			}
			folded[lower] = struct{}{}
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			obj[key] = v
		}
		_, err := dec.Token() // '}'
		return obj, err
	case '[':
		arr := []any{}
		for dec.More() {
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err := dec.Token() // ']'
		return arr, err
	}
	return nil, errors.New("unexpected delimiter")
}
