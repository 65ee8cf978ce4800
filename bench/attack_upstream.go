package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ragproxy/ragproxy/internal/pytruth"
)

// The attack upstream: an LLM-shaped server on loopback whose every answer
// says who asked (the label the attack client attached, plus a fingerprint
// of the credentials, selector headers and body it saw), and which spends a
// known number of tokens per answer. The attack client tells it, per
// request, how to misbehave (X-Attack-Mode); rag_cache never keys on that
// header, exactly as it would not key on whatever makes a real upstream
// answer an error, a partial or a poisoned stream now and then.
const (
	hdrLabel    = "X-Attack-Label"    // request: the caller's label; answer: the label of the request that produced it
	hdrMode     = "X-Attack-Mode"     // request: how the upstream answers
	hdrHold     = "X-Attack-Hold"     // request: hold the answer until this group is released
	hdrUpstream = "X-Attack-Upstream" // answer: set by the upstream on every answer (tells its 5xx from ours)
	hdrApology  = "X-Attack-Apology"  // answer: set by the static fallback tier
	hdrFP       = "X-Attack-Fingerprint"
	hdrConcKey  = "X-Conc-Key" // the concurrent zone's key
	hdrRateKey  = "X-Rate-Key" // the rate zone's key

	tokensPerAnswer = 1000 // usage.total_tokens of every answer
	answerPad       = 4200 // bytes of text per answer: about tokensPerAnswer tokens at 4 bytes a token
)

// labelMarker brackets the label inside answer bodies, so a label is found
// in JSON, SSE and partial bodies alike.
const labelOpen, labelClose = "@@L:", ":L@@"

type attackUpstream struct {
	srv *httptest.Server

	mu       sync.Mutex
	billed   map[string]int // hour window + first Authorization value → answers billed
	rateSeen map[string]int // first X-Rate-Key value → requests that reached the upstream
	inflight map[string]int // X-Conc-Key → requests in flight now
	overConc map[string]int // X-Conc-Key → times it was seen with more than one in flight
	holds    map[string]chan struct{}
	requests int
	// hugeFast counts huge answers written completely within a second: a
	// slow-reader attack that did not stall the proxy proves nothing.
	hugeFast int
}

func startAttackUpstream() *attackUpstream {
	u := &attackUpstream{
		billed:   map[string]int{},
		rateSeen: map[string]int{},
		inflight: map[string]int{},
		overConc: map[string]int{},
		holds:    map[string]chan struct{}{},
	}
	u.srv = httptest.NewServer(http.HandlerFunc(u.serve))
	return u
}

func (u *attackUpstream) addr() string { return strings.TrimPrefix(u.srv.URL, "http://") }

func billKey(auth string, at time.Time) string {
	return at.UTC().Truncate(time.Hour).Format(time.RFC3339) + "|" + auth
}

// answersBilled is how many answers the upstream billed to the token zone
// key auth (the first Authorization value, as the upstream reads it) in the
// current or the previous hour window, whichever has more: a run that
// crosses the hour is allowed one answer per window.
func (u *attackUpstream) answersBilled(auth string) int {
	now := time.Now()
	u.mu.Lock()
	defer u.mu.Unlock()
	return max(u.billed[billKey(auth, now)], u.billed[billKey(auth, now.Add(-time.Hour))])
}

func (u *attackUpstream) rateCount(key string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.rateSeen[key]
}

func (u *attackUpstream) concStats(prefix string) (inflight, over int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for k, n := range u.inflight {
		if strings.HasPrefix(k, prefix) {
			inflight += n
		}
	}
	for k, n := range u.overConc {
		if strings.HasPrefix(k, prefix) {
			over += n
		}
	}
	return inflight, over
}

func (u *attackUpstream) holdChan(group string) chan struct{} {
	u.mu.Lock()
	defer u.mu.Unlock()
	ch, ok := u.holds[group]
	if !ok {
		ch = make(chan struct{})
		u.holds[group] = ch
	}
	return ch
}

func (u *attackUpstream) release(group string) { close(u.holdChan(group)) }

// fingerprint hashes what tells callers apart and what selects an answer:
// every credential header, cookies, identity headers, the project and
// version headers, Accept, and the exact body.
func fingerprint(r *http.Request, body []byte) string {
	h := sha256.New()
	for _, name := range []string{"Authorization", "Proxy-Authorization", "X-Api-Key", "Api-Key", "X-Goog-Api-Key",
		"Cookie", "X-Auth-User", "Openai-Project", "Openai-Organization", "Anthropic-Version", "Anthropic-Beta", "Accept"} {
		for _, v := range r.Header.Values(name) {
			fmt.Fprintf(h, "%s:%d:%s\n", name, len(v), v)
		}
	}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		h.Write(r.TLS.PeerCertificates[0].Raw)
	}
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil)[:8])
}

