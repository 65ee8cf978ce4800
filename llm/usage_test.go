package llm

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// feed writes body to m in the given pieces and checks Write's results.
func feed(t testing.TB, m *UsageMeter, pieces ...[]byte) {
	t.Helper()
	for _, p := range pieces {
		if n, err := m.Write(p); n != len(p) || err != nil {
			t.Fatalf("Write(%d bytes) = %d, %v", len(p), n, err)
		}
	}
}

// splitBytes cuts b into one-byte pieces.
func splitBytes(b []byte) [][]byte {
	out := make([][]byte, len(b))
	for i := range b {
		out[i] = b[i : i+1]
	}
	return out
}

// splitRandom cuts b at random points (pieces of 0 to maxLen bytes).
func splitRandom(b []byte, r *rand.Rand, maxLen int) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		n := min(r.IntN(maxLen+1), len(b))
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

func meter(ct, ce string, pieces ...[]byte) (Usage, bool) {
	m := NewUsageMeter(ct, ce)
	for _, p := range pieces {
		m.Write(p)
	}
	return m.Usage()
}

type usageCase struct {
	name string
	body string
	want Usage
	ok   bool
}

func u(in, out, total int64) Usage { return Usage{Input: in, Output: out, Total: total} }

// uc is u with the prompt-cache counts: read from and written to it.
func uc(in, out, total, read, write int64) Usage {
	return Usage{Input: in, Output: out, Total: total, CacheRead: read, CacheWrite: write}
}

