package caddymodule_test

import (
	"bufio"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// abortUpstream streams an answer whose usage comes before its end. On
// /leave it then waits for the client to go away (as a user pressing stop
// does, or an OpenAI SDK that closes the stream at [DONE]); on /break it
// drops the connection mid-answer; anything else is a complete answer.
func abortUpstream(t *testing.T) string {
	return startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}],\"usage\":null}\n\n")
		fmt.Fprint(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":3,\"total_tokens\":7}}\n\n")
		w.(http.Flusher).Flush()
		switch r.URL.Path {
		case "/leave":
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
			return
		case "/break":
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		fmt.Fprint(w, "data: [DONE]\n\n")
	})
}

// readStream reads a streamed answer. With leaveAtUsage the client hangs
// up at the usage event; without it the client stays until the stream
// ends, however it ends, so a broken upstream is never mistaken for a
// client that left.
func readStream(t *testing.T, url string, leaveAtUsage bool, header ...string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(chatBody("stream", true)))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sawUsage := false
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"total_tokens"`) {
			sawUsage = true
			if leaveAtUsage {
				return
			}
		}
	}
	if !sawUsage {
		t.Fatalf("no usage event in the stream: %v", sc.Err())
	}
}

// TestAbortedAnswersAreCounted checks that an answer reverse_proxy aborts
// (it panics with http.ErrAbortHandler) is still debited from token zones
// and counted by rag_split: not as an error when the client left, as one
// when the upstream broke.
func TestAbortedAnswersAreCounted(t *testing.T) {
	up := abortUpstream(t)
	p := startCaddy(t, `
http://{SITE} {
	rag_rate_limit {
		zone abort_team {
			key {http.request.header.X-Team}
			tokens 1000/h
		}
	}
	rag_split aborts {
		variant only 1
	}
	reverse_proxy `+up+`
}`)
	// Metrics are process-wide: count from here.
	before := max(p.metricValue("ragproxy_ratelimit_tokens_total", `zone="abort_team"`), 0)
	// Each answer is settled once its handler has unwound, which may be
	// just after the client is done; until then its reservation (more
	// than this budget) holds the key, so the next request waits for it.
	readStream(t, p.URL+"/leave", true, "X-Team", "red")
	eventually(t, "the answer the client left to be debited", func() bool {
		return p.metricValue("ragproxy_ratelimit_tokens_total", `zone="abort_team"`)-before == 7
	})
	readStream(t, p.URL+"/break", false, "X-Team", "red")
	eventually(t, "both aborted answers to be debited", func() bool {
		return p.metricValue("ragproxy_ratelimit_tokens_total", `zone="abort_team"`)-before == 14
	})
	if resp, _ := post(t, p.URL+"/complete", chatBody("stream", true), "X-Team", "red"); resp.Header.Get("RateLimit-Remaining") != "986" {
		t.Fatalf("remaining %q, want 986 (1000 less two answers of 7 tokens)", resp.Header.Get("RateLimit-Remaining"))
	}
	eventually(t, "rag_split to count all three answers", func() bool {
		return p.experiment("aborts").Variants[0].Requests == 3
	})
	if v := p.experiment("aborts").Variants[0]; v.Errors != 1 || v.Tokens.Total != 21 {
		t.Fatalf("report: %d requests, %d errors, %d tokens; want the broken answer as the one error, 7 tokens each",
			v.Requests, v.Errors, v.Tokens.Total)
	}
}
