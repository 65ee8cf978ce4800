package caddymodule_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// honestStream is an upstream that streams chat completions as OpenAI
// does: the usage chunk only when the request sets
// stream_options.include_usage. It keeps the last request's
// stream_options.
type honestStream struct {
	addr    string
	mu      sync.Mutex
	options string // the last request's stream_options, as JSON ("" if none)
}

func startHonestStream(t *testing.T) *honestStream {
	u := new(honestStream)
	u.addr = startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			StreamOptions json.RawMessage `json:"stream_options"`
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		u.mu.Lock()
		u.options = string(req.StreamOptions)
		u.mu.Unlock()
		var opts struct {
			IncludeUsage bool `json:"include_usage"`
		}
		_ = json.Unmarshal(req.StreamOptions, &opts)
		var out strings.Builder
		for _, word := range []string{"Hello", " there"} {
			fmt.Fprintf(&out, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%q}}]}\n\n", word)
		}
		out.WriteString("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n")
		if opts.IncludeUsage {
			out.WriteString("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":3,\"total_tokens\":7}}\n\n")
		}
		out.WriteString("data: [DONE]\n\n")
		w.Header().Set("Content-Type", "text/event-stream")
		if strings.HasPrefix(r.URL.Path, "/sized/") {
			// Some servers declare a stream's length; stripping must not break it.
			w.Header().Set("Content-Length", fmt.Sprint(out.Len()))
		}
		io.WriteString(w, out.String())
	})
	return u
}

func (u *honestStream) lastOptions() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.options
}

// TestRateLimitAsksStreamUsage: a token zone learns what a streamed chat
// completion cost even when the client did not ask for usage, and the
// client still gets the stream it asked for; with stream_usage off the
// request is left alone.
func TestRateLimitAsksStreamUsage(t *testing.T) {
	up := startHonestStream(t)
	p := startCaddy(t, `
http://{SITE} {
	handle /off/* {
		rag_rate_limit {
			stream_usage off
			zone ask_off {
				key {http.request.header.X-Team}
				tokens 1000/h
			}
		}
		reverse_proxy `+up.addr+`
	}
	handle {
		rag_rate_limit {
			zone ask_on {
				key {http.request.header.X-Team}
				tokens 1000/h
			}
		}
		reverse_proxy `+up.addr+`
	}
}`)
	spent := func(zone string) float64 {
		return max(p.metricValue("ragproxy_ratelimit_tokens_total", `zone="`+zone+`"`), 0)
	}
	before := spent("ask_on")

	// A raw stream without include_usage: asked upstream, stripped here.
	resp, body := post(t, p.URL+"/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`, "X-Team", "red")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"Hello"`) || !strings.HasSuffix(body, "data: [DONE]\n\n") {
		t.Fatalf("stream: %d %q", resp.StatusCode, body)
	}
	if strings.Contains(body, `"usage"`) || strings.Contains(body, "\n\n\n") {
		t.Fatalf("the client got a usage chunk it did not ask for (or its blank line): %q", body)
	}
	if got := up.lastOptions(); got != `{"include_usage":true}` {
		t.Fatalf("upstream saw stream_options %s, want include_usage asked for", got)
	}
	eventually(t, "the stream's 7 tokens to be debited", func() bool { return spent("ask_on")-before == 7 })

	// A stream of declared length still arrives whole, less the chunk.
	resp, body = post(t, p.URL+"/sized/v1/chat/completions", `{"stream":true,"messages":[]}`, "X-Team", "red")
	if resp.StatusCode != http.StatusOK || strings.Contains(body, `"usage"`) || !strings.HasSuffix(body, "data: [DONE]\n\n") {
		t.Fatalf("sized stream: %d %q", resp.StatusCode, body)
	}
	eventually(t, "the sized stream's 7 tokens to be debited", func() bool { return spent("ask_on")-before == 14 })
	before += 7

	// A client that asks for usage itself gets the chunk.
	_, body = post(t, p.URL+"/v1/chat/completions", `{"stream":true,"stream_options":{"include_usage":true},"messages":[]}`, "X-Team", "red")
	if !strings.Contains(body, `"total_tokens":7`) {
		t.Fatalf("asked-for usage chunk missing: %q", body)
	}
	eventually(t, "14 tokens debited", func() bool { return spent("ask_on")-before == 14 })

	// The OpenAI client streams without include_usage by default.
	client := newClient(p, "sk-x")
	stream := client.Chat.Completions.NewStreaming(context.Background(), chatParams("hi"), option.WithHeader("X-Team", "red"))
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if got := acc.Choices[0].Message.Content; got != "Hello there" || acc.Usage.TotalTokens != 0 {
		t.Fatalf("SDK stream: content %q, usage %d (want the content and no usage)", got, acc.Usage.TotalTokens)
	}
	eventually(t, "21 tokens debited", func() bool { return spent("ask_on")-before == 21 })

	// stream_usage off: the request goes as sent, and the stream, which
	// reports no usage, is charged an estimate from its sizes.
	offBefore := spent("ask_off")
	offBody := `{"stream":true,"messages":[]}`
	_, body = post(t, p.URL+"/off/v1/chat/completions", offBody, "X-Team", "red")
	if got := up.lastOptions(); got != "" || strings.Contains(body, `"usage"`) {
		t.Fatalf("stream_usage off: upstream saw stream_options %q; body %q", got, body)
	}
	want := float64((len(offBody)+3)/4 + (len(body)+3)/4)
	eventually(t, "the estimate to be debited", func() bool { return spent("ask_off")-offBefore == want })
	if resp, _ := post(t, p.URL+"/off/v1/chat/completions", `{"stream":false,"messages":[]}`, "X-Team", "red"); resp.Header.Get("RateLimit-Remaining") != strconv.Itoa(1000-int(want)) {
		t.Fatalf("stream_usage off: remaining %q, want %d", resp.Header.Get("RateLimit-Remaining"), 1000-int(want))
	}
}