func sseLines(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

const (
	oaChunk     = `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"usage":null}`
	oaChunkNoUs = `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}`
	oaFinish    = `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}`
	oaUsage     = `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46,"prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":0}}}`
)

var sseCases = []usageCase{
	{"openai chat with usage", sseLines(
		oaChunk, "", oaChunk, "", oaFinish, "", oaUsage, "", "data: [DONE]", ""),
		uc(12, 34, 46, 4, 0), true},
	{"openai chat without usage", sseLines(
		oaChunkNoUs, "", oaChunkNoUs, "", "data: [DONE]", ""),
		Usage{}, false},
	{"openai chat null usage only", sseLines(
		oaChunk, "", oaFinish, "", `data: {"usage" : null}`, "", "data: [DONE]", ""),
		Usage{}, false},
	{"data without space", sseLines(
		`data:{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`, ""),
		u(1, 2, 3), true},
	{"no total", sseLines(
		`data: {"usage":{"prompt_tokens":5,"completion_tokens":7}}`, ""),
		u(5, 7, 12), true},
	{"continuous usage is cumulative", sseLines(
		`data: {"choices":[{"delta":{"content":"a"}}],"usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10}}`, "",
		`data: {"choices":[{"delta":{"content":"b"}}],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}`, "",
		`data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}`, "",
		"data: [DONE]", ""),
		u(9, 3, 12), true},
	{"openai responses", sseLines(
		"event: response.created",
		`data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","status":"in_progress","output":[],"usage":null}}`, "",
		"event: response.output_text.delta",
		`data: {"type":"response.output_text.delta","sequence_number":1,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hello"}`, "",
		"event: response.completed",
		`data: {"type":"response.completed","sequence_number":2,"response":{"id":"resp_1","object":"response","status":"completed","output":[{"type":"message","content":[{"type":"output_text","text":"Hello"}]}],"usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":2},"output_tokens":20,"output_tokens_details":{"reasoning_tokens":5},"total_tokens":30}}}`, ""),
		uc(10, 20, 30, 2, 0), true},
	{"anthropic", sseLines(
		"event: message_start",
		`data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":3,"cache_read_input_tokens":100,"output_tokens":1,"service_tier":"standard"}}}`, "",
		"event: content_block_start",
		`data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`, "",
		"event: ping", `data: {"type": "ping"}`, "",
		"event: content_block_delta",
		`data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}`, "",
		"event: content_block_stop", `data: {"type":"content_block_stop","index":0}`, "",
		"event: message_delta",
		`data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}`, "",
		"event: message_stop", `data: {"type":"message_stop"}`, ""),
		uc(128, 15, 143, 100, 3), true},
	{"anthropic several message_delta", sseLines(
		`data: {"type":"message_start","message":{"usage":{"input_tokens":8,"output_tokens":1}}}`, "",
		`data: {"type":"message_delta","usage":{"output_tokens":5}}`, "",
		`data: {"type":"message_delta","usage":{"output_tokens":15}}`, ""),
		u(8, 15, 23), true},
	{"anthropic cumulative input on message_delta", sseLines(
		`data: {"type":"message_start","message":{"usage":{"input_tokens":0,"output_tokens":0}}}`, "",
		`data: {"type":"message_delta","usage":{"input_tokens":30,"cache_creation_input_tokens":0,"cache_read_input_tokens":2,"output_tokens":7}}`, ""),
		uc(32, 7, 39, 2, 0), true},
	{"anthropic message_start only (cut short)", sseLines(
		`data: {"type":"message_start","message":{"usage":{"input_tokens":8,"output_tokens":1}}}`, "",
		`data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}`),
		u(8, 1, 9), true},
	{"unterminated last line", "data: " + oaUsage[len("data: "):],
		uc(12, 34, 46, 4, 0), true},
	{"usage in content text", sseLines(
		`data: {"choices":[{"delta":{"content":"the \"usage\": {\"prompt_tokens\": 3} field"}}]}`, ""),
		Usage{}, false},
	{"usage nested elsewhere", sseLines(
		`data: {"choices":[{"delta":{"usage":{"prompt_tokens":3}}}]}`, ""),
		Usage{}, false},
	{"negative count", sseLines(
		`data: {"usage":{"prompt_tokens":-1,"completion_tokens":2,"total_tokens":1}}`, ""),
		Usage{}, false},
	{"string count", sseLines(
		`data: {"usage":{"prompt_tokens":"3","completion_tokens":2}}`, ""),
		Usage{}, false},
	{"fractional count", sseLines(
		`data: {"usage":{"prompt_tokens":3.5,"completion_tokens":2}}`, ""),
		Usage{}, false},
	{"whole float counts", sseLines(
		`data: {"usage":{"prompt_tokens":3.0,"completion_tokens":2e1}}`, ""),
		u(3, 20, 23), true},
	{"bad usage ignored, good kept", sseLines(
		`data: {"usage":{"prompt_tokens":4,"completion_tokens":2}}`, "",
		`data: {"usage":{"prompt_tokens":true}}`, "",
		`data: {"usage":"lots"}`, "",
		`data: {"usage":{}}`, ""),
		u(4, 2, 6), true},
	{"invalid json", sseLines(`data: {"usage":{"prompt_tokens":4,`, ""),
		Usage{}, false},
	{"not a data line", sseLines(`event: {"usage":{"prompt_tokens":4}}`, `: {"usage":{"prompt_tokens":4}}`, ""),
		Usage{}, false},
	{"done only", sseLines("data: [DONE]", ""), Usage{}, false},
	{"empty", "", Usage{}, false},
}

// withEOL rewrites the "\n" line ends of s.
func withEOL(s, eol string) string { return strings.ReplaceAll(s, "\n", eol) }

func TestUsageMeterSSE(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range sseCases {
		for _, eol := range []string{"\n", "\r\n", "\r"} {
			body := []byte(withEOL(c.body, eol))
			t.Run(fmt.Sprintf("%s/%q", c.name, eol), func(t *testing.T) {
				check := func(how string, pieces [][]byte) {
					t.Helper()
					m := NewUsageMeter("text/event-stream; charset=utf-8", "")
					feed(t, m, pieces...)
					got, ok := m.Usage()
					if got != c.want || ok != c.ok {
						t.Errorf("%s: Usage() = %+v, %v; want %+v, %v", how, got, ok, c.want, c.ok)
					}
					// Usage does not disturb the meter.
					if got2, ok2 := m.Usage(); got2 != got || ok2 != ok {
						t.Errorf("%s: second Usage() = %+v, %v; want %+v, %v", how, got2, ok2, got, ok)
					}
				}
				check("whole", [][]byte{body})
				check("bytes", splitBytes(body))
				for i := range 20 {
					check(fmt.Sprintf("random split %d", i), splitRandom(body, r, 1+r.IntN(64)))
				}
			})
		}
	}
}

func TestUsageMeterSSECRLFSplit(t *testing.T) {
	// A line end cut between '\r' and '\n' is one line end, not two.
	m := NewUsageMeter("text/event-stream", "")
	feed(t, m, []byte(`data: {"usage":{"prompt_tokens":1}}`+"\r"), []byte("\n"),
		[]byte(`data: {"usage":{"completion_tokens":2}}`+"\r"), []byte("\ndata: [DONE]\r"), []byte("\n\r\n"))
	if got, ok := m.Usage(); !ok || got != u(1, 2, 3) {
		t.Fatalf("Usage() = %+v, %v", got, ok)
	}
}

func TestUsageMeterSSELongLine(t *testing.T) {
	huge := `data: {"usage":{"prompt_tokens":999},"pad":"` + strings.Repeat("x", maxSSELine) + `"}`
	justFits := `data: {"pad":"` + strings.Repeat("y", maxSSELine-len(`data: {"pad":"","usage":{"prompt_tokens":5}}`)) + `","usage":{"prompt_tokens":5}}`
	if len(justFits) != maxSSELine {
		t.Fatalf("justFits is %d bytes", len(justFits))
	}
	cases := []usageCase{
		{"long usage line skipped", sseLines(huge, "", `data: {"usage":{"completion_tokens":3}}`, ""), u(0, 3, 3), true},
		{"only a long usage line", sseLines(huge, ""), Usage{}, false},
		{"long last line unterminated", huge, Usage{}, false},
		{"line of exactly 1 MiB", sseLines(justFits, ""), u(5, 0, 5), true},
		{"line of exactly 1 MiB, unterminated", justFits, u(5, 0, 5), true},
		{"line of 1 MiB + 1", sseLines(justFits+" ", ""), Usage{}, false},
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := []byte(c.body)
			for _, pieces := range [][][]byte{{body}, splitRandom(body, r, 4096), splitRandom(body, r, 1<<19)} {
				m := NewUsageMeter("text/event-stream", "")
				peak := 0
				for _, p := range pieces {
					feed(t, m, p)
					peak = max(peak, len(m.buf))
				}
				if peak > maxSSELine {
					t.Errorf("buffered %d bytes of one line", peak)
				}
				if got, ok := m.Usage(); got != c.want || ok != c.ok {
					t.Errorf("%d pieces: Usage() = %+v, %v; want %+v, %v", len(pieces), got, ok, c.want, c.ok)
				}
			}
		})
	}
}

