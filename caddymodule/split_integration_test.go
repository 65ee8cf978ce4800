package caddymodule_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/ragproxy/ragproxy/internal/mockupstream"
)

// variantUpstream answers as the named variant would: its name, the
// request id it was given, and a usage block of tokens tokens. Every
// failEvery-th call fails with 500; each answer takes delay.
func variantUpstream(t *testing.T, name string, tokens int, failEvery int64, delay time.Duration) string {
	var calls atomic.Int64
	return startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		time.Sleep(delay) // the variant's own latency
		w.Header().Set("Content-Type", "application/json")
		if failEvery > 0 && n%failEvery == 0 {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"error":{"message":"boom"}}`)
			return
		}
		fmt.Fprintf(w, `{"served_by":%q,"request_id":%q,"usage":{"prompt_tokens":1,"completion_tokens":%d,"total_tokens":%d}}`,
			name, r.Header.Get("X-Request-ID"), tokens-1, tokens)
	})
}

const splitCaddyfile = `
http://{SITE} {
	handle /feedback {
		rag_feedback exp1
	}
	handle {
		rag_split exp1 {
			sticky {http.request.header.X-User-ID}
			variant control 80
			variant treatment 20
		}
		@treatment vars {rag.variant} treatment
		reverse_proxy @treatment {TREATMENT}
		reverse_proxy {CONTROL}
	}
}`

func startSplit(t *testing.T, control, treatment string) *proxy {
	return startCaddy(t, strings.NewReplacer("{CONTROL}", control, "{TREATMENT}", treatment).Replace(splitCaddyfile))
}

// served is what a variantUpstream answered.
type served struct {
	status    int
	variant   string // X-RAG-Variant
	by        string // the upstream that answered
	requestID string // X-Request-ID
	seenID    string // the id the upstream was given
}

func askSplit(t *testing.T, p *proxy, header ...string) served {
	t.Helper()
	resp, body := post(t, p.URL+"/v1/chat/completions", chatBody("which variant?", false), header...)
	s := served{status: resp.StatusCode, variant: resp.Header.Get("X-RAG-Variant"), requestID: resp.Header.Get("X-Request-ID")}
	var a struct {
		ServedBy  string `json:"served_by"`
		RequestID string `json:"request_id"`
	}
	if json.Unmarshal([]byte(body), &a) == nil {
		s.by, s.seenID = a.ServedBy, a.RequestID
	}
	return s
}

func TestSplitWeightsAndRouting(t *testing.T) {
	p := startSplit(t, variantUpstream(t, "control", 10, 0, 0), variantUpstream(t, "treatment", 10, 0, 0))
	const n = 2000
	treatment := 0
	for i := range n {
		header := []string{}
		if i%2 == 0 { // half sticky users, half anonymous (random)
			header = []string{"X-User-ID", "user-" + strconv.Itoa(i)}
		}
		s := askSplit(t, p, header...)
		if s.status != http.StatusOK || s.by != s.variant {
			t.Fatalf("request %d: status %d, variant %q served by %q", i, s.status, s.variant, s.by)
		}
		if s.variant == "treatment" {
			treatment++
		}
	}
	// Binomial(2000, 0.2): mean 400, sd 17.9; allow 4.5 sd.
	if math.Abs(float64(treatment)-400) > 4.5*math.Sqrt(n*0.2*0.8) {
		t.Fatalf("treatment got %d of %d, want about 400", treatment, n)
	}
}

func TestSplitStickyOverrideAndRequestID(t *testing.T) {
	control, treatment := variantUpstream(t, "control", 10, 0, 0), variantUpstream(t, "treatment", 10, 0, 0)
	p := startSplit(t, control, treatment)
	first := map[string]string{}
	for u := range 50 {
		user := "user-" + strconv.Itoa(u)
		first[user] = askSplit(t, p, "X-User-ID", user).variant
		for range 3 {
			if v := askSplit(t, p, "X-User-ID", user).variant; v != first[user] {
				t.Fatalf("%s moved from %s to %s", user, first[user], v)
			}
		}
	}
	// Another instance (another process) and a reload agree.
	other := startChildCaddy(t, strings.NewReplacer("{CONTROL}", control, "{TREATMENT}", treatment).Replace(splitCaddyfile))
	p.reload()
	for user, v := range first {
		if got := askSplit(t, other, "X-User-ID", user).variant; got != v {
			t.Fatalf("%s: %s on one instance, %s on another", user, v, got)
		}
		if got := askSplit(t, p, "X-User-ID", user).variant; got != v {
			t.Fatalf("%s: %s before a reload, %s after", user, v, got)
		}
	}
	// The override header, once configured, forces a variant; an unknown
	// name is ignored.
	p = startCaddy(t, strings.NewReplacer("{CONTROL}", control, "{TREATMENT}", treatment).Replace(
		strings.Replace(splitCaddyfile, "variant treatment 20", "variant treatment 20\n\t\t\toverride_header X-RAG-Variant", 1)))
	for _, user := range []string{"user-1", "user-2", "user-3"} {
		if s := askSplit(t, p, "X-User-ID", user, "X-RAG-Variant", "treatment"); s.variant != "treatment" || s.by != "treatment" {
			t.Fatalf("override: variant %q served by %q", s.variant, s.by)
		}
		if s := askSplit(t, p, "X-User-ID", user, "X-RAG-Variant", "nonsense"); s.variant != first[user] {
			t.Fatalf("unknown override moved %s to %s", user, s.variant)
		}
	}
	// Every answer has a new request id, whatever the caller sent (see
	// TestSplitIgnoresClientRequestID), and the upstream gets the same.
	for _, sent := range []string{"", "trace-abc-123", "bad id\twith spaces"} {
		s := askSplit(t, p, "X-Request-ID", sent)
		if !issuedID.MatchString(s.requestID) || s.seenID != s.requestID {
			t.Fatalf("sent %q: answer id %q, upstream saw %q", sent, s.requestID, s.seenID)
		}
	}
}

// TestSplitAccessLog checks the variant and request id reach the access
// log as top-level fields, and the placeholders reach the upstream.
func TestSplitAccessLog(t *testing.T) {
	upstream, seen := newHeaderEchoUpstream(t, "X-Seen")
	logDirective, logFile := accessLog(t)
	p := startCaddy(t, `http://{SITE} {
	`+logDirective+`
	rag_split logged {
		variant only 1
	}
	reverse_proxy `+upstream+` {
		header_up X-Seen "{rag.variant} {rag.request_id}"
	}
}`)
	resp, _ := post(t, p.URL+"/x", `{}`)
	id := resp.Header.Get("X-Request-ID")
	if got := seen(); got != "only "+id {
		t.Errorf("upstream saw {rag.variant} {rag.request_id} = %q, want %q", got, "only "+id)
	}
	eventually(t, "the access log line with rag_variant and rag_request_id", func() bool {
		b, _ := os.ReadFile(logFile)
		for line := range strings.SplitSeq(string(b), "\n") {
			var entry map[string]any
			if json.Unmarshal([]byte(line), &entry) == nil && entry["rag_request_id"] == id {
				if entry["rag_variant"] != "only" {
					t.Fatalf("log line %s: rag_variant %v, want only", line, entry["rag_variant"])
				}
				return true
			}
		}
		return false
	})
}

func sendFeedback(t *testing.T, p *proxy, body string) (int, string) {
	t.Helper()
	return sendFeedbackTo(t, p, "/feedback", body)
}

func sendFeedbackTo(t *testing.T, p *proxy, path, body string) (int, string) {
	t.Helper()
	resp, b := post(t, p.URL+path, body)
	return resp.StatusCode, b
}

func TestFeedbackErrors(t *testing.T) {
	p := startSplit(t, variantUpstream(t, "control", 10, 0, 0), variantUpstream(t, "treatment", 10, 0, 0))
	id := askSplit(t, p).requestID
	for _, c := range []struct {
		body string
		code int
		want string
	}{
		{`not json`, 400, "invalid_json"},
		{`{"request_id": "` + id + `", "score": "good"}`, 400, "invalid_score"},
		{`{"request_id": "` + id + `", "score": 1e308}`, 400, "invalid_score"},
		{`{"request_id": "bad id", "score": 1}`, 400, "unknown_request_id"},
		{`{"request_id": "` + id + `", "score": 1, "extra": 2}`, 400, "invalid_json"},
		{`{"request_id": "` + id + `"} {}`, 400, "invalid_json"},
		{`{"score": 1}`, 400, "missing_request_id"},
		{`{"request_id": "` + id + `"}`, 400, "missing_score"},
		{`{"request_id": "no-such-request", "score": 1}`, 400, "unknown_request_id"},
		{`{"request_id": "` + id + `", "score": 1}`, 200, `"variant"`},
		{`{"request_id": "` + id + `", "score": 0}`, 409, "duplicate_feedback"},
		{`{"request_id": "x", "score": 1` + strings.Repeat(" ", 70<<10) + `}`, 413, "request_too_large"},
	} {
		code, body := sendFeedback(t, p, c.body)
		if code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%.60q: %d %s, want %d with %q", c.body, code, body, c.code, c.want)
		}
	}
	if code, _ := get(t, p.URL+"/feedback"); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /feedback: %d, want 405", code)
	}
}

// TestSplitOverrideHeaderSetting checks the override header is off by
// default (finding 9: any client could pick its variant, and with its own
// request id score it), honoured once configured (matched whatever its
// case), and off when set so.
func TestSplitOverrideHeaderSetting(t *testing.T) {
	control, treatment := variantUpstream(t, "control", 10, 0, 0), variantUpstream(t, "treatment", 10, 0, 0)
	for _, c := range []struct {
		setting, header string
		forced          bool
	}{
		{"", "X-RAG-Variant", false}, // the default
		{"X-RAG-Variant", "x-rag-variant", true},
		{"x-force-arm", "X-Force-Arm", true},
		{"off", "X-RAG-Variant", false},
	} {
		cf := splitCaddyfile
		if c.setting != "" {
			cf = strings.Replace(cf, "variant treatment 20", "variant treatment 20\n\t\t\toverride_header "+c.setting, 1)
		}
		cf = strings.Replace(cf, "variant control 80", "variant control 1000000", 1)
		cf = strings.Replace(cf, "variant treatment 20", "variant treatment 1", 1)
		p := startCaddy(t, strings.NewReplacer("{CONTROL}", control, "{TREATMENT}", treatment).Replace(cf))
		s := askSplit(t, p, c.header, "treatment")
		if got := s.variant == "treatment" && s.by == "treatment"; got != c.forced {
			t.Fatalf("override_header %s, %s: treatment: variant %q served by %q", c.setting, c.header, s.variant, s.by)
		}
	}
}

// TestSplitWithOpenAIClient goes through rag_split with the OpenAI client:
// plain and streamed answers carry the variant and the request id, the
// id takes feedback, and the report counts the tokens the client was told
// about (a stream's from its final usage chunk).
func TestSplitWithOpenAIClient(t *testing.T) {
	_, mock := startMock(t, mockupstream.Options{})
	p := startCaddy(t, `
