package llm

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/ragproxy/ragproxy/internal/pytruth"
)

func TestAskStreamUsage(t *testing.T) {
	asked := map[string]any{"include_usage": true}
	for _, c := range []struct {
		body string
		want map[string]any // nil: left alone
	}{
		{`{"model":"m","stream":true,"messages":[]}`,
			map[string]any{"model": "m", "stream": true, "messages": []any{}, "stream_options": asked}},
		{` { "stream" : true } `,
			map[string]any{"stream": true, "stream_options": asked}},
		{`{"stream":true,"stream_options":null}`,
			map[string]any{"stream": true, "stream_options": asked}},
		{`{"stream":true,"stream_options":{}}`,
			map[string]any{"stream": true, "stream_options": asked}},
		{`{"stream_options":{"include_obfuscation":false, "include_usage" : false},"stream":true}`,
			map[string]any{"stream": true, "stream_options": map[string]any{"include_obfuscation": false, "include_usage": true}}},
		// Truthiness as Python backends coerce "stream".
		{`{"stream":1}`, map[string]any{"stream": 1.0, "stream_options": asked}},
		{`{"stream":-0.5e1}`, map[string]any{"stream": -5.0, "stream_options": asked}},
		{`{"stream":"yes"}`, map[string]any{"stream": "yes", "stream_options": asked}},
		{`{"stream":"true"}`, map[string]any{"stream": "true", "stream_options": asked}},
		{`{"stream":[0]}`, map[string]any{"stream": []any{0.0}, "stream_options": asked}},
		{`{"stream":{"a":1}}`, map[string]any{"stream": map[string]any{"a": 1.0}, "stream_options": asked}},
		// Escaped, differently cased and repeated keys.
		{`{"str\u0065am":true}`, map[string]any{"stream": true, "stream_options": asked}},
		{`{"STREAM":true}`, map[string]any{"STREAM": true, "stream_options": asked}},
		{`{"stream":false,"stream":true}`, map[string]any{"stream": true, "stream_options": asked}},
		{`{"stream":true,"stream":false}`, map[string]any{"stream": false, "stream_options": asked}},
		{`{"stream":true,"stream_options":{"include_usage":true},"stream_\u006fptions":{"include_usage":false}}`,
			map[string]any{"stream": true, "stream_options": asked}},
		{`{"stream":true,"stream_options":{"include_usage":true,"include_usage":false}}`,
			map[string]any{"stream": true, "stream_options": asked}},
		{`{"stream":true,"stream_options":{"include_\u0075sage":true}}`,
			map[string]any{"stream": true, "stream_options": asked}},
		{`{"stream":true,"stream_options":{"x":1},"Stream_Options":{"y":2,"INCLUDE_USAGE":false}}`,
			map[string]any{"stream": true, "stream_options": map[string]any{"y": 2.0, "include_usage": true}}},
		// Left alone.
		{`{"stream":true,"stream_options":{"include_usage":true}}`, nil},
		{`{"stream":true,"stream_options":{"continuous_usage_stats":true,"include_usage":true}}`, nil},
		{`{"stream":false}`, nil},
		{`{"stream":0}`, nil},
		{`{"stream":0.0e5}`, nil},
		{`{"stream":""}`, nil},
		{`{"stream":[ ]}`, nil},
		{`{"stream":{}}`, nil},
		{`{"stream":null}`, nil},
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
			continue
		}
		if n := countOptions(t, got); n != 1 {
			t.Errorf("%s: %s has %d stream_options members", c.body, got, n)
		}
	}
}

// member is one top-level member of a JSON object, as encoding/json reads it.
type member struct {
	key   string
	value string // compacted
}

// members lists the top-level members of a JSON object, repeats included.
func members(t *testing.T, b []byte) []member {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("%s: not an object", b)
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		var c bytes.Buffer
		_ = json.Compact(&c, raw)
		out = append(out, member{tok.(string), c.String()})
	}
	return out
}