func TestUsageMeterJSON(t *testing.T) {
	cases := []usageCase{
		{"openai chat", `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hi, \"usage\": none"},"finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0}}}`,
			u(19, 10, 29), true},
		{"openai responses", `{"id":"resp_1","object":"response","output":[],"usage":{"input_tokens":36,"input_tokens_details":{"cached_tokens":0},"output_tokens":87,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":123}}`,
			u(36, 87, 123), true},
		{"openai embeddings", `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,-0.2]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}`,
			u(8, 0, 8), true},
		{"anthropic", `{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text","text":"Hi"}],"stop_reason":"end_turn","usage":{"input_tokens":2095,"cache_creation_input_tokens":100,"cache_read_input_tokens":2000,"cache_creation":{"ephemeral_5m_input_tokens":100},"output_tokens":503,"service_tier":"standard"}}`,
			uc(4195, 503, 4698, 2000, 100), true},
		{"anthropic null cache", `{"usage":{"input_tokens":10,"cache_creation_input_tokens":null,"cache_read_input_tokens":null,"output_tokens":5}}`,
			u(10, 5, 15), true},
		{"openai-style with cache fields", `{"usage":{"prompt_tokens":100,"completion_tokens":5,"total_tokens":105,"cache_read_input_tokens":80}}`,
			uc(100, 5, 105, 80, 0), true},
		{"openai cached tokens", `{"usage":{"prompt_tokens":100,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":64,"audio_tokens":0}}}`,
			uc(100, 5, 105, 64, 0), true},
		{"bad details are ignored", `{"usage":{"prompt_tokens":100,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":"x"}}}`,
			u(100, 5, 105), true},
		{"whitespace", "{\n  \"usage\" :\t{ \"prompt_tokens\" : 1 , \"completion_tokens\" : 2 }\n}\n", u(1, 2, 3), true},
		{"usage not first", `{"usage_note":"x","model":"m","usage":{"prompt_tokens":1}}`, u(1, 0, 1), true},
		{"missing usage", `{"id":"x","choices":[]}`, Usage{}, false},
		{"null usage", `{"id":"x","usage":null}`, Usage{}, false},
		{"empty usage", `{"usage":{}}`, Usage{}, false},
		{"nested usage only", `{"choices":[{"usage":{"prompt_tokens":1}}]}`, Usage{}, false},
		{"negative", `{"usage":{"prompt_tokens":1,"completion_tokens":-2}}`, Usage{}, false},
		{"non-number", `{"usage":{"prompt_tokens":1,"completion_tokens":[2]}}`, Usage{}, false},
		{"huge count", `{"usage":{"prompt_tokens":99999999999999999999}}`, Usage{}, false},
		{"usage not an object", `{"usage":42}`, Usage{}, false},
		{"invalid json", `{"usage":{"prompt_tokens":1}`, Usage{}, false},
		{"trailing garbage", `{"usage":{"prompt_tokens":1}} x`, Usage{}, false},
		{"array", `[{"usage":{"prompt_tokens":1}}]`, Usage{}, false},
		{"empty", ``, Usage{}, false},
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := []byte(c.body)
			for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON", "application/vnd.example+json", ""} {
				for _, pieces := range [][][]byte{{body}, splitBytes(body), splitRandom(body, r, 16)} {
					got, ok := meter(ct, "", pieces...)
					if got != c.want || ok != c.ok {
						t.Errorf("%q: Usage() = %+v, %v; want %+v, %v", ct, got, ok, c.want, c.ok)
					}
				}
			}
		})
	}
}