http://{SITE} {
	handle /feedback {
		rag_feedback sdk
	}
	handle {
		rag_split sdk {
			sticky {http.request.header.Authorization}
			variant control 50
			variant treatment 50
		}
		reverse_proxy `+mock+`
	}
}`)
	ctx := context.Background()
	tokens := map[string]int64{}
	requests := map[string]int64{}
	for i := range 20 {
		client := newClient(p, fmt.Sprintf("sk-user-%d", i))
		var resp *http.Response
		var variant, id string
		if i%2 == 0 {
			answer, err := client.Chat.Completions.New(ctx, chatParams(fmt.Sprint("question ", i)), option.WithResponseInto(&resp))
			if err != nil {
				t.Fatal(err)
			}
			variant, id = resp.Header.Get("X-RAG-Variant"), resp.Header.Get("X-Request-ID")
			tokens[variant] += answer.Usage.TotalTokens
		} else {
			stream := client.Chat.Completions.NewStreaming(ctx, chatParams(fmt.Sprint("question ", i)), option.WithResponseInto(&resp))
			var acc openai.ChatCompletionAccumulator
			for stream.Next() {
				acc.AddChunk(stream.Current())
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			variant, id = resp.Header.Get("X-RAG-Variant"), resp.Header.Get("X-Request-ID")
			if acc.Usage.TotalTokens == 0 {
				t.Fatal("the stream reported no usage")
			}
			tokens[variant] += acc.Usage.TotalTokens
		}
		if variant != "control" && variant != "treatment" || id == "" {
			t.Fatalf("answer %d: variant %q, id %q", i, variant, id)
		}
		requests[variant]++
		if code, body := sendFeedback(t, p, fmt.Sprintf(`{"request_id":%q,"score":1}`, id)); code != http.StatusOK {
			t.Fatalf("feedback on %s: %d %s", id, code, body)
		}
	}
	// An answer is counted once its handler returns, which can be just
	// after the client has read it.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		diff := ""
		for _, v := range p.experiment("sdk").Variants {
			if v.Requests != requests[v.Name] || v.Tokens.Total != tokens[v.Name] || v.Feedback.Count != requests[v.Name] {
				diff += fmt.Sprintf("%s: report %d requests, %d tokens, %d scores; the client saw %d requests, %d tokens. ",
					v.Name, v.Requests, v.Tokens.Total, v.Feedback.Count, requests[v.Name], tokens[v.Name])
			}
		}
		if diff == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(diff)
		}
	}
}
