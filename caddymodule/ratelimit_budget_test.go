package caddymodule_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/ragproxy/ragproxy/internal/pytruth"
	"github.com/ragproxy/ragproxy/internal/redistest"
)

// costly is an upstream whose every answer costs 1,000 tokens, as its
// usage says, and that behaves as real servers may: it compresses when
// the request accepts gzip, streams when "stream" is truthy (as Python
// backends coerce it) and then reports usage only if the request's
// stream_options.include_usage (the last such key, as a last-key-wins
// parser reads it) is true. Paths pick the shape of the answer:
//
//	/big/…       a JSON answer over 4 MiB (logprobs), never compressed
//	/xcache/…    an answer carrying X-Cache: HIT
//	…/completions a legacy completions stream when streaming
type costly struct {
	addr  string
	calls atomic.Int64
	mu    sync.Mutex
	last  []byte // the last request body
	usage *bool  // whether the last streaming request asked for usage
}

const costlyUsage = `{"prompt_tokens":10,"completion_tokens":990,"total_tokens":1000}`

func startCostly(t *testing.T) *costly {
	u := new(costly)
	u.addr = startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		u.calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		var req map[string]json.RawMessage // repeated keys: the last wins
		_ = json.Unmarshal(body, &req)
		var stream any
		_ = json.Unmarshal(req["stream"], &stream)
		var opts struct {
			IncludeUsage bool `json:"include_usage"`
		}
		_ = json.Unmarshal(req["stream_options"], &opts)
		u.mu.Lock()
		u.last = body
		if pytruth.Of(stream) {
			u.usage = &opts.IncludeUsage
		} else {
			u.usage = nil
		}
		u.mu.Unlock()

		if strings.HasPrefix(r.URL.Path, "/xcache/") {
			w.Header().Set("X-Cache", "HIT")
		}
		var out bytes.Buffer
		switch {
		case pytruth.Of(stream):
			w.Header().Set("Content-Type", "text/event-stream")
			legacy := !strings.HasSuffix(r.URL.Path, "/chat/completions")
			for _, word := range []string{"Hello", " there"} {
				if legacy {
					fmt.Fprintf(&out, "data: {\"id\":\"c1\",\"object\":\"text_completion\",\"model\":\"m\",\"choices\":[{\"index\":0,\"text\":%q,\"finish_reason\":null}]}\n\n", word)
				} else {
					fmt.Fprintf(&out, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%q}}]}\n\n", word)
				}
			}
			if opts.IncludeUsage {
				fmt.Fprintf(&out, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[],\"usage\":%s}\n\n", costlyUsage)
			}
			out.WriteString("data: [DONE]\n\n")
		case strings.HasPrefix(r.URL.Path, "/big/"):
			w.Header().Set("Content-Type", "application/json")
			out.WriteString(`{"id":"c1","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"logprobs":{"content":[`)
			for i := 0; out.Len() < 5<<20; i++ {
				fmt.Fprintf(&out, `{"token":"t%d","logprob":-0.5,"bytes":[116],"top_logprobs":[]},`, i)
			}
			out.WriteString(`{"token":".","logprob":-0.1,"bytes":[46],"top_logprobs":[]}]},"finish_reason":"stop"}],"usage":` + costlyUsage + `}`)
		default:
			w.Header().Set("Content-Type", "application/json")
			out.WriteString(`{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"stop"}],"usage":` + costlyUsage + `}`)
		}
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") && !strings.HasPrefix(r.URL.Path, "/big/") {
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			zw.Write(out.Bytes())
			zw.Close()
			return
		}
		w.Write(out.Bytes())
	})
	return u
}

// lastAsked says whether the last streaming request asked for usage, as
// the upstream read it, and returns its body.
func (u *costly) lastAsked() (asked bool, body []byte) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.usage != nil && *u.usage, u.last
}

// budgetCaddyfile is a 100-token hourly budget per X-Team in front of up.
func budgetCaddyfile(up string) string {
	return `
http://{SITE} {
	rag_rate_limit {
		zone team {
			key {http.request.header.X-Team}
			tokens 100/h
		}
	}
	reverse_proxy ` + up + `
}`
}

