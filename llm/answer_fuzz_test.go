package llm

import (
	"testing"
	"time"
)

// FuzzAnswerChecks: any answer body or stream, cut anywhere, is judged
// without a panic and quickly, against any requested format.
func FuzzAnswerChecks(f *testing.F) {
	f.Add([]byte(`{"choices":[{"index":0,"message":{"content":"{}","refusal":null},"finish_reason":"stop"}]}`),
		[]byte(`{"response_format":{"type":"json_object"}}`), uint8(7))
	f.Add([]byte("data: {\"choices\":[{\"index\":3,\"delta\":{\"content\":\"x\"}}]}\n\ndata: [DONE]\n\n"),
		[]byte(`{"response_format":{"type":"json_schema","json_schema":{"schema":{"type":"object","required":["a"]}}}}`), uint8(1))
	f.Add([]byte("data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"refusal\"}}\r\n"),
		[]byte(`{"output_format":{"type":"json_schema","schema":{"$ref":"#/$defs/x","$defs":{"x":{"type":"string"}}}}}`), uint8(0))
	checks := AnswerChecks{Empty: ParsePath("a.b"), InvalidJSON: true, Truncated: true, Refusal: true}
	f.Fuzz(func(t *testing.T, answer, request []byte, cut uint8) {
		start := time.Now()
		format := RequestedFormat(request)
		_ = checks.JudgeJSON(answer, format)
		var j StreamJudge
		at := int(cut) % (len(answer) + 1)
		_, _ = j.Write(answer[:at])
		_, _ = j.Write(answer[at:])
		_ = checks.Judge(j.Answer(), format)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("%d + %d bytes took %v", len(answer), len(request), d)
		}
	})
}