// TestUsageMeterJSONLarge: a JSON answer of any size is metered (a large
// logprobs or n>1 answer must not be free), holding no more than the
// usage value.
func TestUsageMeterJSONLarge(t *testing.T) {
	for _, body := range [][]byte{
		[]byte(`{"pad":"` + strings.Repeat("x\\\"", 2<<20) + `","choices":[` + strings.Repeat(`{"logprobs":[1,2,{"usage":{"prompt_tokens":9}}]},`, 1<<16) + `{}],"usage":{"prompt_tokens":1,"completion_tokens":1000}}`),
		[]byte(`{"usage":{"prompt_tokens":1,"completion_tokens":1000},"pad":"` + strings.Repeat("y", 5<<20) + `"}`),
	} {
		m := NewUsageMeter("application/json", "")
		for _, p := range splitRandom(body, rand.New(rand.NewPCG(7, 8)), 32<<10) {
			feed(t, m, p)
		}
		if got, ok := m.Usage(); !ok || got != u(1, 1000, 1001) {
			t.Fatalf("%d-byte answer: Usage() = %+v, %v; want its usage", len(body), got, ok)
		}
		if cap(m.buf) > maxPooledBuf {
			t.Errorf("meter holds a %d-byte buffer", cap(m.buf))
		}
	}
	// A usage value too large to hold is not read.
	body := []byte(`{"usage":{"prompt_tokens":1,"pad":"` + strings.Repeat("z", maxUsageValue) + `"}}`)
	if got, ok := meter("application/json", "", body); ok {
		t.Fatalf("oversized usage value: Usage() = %+v, true", got)
	}
}