// countOptions counts the top-level keys that a case-insensitive decoder
// takes for stream_options, checking each is an object with exactly one
// include_usage, true.
func countOptions(t *testing.T, b []byte) int {
	n := 0
	for _, m := range members(t, b) {
		if !strings.EqualFold(m.key, "stream_options") {
			continue
		}
		n++
		if m.key != "stream_options" {
			t.Errorf("%s: stream_options spelled %q", b, m.key)
		}
		usage := 0
		for _, o := range members(t, []byte(m.value)) {
			if strings.EqualFold(o.key, "include_usage") {
				usage++
				if o.key != "include_usage" || o.value != "true" {
					t.Errorf("%s: stream_options has %s:%s", b, o.key, o.value)
				}
			}
		}
		if usage != 1 {
			t.Errorf("%s: %d include_usage members", b, usage)
		}
	}
	return n
}

// FuzzAskStreamUsage: whatever the body, a rewrite of valid JSON is valid
// JSON with exactly one stream_options, holding exactly one include_usage,
// true, and every other member unchanged, in order; a body that streams
// and does not plainly ask is always rewritten.
func FuzzAskStreamUsage(f *testing.F) {
	for _, s := range []string{`{"stream":true}`, `{"stream":true,"stream_options":{"a":[1,{"b":"}"}]}}`,
		`{"x":"y","stream":true,"stream_options":7}`, `{"str\u0065am":1,"stream_options":{"include_usage":true},"stream_\u006fptions":{"include_usage":false}}`,
		`{"stream":"yes","Stream_Options":{"Include_Usage":true,"z":null}}`, `{"stream":0,"stream":[1]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		got, ok := AskStreamUsage([]byte(body))
		if !json.Valid([]byte(body)) {
			return
		}
		var v any
		if json.Unmarshal([]byte(body), &v) != nil {
			return
		}
		obj, isObj := v.(map[string]any)
		if !ok {
			// Left alone: it does not stream, or it plainly asks already.
			if !isObj {
				return
			}
			before := members(t, []byte(body))
			streams := false
			for _, m := range before {
				if strings.EqualFold(m.key, "stream") {
					var sv any
					_ = json.Unmarshal([]byte(m.value), &sv)
					streams = streams || pytruth.Of(sv)
				}
			}
			if streams {
				countOptions(t, []byte(body)) // must already be plainly asked
				if n := countOptions(t, []byte(body)); n != 1 || t.Failed() {
					t.Fatalf("%s streams and was not rewritten", body)
				}
			}
			return
		}
		_ = obj
		if !json.Valid(got) {
			t.Fatalf("%s became invalid JSON %s", body, got)
		}
		if n := countOptions(t, got); n != 1 || t.Failed() {
			t.Fatalf("%s became %s", body, got)
		}
		var keep []member
		for _, m := range members(t, []byte(body)) {
			if !strings.EqualFold(m.key, "stream_options") {
				keep = append(keep, m)
			}
		}
		var after []member
		for _, m := range members(t, got) {
			if !strings.EqualFold(m.key, "stream_options") {
				after = append(after, m)
			}
		}
		if !reflect.DeepEqual(keep, after) {
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

func TestOutputCap(t *testing.T) {
	for body, want := range map[string]int64{
		`{"max_tokens":1000}`:                            1000,
		`{"max_completion_tokens":50,"n":3}`:             150,
		`{"max_output_tokens":7,"max_tokens":9}`:         9,
		`{"max_tokens":5,"max_tokens":2}`:                5,
		`{"max_tok\u0065ns":40}`:                         40,
		`{"MAX_TOKENS":40,"n":100000}`:                   40 * maxChoices,
		`{"max_tokens":1e3}`:                             1000,
		`{"max_tokens":99999999999999999999,"x":1}`:      -1,
		`{"max_tokens":-1}`:                              -1,
		`{"max_tokens":"1000"}`:                          -1,
		`{"model":"m"}`:                                  -1,
		`not json`:                                       -1,
		`{"messages":[{"max_tokens":3}],"max_tokens":4}`: 4,
	} {
		got, ok := OutputCap([]byte(body))
		if !ok {
			got = -1
		}
		if got != want {
			t.Errorf("OutputCap(%s) = %d, want %d", body, got, want)
		}
	}
}
