package llm

import (
	"encoding/json"
	"testing"
)

// refModelOf is ModelOf decoding every string with encoding/json.
func refModelOf(body []byte) string {
	v := topLevelValue(body, "model")
	if len(v) == 0 || v[0] != '"' {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return ""
	}
	return s
}

func FuzzModelOf(f *testing.F) {
	for _, seed := range []string{
		`{"model":"gpt-4o-mini","messages":[]}`,
		`{"model":"gpt\u002d4o"}`,
		`{"model":"a\"b"}`,
		`{"model":"tab\there"}`,
		`{"model":"ünï"}`,
		`{"model":"\xff"}`,
		`{"MODEL":"x","model":"y"}`,
		`{"model":1}`,
		`{"model":""}`,
		`{"model":"x"`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if got, want := ModelOf(body), refModelOf(body); got != want {
			t.Fatalf("ModelOf(%q) = %q, encoding/json gives %q", body, got, want)
		}
	})
}