func TestUsageMeterInert(t *testing.T) {
	sse := []byte(sseLines(oaUsage, ""))
	js := []byte(`{"usage":{"prompt_tokens":1,"completion_tokens":2}}`)
	cases := []struct {
		ct, ce string
		body   []byte
	}{
		{"application/json", "gzip", js},
		{"application/json", "br", js},
		{"text/event-stream", "gzip", sse},
		{"text/event-stream", "zstd", sse},
		{"", "deflate", js},
		{"text/plain", "", js},
		{"text/html; charset=utf-8", "", js},
		{"application/x-ndjson", "", js},
		{"application/octet-stream", "", js},
	}
	for _, c := range cases {
		m := NewUsageMeter(c.ct, c.ce)
		feed(t, m, c.body)
		if got, ok := m.Usage(); ok {
			t.Errorf("%q %q: Usage() = %+v, true; want false", c.ct, c.ce, got)
		}
		if m.buf != nil {
			t.Errorf("%q %q: inert meter buffered the body", c.ct, c.ce)
		}
	}
	// identity is no encoding.
	for _, ce := range []string{"identity", " Identity "} {
		if got, ok := meter("application/json", ce, js); !ok || got != u(1, 2, 3) {
			t.Errorf("%q: Usage() = %+v, %v", ce, got, ok)
		}
		if got, ok := meter("TEXT/EVENT-STREAM", ce, sse); !ok || got != uc(12, 34, 46, 4, 0) {
			t.Errorf("%q: Usage() = %+v, %v", ce, got, ok)
		}
	}
}

func TestUsageMeterReset(t *testing.T) {
	m := NewUsageMeter("application/json", "")
	feed(t, m, []byte(`{"usage":{"prompt_tokens":1,`))
	c := cap(m.buf)
	if c == 0 {
		t.Fatal("no buffer")
	}

	// A pooled meter forgets the last answer and keeps its small buffer.
	m.Reset("text/event-stream", "")
	if got, ok := m.Usage(); ok {
		t.Fatalf("after Reset: Usage() = %+v, true", got)
	}
	if cap(m.buf) != c || len(m.buf) != 0 {
		t.Fatalf("Reset: buffer len %d cap %d; want 0, %d", len(m.buf), cap(m.buf), c)
	}
	feed(t, m, []byte(sseLines(oaChunk, "", oaUsage)))
	if got, ok := m.Usage(); !ok || got != uc(12, 34, 46, 4, 0) {
		t.Fatalf("reused: Usage() = %+v, %v", got, ok)
	}

	m.Reset("application/json", "gzip")
	feed(t, m, []byte(`{"usage":{"prompt_tokens":1}}`))
	if got, ok := m.Usage(); ok {
		t.Fatalf("reset to gzip: Usage() = %+v, true", got)
	}

	// A big buffer is dropped.
	m.Reset("application/json", "")
	feed(t, m, []byte(`{"usage":{"prompt_tokens":7},"pad":"`+strings.Repeat("x", 2*maxPooledBuf)+`"}`))
	if got, ok := m.Usage(); !ok || got != u(7, 0, 7) {
		t.Fatalf("big body: Usage() = %+v, %v", got, ok)
	}
	m.Reset("application/json", "")
	if cap(m.buf) > maxPooledBuf {
		t.Fatalf("Reset kept a %d-byte buffer", cap(m.buf))
	}

	// Writing after Usage is taken into account.
	m.Reset("application/json", "")
	feed(t, m, []byte(`{"usage":{"prompt_tokens":7}`))
	if _, ok := m.Usage(); ok {
		t.Fatal("incomplete JSON has usage")
	}
	feed(t, m, []byte(`}`))
	if got, ok := m.Usage(); !ok || got != u(7, 0, 7) {
		t.Fatalf("completed: Usage() = %+v, %v", got, ok)
	}
}

