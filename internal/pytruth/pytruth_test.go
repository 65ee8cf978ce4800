package pytruth

import (
	"encoding/json"
	"testing"
)

func TestOf(t *testing.T) {
	for _, c := range []struct {
		json string
		want bool
	}{
		{`null`, false}, {`false`, false}, {`true`, true}, {`0`, false}, {`0.0`, false}, {`1`, true}, {`-1e-9`, true},
		{`""`, false}, {`"false"`, true}, {`[]`, false}, {`[0]`, true}, {`{}`, false}, {`{"a":0}`, true},
	} {
		var v any
		if err := json.Unmarshal([]byte(c.json), &v); err != nil {
			t.Fatal(err)
		}
		if got := Of(v); got != c.want {
			t.Errorf("Of(%s) = %v, want %v", c.json, got, c.want)
		}
	}
	if !Of(json.Number("1e999")) || Of(json.Number("0e5")) {
		t.Error("json.Number: 1e999 must be true, 0e5 false")
	}
}
