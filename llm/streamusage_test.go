package llm

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestAskStreamUsage(t *testing.T) {
	for _, c := range []struct {
		body string
		want map[string]any // nil: left alone
	}{
		{`{"model":"m","stream":true,"messages":[]}`,
			map[string]any{"model": "m", "stream": true, "messages": []any{}, "stream_options": map[string]any{"include_usage": true}}},
		{` { "stream" : true } `,
			map[string]any{"stream": true, "stream_options": map[string]any{"include_usage": true}}},
		{`{"stream":true,"stream_options":null}`,
			map[string]any{"stream": true, "stream_options": map[string]any{"include_usage": true}}},
		{`{"stream":true,"stream_options":{}}`,
			map[string]any{"stream": true, "stream_options": map[string]any{"include_usage": true}}},
		{`{"stream_options":{"include_obfuscation":false, "include_usage" : false},"stream":true}`,
			map[string]any{"stream": true, "stream_options": map[string]any{"include_obfuscation": false, "include_usage": true}}},
		{`{"stream":true,"stream_options":{"include_usage":true}}`, nil},
		{`{"stream":false}`, nil},
		{`{"stream":"true"}`, nil},
		{`{"messages":[{"role":"user","content":"\"stream\":true"}]}`, nil},
		{`{"stream":true`, nil},
		{`not json`, nil},
		{``, nil},
	} {
		got, ok := AskStreamUsage([]byte(c.body))
		if c.want == nil {
			if ok || got != nil {
				t.Errorf("%s: rewritten to %s, want it left alone", c.body, got)
			}
			continue
		}
		var v map[string]any
		if !ok || json.Unmarshal(got, &v) != nil || !reflect.DeepEqual(v, c.want) {
			t.Errorf("%s: got %s (ok %v), want %v", c.body, got, ok, c.want)
		}
	}
}

// FuzzAskStreamUsage: whatever the body, a rewrite is valid JSON that
// streams with include_usage true and keeps every other member.
func FuzzAskStreamUsage(f *testing.F) {
	for _, s := range []string{`{"stream":true}`, `{"stream":true,"stream_options":{"a":[1,{"b":"}"}]}}`, `{"x":"y","stream":true,"stream_options":7}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		got, ok := AskStreamUsage([]byte(body))
		if !ok {
			return
		}
		var before, after map[string]any
		if err := json.Unmarshal([]byte(body), &before); err != nil {
			t.Fatalf("%s is not a JSON object (%v) but was rewritten to %s", body, err, got)
		}
		if err := json.Unmarshal(got, &after); err != nil {
			t.Fatalf("%s became invalid JSON %s: %v", body, got, err)
		}
		opts, _ := after["stream_options"].(map[string]any)
		if opts["include_usage"] != true || after["stream"] != true {
			t.Fatalf("%s became %s", body, got)
		}
		delete(before, "stream_options")
		delete(after, "stream_options")
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("%s became %s: other members changed", body, got)
		}
	})
}

const strippedStream = "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}],\"usage\":null}\n\n" +
	"data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n" +
	"data: {\"id\":\"c\",\"choices\":[ ],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":3,\"total_tokens\":7}}\n\n" +
	"data: [DONE]\n\n"

func TestUsageChunkStripper(t *testing.T) {
	want := strings.Replace(strippedStream, "data: {\"id\":\"c\",\"choices\":[ ],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":3,\"total_tokens\":7}}\n\n", "", 1)
	// Every way of cutting the stream in two gives the same result.
	for cut := 0; cut <= len(strippedStream); cut++ {
		var s UsageChunkStripper
		out := string(s.Strip([]byte(strippedStream[:cut])))
		out += string(s.Strip([]byte(strippedStream[cut:])))
		if out != want || len(s.Rest()) != 0 {
			t.Fatalf("cut at %d: got %q (rest %q), want %q", cut, out, s.Rest(), want)
		}
	}
	// Kept: usage in a chunk that also has choices, CRLF endings, comments,
	// and an unfinished line (returned by Rest).
	keep := "data: {\"choices\":[{\"delta\":{}}],\"usage\":{\"total_tokens\":7}}\r\n\r\n: ping\n\ndata: {\"choices\":[],\"usage\":null}\n\ndata: {\"choi"
	var s UsageChunkStripper
	if out := s.Strip([]byte(keep)); string(out)+string(s.Rest()) != keep {
		t.Fatalf("got %q + rest %q, want all of %q", out, s.Rest(), keep)
	}
	// A CRLF usage chunk goes with its blank line.
	s.Reset()
	if out := s.Strip([]byte("data: {\"choices\":[],\"usage\":{\"total_tokens\":1}}\r\n\r\ndata: [DONE]\r\n\r\n")); string(out) != "data: [DONE]\r\n\r\n" {
		t.Fatalf("CRLF: got %q", out)
	}
	// A line too long to hold passes through as it comes.
	s.Reset()
	long := "data: " + strings.Repeat("x", maxSSELine+10)
	out := string(s.Strip([]byte(long[:maxSSELine/2])))
	out += string(s.Strip([]byte(long[maxSSELine/2:])))
	out += string(s.Strip([]byte("\n\ndata: [DONE]\n\n")))
	if out != long+"\n\ndata: [DONE]\n\n" || len(s.line) != 0 {
		t.Fatalf("long line: got %d bytes, held %d", len(out), len(s.line))
	}
}