func TestUsageMeterAllocs(t *testing.T) {
	chunks := [][]byte{[]byte(oaChunk + "\n\n"), []byte(oaChunkNoUs + "\n\n"), []byte("event: x\r\ndata: {\"a\":"), []byte("1}\r\n\r\n")}
	m := NewUsageMeter("text/event-stream", "")
	feed(t, m, chunks...) // grow the line buffer once
	allocs := testing.AllocsPerRun(100, func() {
		for _, c := range chunks {
			m.Write(c)
		}
	})
	if allocs != 0 {
		t.Errorf("SSE content chunks: %v allocs per run; want 0", allocs)
	}

	js := []byte(`{"id":"x","usage":{"prompt_tokens":1}}`)
	allocs = testing.AllocsPerRun(100, func() {
		m.Reset("application/json", "")
		m.Write(js)
	})
	if allocs != 0 {
		t.Errorf("pooled JSON meter: %v allocs per run; want 0", allocs)
	}
}

func TestHasUsage(t *testing.T) {
	for s, want := range map[string]bool{
		`{"usage":null}`:                       false,
		`{"usage" : null,"x":"usage"}`:         false,
		`{"a":"usage","usage":null}`:           false,
		`{"usage":null,"b":{"usage":{}}}`:      true,
		`{"usage":{"prompt_tokens":1}}`:        true,
		"{\"usage\"\n:\n{}}":                   true,
		`{"x":"\"usage\": 1"}`:                 false,
		`{"usage"`:                             false,
		`{"usage":`:                            true,
		`{"usageMetadata":{"promptTokens":1}}`: false,
	} {
		if got := hasUsage([]byte(s)); got != want {
			t.Errorf("hasUsage(%s) = %v; want %v", s, got, want)
		}
	}
}

// openAIStream is a 300-chunk OpenAI chat stream with usage, as an
// upstream writes it: one Write per event.
func openAIStream(chunks int) [][]byte {
	var out [][]byte
	words := []string{" the", " quick", " brown", " fox", " jumps", " over", " lazy", " dogs", ",", " and"}
	out = append(out, []byte(`data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_eb9dce56a8","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}`+"\n\n"))
	for i := range chunks - 2 {
		out = append(out, []byte(`data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_eb9dce56a8","choices":[{"index":0,"delta":{"content":"`+words[i%len(words)]+`"},"logprobs":null,"finish_reason":null}],"usage":null}`+"\n\n"))
	}
	out = append(out, []byte(`data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_eb9dce56a8","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}`+"\n\n"))
	out = append(out, []byte(`data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_eb9dce56a8","choices":[],"usage":{"prompt_tokens":1117,"completion_tokens":298,"total_tokens":1415,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}`+"\n\n"))
	out = append(out, []byte("data: [DONE]\n\n"))
	return out
}

func BenchmarkUsageMeterSSE(b *testing.B) {
	for _, split := range []string{"per event", "4 KiB writes"} {
		b.Run(split, func(b *testing.B) {
			events := openAIStream(300)
			writes := events
			if split != "per event" {
				writes = nil
				all := bytes.Join(events, nil)
				for len(all) > 0 {
					n := min(4096, len(all))
					writes = append(writes, all[:n])
					all = all[n:]
				}
			}
			size := 0
			for _, w := range writes {
				size += len(w)
			}
			m := NewUsageMeter("text/event-stream", "")
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				m.Reset("text/event-stream", "")
				for _, w := range writes {
					m.Write(w)
				}
				if got, ok := m.Usage(); !ok || got != u(1117, 298, 1415) {
					b.Fatalf("Usage() = %+v, %v", got, ok)
				}
			}
		})
	}
}

// BenchmarkUsageMeterJSON is a non-streamed chat answer of about 1 KiB.
func BenchmarkUsageMeterJSON(b *testing.B) {
	body := []byte(`{"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion","created":1741570283,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"` +
		strings.Repeat(`The retriever returns the \"top\" chunks; `, 20) +
		`","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1117,"completion_tokens":46,"total_tokens":1163,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_eb9dce56a8"}`)
	m := NewUsageMeter("application/json", "")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		m.Reset("application/json", "")
		m.Write(body)
		if _, ok := m.Usage(); !ok {
			b.Fatal("no usage")
		}
	}
}
