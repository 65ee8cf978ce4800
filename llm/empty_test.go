package llm

import "testing"

func TestEmptyAt(t *testing.T) {
	cases := map[string]bool{
		`{"documents":[]}`:                       true,
		`{"documents":null}`:                     true,
		`{"answer":"x"}`:                         true,
		`{"documents":[{"id":1}]}`:               false,
		`{"result":{"hits":[]}}`:                 true,
		`not json`:                               false,
		`{"documents":{}}`:                       true,
		`{"documents":"" }`:                      true,
		`{"documents":0}`:                        false,
		`{"result":{"hits":[1]},"documents":[]}`: true,
	}
	for body, want := range cases {
		path := "documents"
		if body == `{"result":{"hits":[]}}` {
			path = "result.hits"
		}
		if got := EmptyAt([]byte(body), ParsePath(path)); got != want {
			t.Errorf("EmptyAt(%s, %s) = %v, want %v", body, path, got, want)
		}
	}
}