var bigFiller = strings.Repeat("0123456789abcdef", 64<<10) // 1 MiB

func (u *attackUpstream) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(hdrUpstream, "1")
	label := r.Header.Get(hdrLabel)
	w.Header().Set(hdrLabel, label)
	mode := r.Header.Get(hdrMode)
	auth := r.Header.Get("Authorization")

	u.mu.Lock()
	u.requests++
	if k := r.Header.Get(hdrRateKey); k != "" {
		u.rateSeen[k]++
	}
	conc := r.Header.Get(hdrConcKey)
	if conc != "" {
		u.inflight[conc]++
		if u.inflight[conc] > 1 {
			u.overConc[conc]++
		}
	}
	u.mu.Unlock()
	if conc != "" {
		defer func() {
			u.mu.Lock()
			u.inflight[conc]--
			u.mu.Unlock()
		}()
	}

	var body []byte
	if mode == "drain" {
		n, _ := io.Copy(io.Discard, r.Body)
		body = []byte(strconv.FormatInt(n, 10))
	} else {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
	}
	w.Header().Set(hdrFP, fingerprint(r, body))

	if g := r.Header.Get(hdrHold); g != "" {
		select {
		case <-u.holdChan(g):
		case <-time.After(20 * time.Second):
		case <-r.Context().Done():
			return
		}
	}

	switch mode {
	case "429":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"error":{"message":"quota exceeded for this key","type":"requests","code":"rate_limit_exceeded"}}`)
		return
	case "huge":
		// A long answer for the slow-reader attack: 32 MiB of JSON, written
		// from one shared buffer.
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"label":"`+labelOpen+label+labelClose+`","pad":"`)
		start := time.Now()
		for range 32 {
			if _, err := io.WriteString(w, bigFiller); err != nil {
				return
			}
		}
		if time.Since(start) < time.Second {
			u.mu.Lock()
			u.hugeFast++
			u.mu.Unlock()
		}
		io.WriteString(w, `","usage":{"prompt_tokens":10,"completion_tokens":990,"total_tokens":1000}}`)
		u.bill(auth)
		return
	}

	var req map[string]any
	if r.Method == http.MethodPost && mode != "drain" {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber() // 1e999999 and 400-digit integers are numbers too
		if err := dec.Decode(&req); err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":{"message":"upstream: invalid JSON body","type":"invalid_request_error"}}`)
			return
		}
	}
	stream := pytruth.Of(req["stream"])
	includeUsage := false
	if so, ok := req["stream_options"].(map[string]any); ok {
		includeUsage = pytruth.Of(so["include_usage"])
	}

	switch mode {
	case "xcache":
		w.Header().Set("X-Cache", "HIT")
	case "private":
		w.Header().Set("Cache-Control", "private")
	case "vary-star":
		w.Header().Set("Vary", "*")
	case "vary-lang":
		w.Header().Set("Vary", "Accept-Language")
	case "vary-accept":
		w.Header().Set("Vary", "Accept")
	}
	// With no Vary (accept-novary), the answer still depends on Accept:
	// the cache must key on Accept itself.
	if (mode == "vary-accept" || mode == "accept-novary") && strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		stream = true
	}

	// Partial answers to Range requests.
	if rg := r.Header.Get("Range"); rg != "" && r.Method == http.MethodGet {
		full := `{"label":"` + labelOpen + label + labelClose + `"}`
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Range", fmt.Sprintf("bytes 0-%d/%d", len(full)-1, len(full)+100))
		w.WriteHeader(http.StatusPartialContent)
		io.WriteString(w, full)
		return
	}

	var out io.Writer = w
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Del("Content-Length")
		gz := gzip.NewWriter(w)
		defer gz.Close()
		out = gz
	}
	flush := func() {
		if gz, ok := out.(*gzip.Writer); ok {
			gz.Flush()
		}
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	text := labelOpen + label + labelClose + " " + bigFiller[:answerPad]
	if stream {
		u.bill(auth)
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		u.writeStream(out, flush, r.URL.Path, mode, text, includeUsage)
		return
	}

	w.Header().Set("Content-Type", "application/json")
	if r.Method == http.MethodPost {
		u.bill(auth)
	}
	usage := `{"prompt_tokens":10,"completion_tokens":990,"total_tokens":1000}`
	switch {
	case strings.HasSuffix(r.URL.Path, "/messages"):
		fmt.Fprintf(out, `{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text","text":%q}],"usage":{"input_tokens":10,"output_tokens":990}}`, text)
	case strings.HasSuffix(r.URL.Path, "/responses"):
		fmt.Fprintf(out, `{"id":"resp_1","object":"response","status":"completed","output":[{"type":"message","content":[{"type":"output_text","text":%q}]}],"usage":{"input_tokens":10,"output_tokens":990,"total_tokens":1000}}`, text)
	case mode == "big":
		// Over 4 MiB before the usage object, as logprobs or n>1 make it.
		fmt.Fprintf(out, `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":%q},"logprobs":{"pad":"`, text)
		for range 5 {
			io.WriteString(out, bigFiller)
		}
		io.WriteString(out, `"},"finish_reason":"stop"}],"usage":`+usage+`}`)
	default:
		fmt.Fprintf(out, `{"id":"chatcmpl-1","object":"chat.completion","label":%q,"choices":[{"index":0,"message":{"role":"assistant","content":%q},"finish_reason":"stop"}],"usage":%s}`,
			label, text, usage)
	}
}

