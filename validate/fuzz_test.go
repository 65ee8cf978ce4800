package validate

import (
	"strings"
	"testing"
	"time"
)

// FuzzCheck: any body, on any API, is judged without a panic and quickly,
// and an allowed body is one the rules accept again unchanged.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"m","max_tokens":9999,"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]}`,
		`{"model":"m","input":[{"role":"user","content":"q"}]}`,
		`{"query":"q","model":"m"}`,
		`{"a":{"a":{"a":[[[[{}]]]]}}}`,
		`{"model":"m","prompt":["a",1,null]}`,
	} {
		f.Add(s, uint8(0))
	}
	paths := []string{"/v1/chat/completions", "/v1/messages", "/v1/completions", "/v1/responses", "/query", "/v1/embeddings"}
	rules := &Rules{MaxMessages: 4, MaxPromptTokens: 1000, MaxTokens: 100, ClampMaxTokens: true,
		Models: []string{"m"}, MaxQuestionLength: 50, Deny: []*DenyPattern{MustCompileDeny(`secret`)}}
	f.Fuzz(func(t *testing.T, body string, p uint8) {
		path := paths[int(p)%len(paths)]
		start := time.Now()
		out, ref := rules.Check(path, []byte(body))
		if d := time.Since(start); d > time.Second {
			t.Fatalf("%d bytes took %v", len(body), d)
		}
		if ref != nil {
			return
		}
		again, ref := rules.Check(path, out)
		if ref != nil || string(again) != string(out) {
			t.Fatalf("allowed body %q judged again: %v, %q", out, ref, again)
		}
	})
}

// FuzzCheckDifferential: Check, which reads the body's bytes in one pass,
// judges every body on every API as the decoder-based validator it
// replaced did (reference_test.go): the same refusal, code and message,
// or the same body sent on — duplicate keys in any case, escaped keys,
// invalid UTF-8, lone surrogates, deep nesting, malformed bodies
// included.
func FuzzCheckDifferential(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"m","max_tokens":9999,"messages":[{"role":"user","content":[{"type":"text","text":"x"},{"type":"tool_result","content":[{"type":"text","text":" "}]}]}]}`,
		`{"model":"m","input":[{"role":"user","type":"message","content":[{"type":"input_text","text":"q"}]}]}`,
		`{"model":"m","input":"  ","previous_response_id":null}`,
		`{"query":"q","model":"m","a":{"b":"secret"}}`,
		`{"a":{"a":{"a":[[[[{}]]]]}}}`,
		`{"model":"m","prompt":["a",1,null,"secret"]}`,
		`{"model":"m","Model":"n"}`,
		`{"mod\u0065l":"m","messages":[{"r\u006fle":"\u0075ser","content":"\u00e9t\u00e9"}]}`,
		`{"model":"m","max_toKens":5,"MAX_COMPLETION_TOKENS":"7","messages":[{"role":"user","content":"hi"}]}`,
		"{\"model\":\"m\xff\",\"messages\":[{\"role\":\"us\xfeer\",\"content\":\"\xff\"}]}",
		`{"model":"m","messages":[{"role":"user","content":"\ud800 \udc00"}],"max_tokens":-0}`,
		`{"a":1,"a":2,"b":tru}`,
		`{"a":1,"b":tru,"a":2}`,
		strings.Repeat(`{"a":`, 70) + "1" + strings.Repeat("}", 70),
		strings.Repeat("[", 64) + strings.Repeat("]", 64),
		`[{"x":1,"X":2}]`,
		`"just a string"`,
		`{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":0,"k11":1,"k12":2,"k13":3,"k14":4,"k15":5,"k16":6,"K3":7}`,
		`{"model":"m","messages":[{"role":"user","content":"hi"}]} {}`,
		`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"` + strings.Repeat("é", 25) + `"},{"type":"text","text":"` + strings.Repeat("b", 24) + `"}]}]}`,
		`{"model":"m","messages":[{"role":"assistant","content":"a"},{"role":"user","content":[{"type":"image_url"}]}],"max_output_tokens":1e3}`,
	} {
		for p := range 6 {
			for rs := range 3 {
				f.Add(s, uint8(p), uint8(rs))
			}
		}
	}
	paths := []string{"/v1/chat/completions", "/v1/messages", "/v1/completions", "/v1/responses", "/query", "/v1/embeddings"}
	rulesets := []*Rules{
		{MaxMessages: 4, MaxPromptTokens: 1000, MaxTokens: 100, ClampMaxTokens: true,
			Models: []string{"m", "m\ufffd"}, MaxQuestionLength: 50, Deny: []*DenyPattern{MustCompileDeny(`secret`)}},
		{MaxMessages: 2, MaxTokens: 100, MaxQuestionLength: 3, Field: "a.b",
			Deny: []*DenyPattern{MustCompileDeny(`(?i)s[eé]cret|\x{fffd}`)}},
		{},
	}
	f.Fuzz(func(t *testing.T, body string, p, rs uint8) {
		path := paths[int(p)%len(paths)]
		rules := rulesets[int(rs)%len(rulesets)]
		start := time.Now()
		out, ref := rules.Check(path, []byte(body))
		if d := time.Since(start); d > time.Second {
			t.Fatalf("%d bytes took %v", len(body), d)
		}
		same := func() bool {
			wantOut, want := rules.refCheck(path, []byte(body))
			if (ref == nil) != (want == nil) || ref != nil && *ref != *want {
				return false
			}
			return string(out) == string(wantOut)
		}
		// With two output caps that each refuse, the old validator
		// refused for whichever its map gave first: Check's (the body's
		// first) must be one of them.
		for try := 0; !same(); try++ {
			if try == 64 || ref == nil || ref.Code != InvalidField && ref.Code != MaxTokensTooLarge {
				wantOut, want := rules.refCheck(path, []byte(body))
				t.Fatalf("%s %q (rules %d):\n got %v %q\nwant %v %q", path, body, int(rs)%len(rulesets), ref, out, want, wantOut)
			}
		}
	})
}
