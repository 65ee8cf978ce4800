package llm

import (
	"encoding/json"
	"reflect"
	"testing"
)

// EachElement hands over each element of an array as its bytes, as
// encoding/json splits it, and refuses what is not a well-nested array.
func TestEachElement(t *testing.T) {
	for _, s := range []string{`[]`, ` [ ] `, `[1]`, `[1, "a,]", {"b":[2,3]}, [], null ,true]`, `["\"]"]`} {
		var want []json.RawMessage
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatal(err)
		}
		var got []json.RawMessage
		if !EachElement([]byte(s), func(v []byte) { got = append(got, v) }) {
			t.Errorf("EachElement(%s): not an array", s)
		}
		if len(got) != len(want) || len(got) > 0 && !reflect.DeepEqual(got, want) {
			t.Errorf("EachElement(%s) = %q, want %q", s, got, want)
		}
	}
	for _, s := range []string{``, `{}`, `[`, `[1,]`, `[1 2]`, `[1]x`, `[}`, `["a]`} {
		if EachElement([]byte(s), func([]byte) {}) {
			t.Errorf("EachElement(%s): taken for an array", s)
		}
	}
}