func (u *attackUpstream) bill(auth string) {
	if auth == "" {
		return
	}
	u.mu.Lock()
	u.billed[billKey(auth, time.Now())]++
	u.mu.Unlock()
}

// writeStream writes the SSE answer of the API at path: text in a few
// events, the usage event when the API reports it (OpenAI chat and legacy
// completions only when include_usage was asked), then the terminal event.
// Modes: sse-error (an in-band error event before the end), sse-noterm (no
// terminal event), cut (the connection breaks before usage and the end).
func (u *attackUpstream) writeStream(out io.Writer, flush func(), path, mode, text string, includeUsage bool) {
	const parts = 6
	step := (len(text) + parts - 1) / parts
	chunks := make([]string, 0, parts)
	for i := 0; i < len(text); i += step {
		chunks = append(chunks, text[i:min(i+step, len(text))])
	}
	ev := func(event, data string) {
		if event != "" {
			io.WriteString(out, "event: "+event+"\n")
		}
		io.WriteString(out, "data: "+data+"\n\n")
		flush()
	}
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	switch {
	case strings.HasSuffix(path, "/messages"):
		ev("message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"usage":{"input_tokens":10,"output_tokens":1}}}`)
		ev("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
		for i, c := range chunks {
			ev("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":`+q(c)+`}}`)
			if i == 1 && mode == "sse-error" {
				ev("error", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)
			}
			if i == 1 && mode == "cut" {
				panic(http.ErrAbortHandler)
			}
		}
		ev("content_block_stop", `{"type":"content_block_stop","index":0}`)
		ev("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":990}}`)
		if mode != "sse-noterm" {
			ev("message_stop", `{"type":"message_stop"}`)
		}
	case strings.HasSuffix(path, "/responses"):
		ev("response.created", `{"type":"response.created","response":{"id":"resp_1","status":"in_progress"}}`)
		for i, c := range chunks {
			ev("response.output_text.delta", `{"type":"response.output_text.delta","delta":`+q(c)+`}`)
			if i == 1 && mode == "sse-error" {
				ev("response.failed", `{"type":"response.failed","response":{"id":"resp_1","status":"failed","error":{"code":"server_error","message":"failed"}}}`)
				return
			}
			if i == 1 && mode == "cut" {
				panic(http.ErrAbortHandler)
			}
		}
		if mode != "sse-noterm" {
			ev("response.completed", `{"type":"response.completed","response":{"id":"resp_1","status":"completed","usage":{"input_tokens":10,"output_tokens":990,"total_tokens":1000}}}`)
		}
	default: // OpenAI chat and legacy completions
		legacy := strings.HasSuffix(path, "/completions") && !strings.HasSuffix(path, "/chat/completions")
		for i, c := range chunks {
			if legacy {
				ev("", `{"id":"cmpl-1","object":"text_completion","choices":[{"index":0,"text":`+q(c)+`,"finish_reason":null}]}`)
			} else {
				ev("", `{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":`+q(c)+`},"finish_reason":null}]}`)
			}
			if i == 1 && mode == "sse-error" {
				ev("", `{"error":{"message":"The server is overloaded","type":"server_error","code":"overloaded"}}`)
			}
			if i == 1 && mode == "cut" {
				panic(http.ErrAbortHandler)
			}
		}
		if includeUsage {
			ev("", `{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":990,"total_tokens":1000}}`)
		}
		if mode != "sse-noterm" {
			ev("", "[DONE]")
		}
	}
}
