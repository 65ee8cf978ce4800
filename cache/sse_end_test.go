package cache

import "testing"

func TestStreamEnd(t *testing.T) {
	for _, c := range []struct {
		name, stream string
		want         SkipReason
	}{
		{"openai", "data: {\"choices\":[]}\n\ndata: [DONE]\n\n", Storable},
		{"openai crlf", "data: {\"choices\":[]}\r\n\r\ndata: [DONE]\r\n\r\n", Storable},
		{"openai no done", "data: {\"choices\":[]}\n\n", SkipStreamEnd},
		{"openai done not ended", "data: {\"choices\":[]}\n\ndata: [DONE]", SkipStreamEnd},
		{"openai error chunk", "data: {\"error\":{\"message\":\"boom\"}}\n\ndata: [DONE]\n\n", SkipStreamErr},
		{"anthropic", "event: message_start\ndata: {\"type\":\"message_start\"}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", Storable},
		{"anthropic overloaded", "event: message_start\ndata: {\"type\":\"message_start\"}\n\nevent: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\"}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", SkipStreamErr},
		{"anthropic cut", "event: message_start\ndata: {\"type\":\"message_start\"}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\"}\n\n", SkipStreamEnd},
		{"error by type only", "data: {\"type\":\"error\"}\n\ndata: [DONE]\n\n", SkipStreamErr},
		{"responses", "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"error\":null}}\n\nevent: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"error\":null}}\n\n", Storable},
		{"responses failed", "event: response.failed\ndata: {\"type\":\"response.failed\"}\n\n", SkipStreamErr},
		{"responses incomplete", "event: response.incomplete\ndata: {\"type\":\"response.incomplete\"}\n\nevent: response.completed\ndata: {}\n\n", SkipStreamErr},
		{"unknown api", "data: {\"token\":\"a\"}\n\ndata: {\"token\":\"b\"}\n\n", SkipStreamEnd},
		{"done then more", "data: [DONE]\n\ndata: {\"x\":1}\n\n", SkipStreamEnd},
		{"keepalive after done", "data: [DONE]\n\n: ping\n\n", Storable},
		{"empty", "", SkipStreamEnd},
	} {
		if got := StreamEnd([]byte(c.stream)); got != c.want {
			t.Errorf("%s: StreamEnd = %q, want %q", c.name, got, c.want)
		}
	}
}

func FuzzStreamEnd(f *testing.F) {
	f.Add([]byte("event: error\ndata: {\"type\":\"error\"}\n\ndata: [DONE]\r\r"))
	f.Fuzz(func(t *testing.T, stream []byte) { StreamEnd(stream) })
}
