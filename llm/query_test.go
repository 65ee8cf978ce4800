package llm

import (
	"encoding/json"
	"testing"
)

func decode(t testing.TB, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestTakeQuery(t *testing.T) {
	cases := []struct {
		name, body, field, want, rest string
	}{
		{"openai chat", `{"model":"m","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"How do I reset my password?"}]}`, "",
			"How do I reset my password?", `{"messages":[{"content":"be brief","role":"system"},{"content":"","role":"user"}],"model":"m"}`},
		{"openai text parts", `{"messages":[{"role":"user","content":[{"type":"text","text":"part one"},{"type":"text","text":"part two"}]}]}`, "",
			"part one\npart two", `{"messages":[{"content":"","role":"user"}]}`},
		{"anthropic", `{"model":"claude","system":"s","max_tokens":100,"messages":[{"role":"user","content":[{"type":"text","text":"hello there"}]}]}`, "",
			"hello there", `{"max_tokens":100,"messages":[{"content":"","role":"user"}],"model":"claude","system":"s"}`},
		{"completions", `{"model":"m","prompt":"Say hi"}`, "", "Say hi", `{"model":"m","prompt":""}`},
		{"rag query", `{"query":"what is bm25","top_k":5}`, "", "what is bm25", `{"query":"","top_k":5}`},
		{"rag question", `{"question":"why"}`, "", "why", `{"question":""}`},
		{"configured field", `{"search":{"text":"find me"},"query":"ignored"}`, "search.text", "find me", `{"query":"ignored","search":{"text":""}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := decode(t, c.body)
			got, ok := TakeQuery(v, c.field)
			if !ok || got != c.want {
				t.Fatalf("TakeQuery = %q, %v; want %q", got, ok, c.want)
			}
			rest, _ := json.Marshal(v)
			if string(rest) != c.rest {
				t.Errorf("rest = %s\nwant   %s", rest, c.rest)
			}
		})
	}
}

func TestTakeQueryNone(t *testing.T) {
	for _, body := range []string{
		`{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"prefill"}]}`,
		`{"messages":[{"role":"tool","content":"result"}]}`,
		`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}`,
		`{"messages":[]}`,
		`{"messages":[{"role":"user","content":"   "}]}`,
		`{"model":"m"}`,
		`{"query":42}`,
		`[1,2]`,
		`"just a string"`,
	} {
		if q, ok := TakeQuery(decode(t, body), ""); ok {
			t.Errorf("TakeQuery(%s) = %q, want none", body, q)
		}
	}
	if _, ok := TakeQuery(decode(t, `{"a":{"b":1}}`), "a.b"); ok {
		t.Error("configured non-string field taken")
	}
	if _, ok := TakeQuery(decode(t, `{"a":1}`), "a.b.c"); ok {
		t.Error("missing configured path taken")
	}
}

func FuzzTakeQuery(f *testing.F) {
	f.Add(`{"messages":[{"role":"user","content":"hi"}]}`, "")
	f.Add(`{"query":"x","q":{"r":"y"}}`, "q.r")
	f.Add(`{"messages":[{"role":"user","content":[{"type":"text","text":"a"}]}]}`, "messages")
	f.Fuzz(func(t *testing.T, body, field string) {
		var v any
		if json.Unmarshal([]byte(body), &v) != nil {
			return
		}
		before, _ := json.Marshal(v)
		q, ok := TakeQuery(v, field)
		if ok && q == "" {
			t.Fatal("ok with an empty question")
		}
		after, _ := json.Marshal(v)
		if ok == (string(before) == string(after)) {
			t.Fatalf("ok=%v but the body changed=%v", ok, string(before) != string(after))
		}
	})
}
