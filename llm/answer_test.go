package llm

import (
	"strings"
	"testing"
)

const personSchema = `{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name","age"],"additionalProperties":false}`

func TestRequestedFormat(t *testing.T) {
	cases := []struct {
		name, body string
		asked      bool
		valid      []string
		invalid    []string
	}{
		{"none", `{"model":"m"}`, false, nil, nil},
		{"text format", `{"response_format":{"type":"text"}}`, false, nil, nil},
		{"json_object", `{"response_format":{"type":"json_object"}}`, true, []string{`{"a":1}`, ` {} `}, []string{`[1]`, `{"a":`, `Sure! {"a":1}`, ``}},
		{"chat json_schema", `{"response_format":{"type":"json_schema","json_schema":{"name":"p","strict":true,"schema":` + personSchema + `}}}`, true,
			[]string{`{"name":"Ada","age":36}`}, []string{`{"name":"Ada"}`, `{"name":"Ada","age":"36"}`, `{"name":"Ada","age":36,"x":1}`}},
		{"responses json_schema", `{"text":{"format":{"type":"json_schema","name":"p","schema":` + personSchema + `}}}`, true,
			[]string{`{"name":"Ada","age":36}`}, []string{`{"age":36}`}},
		{"anthropic output_format", `{"output_format":{"type":"json_schema","schema":` + personSchema + `}}`, true,
			[]string{`{"name":"Ada","age":36}`}, []string{`{}`}},
		{"external ref is not loaded", `{"response_format":{"type":"json_schema","json_schema":{"schema":{"$ref":"file:///etc/passwd"}}}}`, true,
			[]string{`{"a":1}`}, []string{`[1]`}},
		{"schema with a draft", `{"response_format":{"type":"json_schema","json_schema":{"schema":{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","required":["x"]}}}}`, true,
			[]string{`{"x":1}`}, []string{`{"y":1}`}},
	}
	for _, c := range cases {
		f := RequestedFormat([]byte(c.body))
		if (f != nil) != c.asked {
			t.Errorf("%s: asked %v, want %v", c.name, f != nil, c.asked)
			continue
		}
		for _, s := range c.valid {
			if !f.Valid(s) {
				t.Errorf("%s: %s judged invalid", c.name, s)
			}
		}
		for _, s := range c.invalid {
			if f.Valid(s) {
				t.Errorf("%s: %s judged valid", c.name, s)
			}
		}
	}
}

func TestJudgeJSON(t *testing.T) {
	all := AnswerChecks{Empty: ParsePath("documents"), InvalidJSON: true, Truncated: true, Refusal: true}
	none := AnswerChecks{}
	jsonObj := &Format{}
	chat := func(content, finish string, refusal string) string {
		r := "null"
		if refusal != "" {
			r = `"` + refusal + `"`
		}
		return `{"choices":[{"index":0,"message":{"role":"assistant","content":` + content + `,"refusal":` + r + `},"finish_reason":"` + finish + `"}],"documents":[1]}`
	}
	cases := []struct {
		name   string
		checks AnswerChecks
		body   string
		format *Format
		want   string
	}{
		{"good chat", all, chat(`"{\"a\":1}"`, "stop", ""), jsonObj, ""},
		{"chat truncated", all, chat(`"{\"a\":"`, "length", ""), nil, FailTruncated},
		{"chat refusal", all, chat(`null`, "stop", "I can't help with that"), nil, FailRefusal},
		{"chat not json", all, chat(`"Here you go: {}"`, "stop", ""), jsonObj, FailInvalidJSON},
		{"not asked for json", all, chat(`"Here you go"`, "stop", ""), nil, ""},
		{"checks off", none, chat(`null`, "length", "no"), jsonObj, ""},
		{"empty first", all, `{"documents":[]}`, nil, FailEmpty},
		{"completions truncated", all, `{"choices":[{"text":"abc","finish_reason":"length"}],"documents":[1]}`, nil, FailTruncated},
		{"responses refusal", all, `{"status":"completed","output":[{"type":"message","content":[{"type":"refusal","refusal":"no"}]}],"documents":[1]}`, nil, FailRefusal},
		{"responses incomplete", all, `{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[],"documents":[1]}`, nil, FailTruncated},
		{"responses json", all, `{"status":"completed","output":[{"type":"message","content":[{"type":"output_text","text":"{\"a\":"},{"type":"output_text","text":"1}"}]}],"documents":[1]}`, jsonObj, ""},
		{"anthropic refusal", all, `{"type":"message","content":[],"stop_reason":"refusal","documents":[1]}`, nil, FailRefusal},
		{"anthropic max_tokens", all, `{"type":"message","content":[{"type":"text","text":"abc"}],"stop_reason":"max_tokens","documents":[1]}`, nil, FailTruncated},
		{"anthropic bad json", all, `{"type":"message","content":[{"type":"text","text":"abc"}],"stop_reason":"end_turn","documents":[1]}`, jsonObj, FailInvalidJSON},
		{"not json at all", all, `plain text`, jsonObj, ""},
	}
	for _, c := range cases {
		if got := c.checks.JudgeJSON([]byte(c.body), c.format); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestStreamJudge(t *testing.T) {
	checks := AnswerChecks{InvalidJSON: true, Truncated: true, Refusal: true}
	jsonObj := &Format{}
	cases := []struct {
		name, stream string
		format       *Format
		want         string
	}{
		{"chat good json", "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"{\\\"a\\\":\"}}]}\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"1}\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n", jsonObj, ""},
		{"chat cut json", "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"{\\\"a\\\":\"}}]}\r\n\r\ndata: [DONE]\r\n\r\n", jsonObj, FailInvalidJSON},
		{"chat length", "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"abc\"},\"finish_reason\":\"length\"}]}\n\n", nil, FailTruncated},
		{"chat refusal", "data: {\"choices\":[{\"index\":0,\"delta\":{\"refusal\":\"I can't\"}}]}\n\n", nil, FailRefusal},
		{"completions", "data: {\"choices\":[{\"index\":0,\"text\":\"x\",\"finish_reason\":\"length\"}]}\n\n", nil, FailTruncated},
		{"responses json", "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"{}\"}\n\nevent: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"status\":\"completed\"}}\n\n", jsonObj, ""},
		{"responses incomplete", "data: {\"type\":\"response.incomplete\",\"response\":{\"status\":\"incomplete\"}}\n\n", nil, FailTruncated},
		{"responses refusal", "data: {\"type\":\"response.refusal.delta\",\"delta\":\"no\"}\n\n", nil, FailRefusal},
		{"anthropic text not json", "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hello\"}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"}}\n\n", jsonObj, FailInvalidJSON},
		{"anthropic max_tokens", "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\"}}\n\n", nil, FailTruncated},
		{"anthropic refusal", "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"refusal\"}}\n\n", nil, FailRefusal},
	}
	for _, c := range cases {
		// written one byte at a time: events split anywhere are read whole
		var j StreamJudge
		for i := range len(c.stream) {
			j.Write([]byte{c.stream[i]})
		}
		if got := checks.Judge(j.Answer(), c.format); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	var j StreamJudge
	big := `data: {"choices":[{"index":0,"delta":{"content":"` + strings.Repeat("x", 1<<19) + `"}}]}` + "\n"
	for range 3 {
		j.Write([]byte(big))
	}
	if a := j.Answer(); !a.Overflow || checks.Judge(a, &Format{}) != "" {
		t.Errorf("an answer over the kept text: overflow %v; its JSON must not be judged", a.Overflow)
	}
}
