package validate

import (
	"regexp"
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
		Models: []string{"m"}, MaxQuestionLength: 50, Deny: []*regexp.Regexp{regexp.MustCompile(`secret`)}}
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