// twice sends the same request twice with a fresh team: the first answer
// (1,000 tokens) spends the 100-token budget, so the second must be
// refused.
func twice(t *testing.T, p *proxy, path, body string) {
	t.Helper()
	team := t.Name()
	resp, got := post(t, p.URL+path, body, "X-Team", team)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("first request: %d %.300s", resp.StatusCode, got)
	}
	resp, got = post(t, p.URL+path, body, "X-Team", team)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("second request after a 1,000-token answer on a 100-token budget: %d %.300s, want 429", resp.StatusCode, got)
	}
}

// TestTokenBudgetGzip: a client accepting gzip (every Go client does, the
// OpenAI SDK included) gets no free answers: the zone asks the upstream
// for an identity answer and meters it.
func TestTokenBudgetGzip(t *testing.T) {
	up := startCostly(t)
	p := startCaddy(t, budgetCaddyfile(up.addr))
	client := newClient(p, "sk-x")
	ctx := context.Background()
	if _, err := client.Chat.Completions.New(ctx, chatParams("hi"), option.WithHeader("X-Team", "gz")); err != nil {
		t.Fatal(err)
	}
	_, err := client.Chat.Completions.New(ctx, chatParams("hi"), option.WithHeader("X-Team", "gz"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("second answer after 1,000 tokens of a 100-token budget: %v, want 429", err)
	}
	// Raw, with gzip asked for explicitly.
	twice(t, p, "/v1/chat/completions", `{"model":"m","messages":[]}`)
	resp, _ := post(t, p.URL+"/v1/chat/completions", `{}`, "X-Team", "gz2", "Accept-Encoding", "gzip")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("answer %d with Content-Encoding %q, want identity", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
	if resp, _ := post(t, p.URL+"/v1/chat/completions", `{}`, "X-Team", "gz2", "Accept-Encoding", "gzip"); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("gzip accepted: second request %d, want 429", resp.StatusCode)
	}
}

// TestTokenBudgetLargeJSON: an answer over 4 MiB (logprobs) is metered.
func TestTokenBudgetLargeJSON(t *testing.T) {
	up := startCostly(t)
	p := startCaddy(t, budgetCaddyfile(up.addr))
	twice(t, p, "/big/v1/chat/completions", `{"model":"m","logprobs":true,"messages":[]}`)
}

// TestTokenBudgetIgnoresUpstreamXCache: an upstream's own X-Cache: HIT
// does not make its answer free; only rag_cache's verdict does.
func TestTokenBudgetIgnoresUpstreamXCache(t *testing.T) {
	up := startCostly(t)
	p := startCaddy(t, budgetCaddyfile(up.addr))
	twice(t, p, "/xcache/v1/chat/completions", `{"model":"m","messages":[]}`)
}

// TestTokenBudgetAsksStreams: stream_usage ask reaches every streaming
// request, however it spells "stream" and stream_options, legacy
// completions and padded bodies included; a body past max_body is refused.
func TestTokenBudgetAsksStreams(t *testing.T) {
	up := startCostly(t)
	p := startCaddy(t, budgetCaddyfile(up.addr))
	pad := strings.Repeat(" ", 5<<20)
	for _, c := range []struct{ name, path, body string }{
		{"legacy completions", "/v1/completions", `{"model":"m","prompt":"hi","stream":true}`},
		{"stream 1", "/v1/chat/completions", `{"model":"m","messages":[],"stream":1}`},
		{"stream yes", "/v1/chat/completions", `{"model":"m","messages":[],"stream":"yes"}`},
		{"escaped stream", "/v1/chat/completions", `{"model":"m","messages":[],"str\u0065am":true}`},
		{"escaped later stream_options", "/v1/chat/completions",
			`{"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":true},"stream_\u006fptions":{"include_usage":false}}`},
		{"padded past 4 MiB", "/v1/chat/completions", `{"model":"m",` + pad + `"messages":[],"stream":true}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := post(t, p.URL+c.path, c.body, "X-Team", t.Name())
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Hello") || strings.Contains(body, `"usage"`) {
				t.Fatalf("stream: %d %.300q (the client did not ask for usage: it must not get it)", resp.StatusCode, body)
			}
			asked, sent := up.lastAsked()
			if !asked {
				t.Fatalf("the upstream was not asked for usage; it got %.300s", sent)
			}
			if n := bytes.Count(sent, []byte(`"stream_options"`)); n != 1 || bytes.Contains(sent, []byte(`stream_\u006fptions`)) {
				t.Fatalf("the upstream got %d plain stream_options keys: %.300s", n, sent)
			}
			if resp, _ := post(t, p.URL+c.path, c.body, "X-Team", t.Name()); resp.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("second stream after 1,000 tokens: %d, want 429", resp.StatusCode)
			}
		})
	}
	// The OpenAI SDK's legacy completions stream, which does not ask.
	client := newClient(p, "sk-x")
	params := openai.CompletionNewParams{Model: "m", Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("hi")}}
	stream := client.Completions.NewStreaming(context.Background(), params, option.WithHeader("X-Team", "sdk"))
	var text strings.Builder
	for stream.Next() {
		if ch := stream.Current(); len(ch.Choices) > 0 {
			text.WriteString(ch.Choices[0].Text)
		}
	}
	if err := stream.Err(); err != nil || text.String() != "Hello there" {
		t.Fatalf("SDK completions stream: %q, %v", text.String(), err)
	}
	if asked, sent := up.lastAsked(); !asked {
		t.Fatalf("SDK stream not asked for usage: %s", sent)
	}
	_, err := client.Completions.New(context.Background(), params, option.WithHeader("X-Team", "sdk"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after the SDK stream: %v, want 429", err)
	}

	// Past max_body (8 MiB by default): refused, OpenAI-shaped.
	before := up.calls.Load()
	resp, body := post(t, p.URL+"/v1/chat/completions", `{"model":"m",`+strings.Repeat(" ", 9<<20)+`"stream":true}`, "X-Team", "huge")
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, `"request_too_large"`) || up.calls.Load() != before {
		t.Fatalf("9 MiB body: %d %.200s (upstream calls %d)", resp.StatusCode, body, up.calls.Load()-before)
	}
}

// TestTokenBudgetParallelReserve: 20 requests at once, each allowing 1,000
// output tokens, against a 100-token budget: one goes upstream, the
// others are refused, since the first one's reservation is debited
// before it leaves.
func TestTokenBudgetParallelReserve(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(map[bool]string{false: "local", true: "redis"}[shared], func(t *testing.T) {
			release := make(chan struct{})
			upstream, calls := newBlockingUpstream(t, release, http.StatusOK)
			cf := budgetCaddyfile(upstream)
			if shared {
				srv := redistest.Start(t)
				cf = strings.Replace(cf, "rag_rate_limit {", "rag_rate_limit {\n\t\tredis "+srv.URL, 1)
			}
			p := startCaddy(t, cf)
			redisErrors := p.counter("ragproxy_ratelimit_redis_errors_total", `zone="team"`)
			var refused, ok atomic.Int64
			var wg sync.WaitGroup
			for range 20 {
				wg.Go(func() {
					resp, _ := post(t, p.URL+"/v1/chat/completions", `{"model":"m","max_tokens":1000,"messages":[]}`, "X-Team", "par")
					switch resp.StatusCode {
					case http.StatusOK:
						ok.Add(1)
					case http.StatusTooManyRequests:
						refused.Add(1)
					}
				})
			}
			eventually(t, "every request upstream or refused", func() bool { return calls()+refused.Load() == 20 })
			close(release)
			wg.Wait()
			if ok.Load() > 1 || calls() > 1 {
				t.Fatalf("%d of 20 parallel requests allowed (%d upstream) on a budget one reservation exceeds, want 1", ok.Load(), calls())
			}
			if redisErrors() != 0 {
				t.Fatalf("%v Redis errors", redisErrors())
			}
		})
	}
}

// TestTokenBudgetEstimatesUnreadableUsage: an answer without usage is
// charged an estimate from the sizes, counted and never zero.
func TestTokenBudgetEstimatesUnreadableUsage(t *testing.T) {
	answer := `{"answer":"` + strings.Repeat("x", 1000) + `"}`
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, answer)
	})
	p := startCaddy(t, budgetCaddyfile(up))
	estimated := p.counter("ragproxy_ratelimit_usage_estimated_total", `zone="team"`)
	spent := p.counter("ragproxy_ratelimit_tokens_total", `zone="team"`)
	body := `{"query":"what is in the handbook?"}`
	twice(t, p, "/search", body)
	want := float64((len(body)+3)/4 + (len(answer)+3)/4)
	if estimated() != 1 || spent() != want {
		t.Fatalf("estimated %v answers, spent %v tokens; want 1 and %v", estimated(), spent(), want)
	}
}

// TestRateLimitRepeatedHeaderKey: a junk second Authorization value does
// not give the caller a fresh bucket: the key is the first value, the
// one the upstream reads.
func TestRateLimitRepeatedHeaderKey(t *testing.T) {
	up := startCostly(t)
	p := startCaddy(t, `
http://{SITE} {
	rag_rate_limit {
		zone per_key {
			key {http.request.header.Authorization}
			rate 1/h
		}
	}
	reverse_proxy `+up.addr+`
}`)
	send := func(junk string) int {
		req, _ := http.NewRequest(http.MethodPost, p.URL+"/v1/chat/completions", strings.NewReader(`{}`))
		req.Header.Add("Authorization", "Bearer sk-alice")
		if junk != "" {
			req.Header.Add("Authorization", junk)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := send(""); s != http.StatusOK {
		t.Fatalf("first request: %d", s)
	}
	for i := range 3 {
		if s := send("junk-" + strconv.Itoa(i)); s != http.StatusTooManyRequests {
			t.Fatalf("repeated Authorization with junk %d: %d, want 429 (the same key)", i, s)
		}
	}
}

// TestRateLimitConcurrentFullTable: a concurrent zone whose key table is
// full of keys with requests in flight refuses new keys rather than
// dropping a key in flight (which would then get a second slot).
func TestRateLimitConcurrentFullTable(t *testing.T) {
	release := make(chan struct{})
	var held atomic.Int64
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.Header.Get("X-Key") == "victim" {
			held.Add(1)
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		io.WriteString(w, "{}")
	})
	var once sync.Once
	stop := func() { once.Do(func() { close(release) }) }
	t.Cleanup(stop) // before the upstream closes, which waits for its handlers
	p := startCaddy(t, `
http://{SITE} {
	rag_rate_limit {
		zone inflight {
			key {http.request.header.X-Key}
			concurrent 1
			max_keys 64
		}
	}
	reverse_proxy `+up+`
}`)
	full := p.counter("ragproxy_ratelimit_full_total", `zone="inflight"`)
	done := make(chan int)
	go func() {
		resp, _ := askAs(t, p, "victim")
		done <- resp.StatusCode
	}()
	eventually(t, "the victim's request upstream", func() bool { return held.Load() == 1 })
	// 64 shards of one key each: of 1,000 new keys, some land in the
	// victim's shard (all but certainly: (63/64)^1000 < 1e-6).
	refused := 0
	for i := range 1000 {
		resp, _ := askAs(t, p, "k"+strconv.Itoa(i))
		if resp.StatusCode == http.StatusTooManyRequests {
			refused++
		}
	}
	// The second request of the victim must be refused at once; one that
	// got a slot would wait upstream until release.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.URL+"/v1/chat/completions", strings.NewReader(chatBody("hi", false)))
	req.Header.Set("X-Key", "victim")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("the victim's second request while one is in flight went upstream (%v, %d held), want 429", err, held.Load())
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the victim's second request while one is in flight: %d, want 429", resp.StatusCode)
	}
	if refused == 0 || full() != float64(refused) {
		t.Fatalf("%d new keys refused, ragproxy_ratelimit_full_total grew %v", refused, full())
	}
	stop()
	if s := <-done; s != http.StatusOK {
		t.Fatalf("the victim's first request: %d", s)
	}
	if resp, _ := askAs(t, p, "k-after"); resp.StatusCode != http.StatusOK {
		t.Fatalf("a new key once nothing is in flight: %d", resp.StatusCode)
	}
}
