package llm

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestParsePath(t *testing.T) {
	for s, want := range map[string]Path{
		"user":              {"user"},
		"metadata.trace_id": {"metadata", "trace_id"},
		"":                  {""},
		"a..b":              {"a", "", "b"},
	} {
		if got := ParsePath(s); !slices.Equal(got, want) {
			t.Errorf("ParsePath(%q) = %q, want %q", s, got, want)
		}
		if got := ParsePath(s).String(); got != s {
			t.Errorf("ParsePath(%q).String() = %q", s, got)
		}
	}
}

func TestPathGet(t *testing.T) {
	cases := []struct {
		body, path string
		want       string // JSON of the value; "" when it is not there
	}{
		{`{"a":1}`, "a", `1`},
		{`{"a":{"b":[1,2]}}`, "a.b", `[1,2]`},
		{`{"a":{"b":null}}`, "a.b", `null`},
		{`{"a":{}}`, "a.b", ""},
		{`{"a":1}`, "a.b", ""},         // a member on the way is not an object
		{`{"a":[{"b":1}]}`, "a.b", ""}, // arrays are not walked
		{`[1]`, "a", ""},
		{`"x"`, "a", ""},
		{`null`, "a", ""},
	}
	for _, c := range cases {
		v, ok := ParsePath(c.path).Get(decode(t, c.body))
		got := ""
		if ok {
			b, _ := json.Marshal(v)
			got = string(b)
		}
		if got != c.want {
			t.Errorf("Get(%s, %s) = %s, want %s", c.body, c.path, got, c.want)
		}
	}
}

func TestPathDelete(t *testing.T) {
	cases := []struct{ body, path, want string }{
		{`{"a":1,"b":2}`, "a", `{"b":2}`},
		{`{"m":{"t":1,"u":2}}`, "m.t", `{"m":{"u":2}}`},
		{`{"m":{"u":2}}`, "m.t", `{"m":{"u":2}}`},
		{`{"m":1}`, "m.t", `{"m":1}`},
		{`{"m":[{"t":1}]}`, "m.t", `{"m":[{"t":1}]}`},
		{`[1]`, "a", `[1]`},
	}
	for _, c := range cases {
		v := decode(t, c.body)
		ParsePath(c.path).Delete(v)
		if got, _ := json.Marshal(v); string(got) != c.want {
			t.Errorf("Delete(%s, %s) = %s, want %s", c.body, c.path, got, c.want)
		}
	}
}

func TestPathSet(t *testing.T) {
	cases := []struct {
		body, path string
		ok         bool
		want       string
	}{
		{`{"a":1}`, "a", true, `{"a":"v"}`},
		{`{}`, "a.b", true, `{"a":{"b":"v"}}`},
		{`{"a":{"c":1}}`, "a.b", true, `{"a":{"b":"v","c":1}}`},
		{`{"a":5}`, "a.b", true, `{"a":{"b":"v"}}`}, // not an object on the way: replaced
		{`[1]`, "a", false, `[1]`},
		{`null`, "a", false, `null`},
	}
	for _, c := range cases {
		v := decode(t, c.body)
		ok := ParsePath(c.path).Set(v, "v")
		if got, _ := json.Marshal(v); ok != c.ok || string(got) != c.want {
			t.Errorf("Set(%s, %s) = %s, %v; want %s, %v", c.body, c.path, got, ok, c.want, c.ok)
		}
	}
}
