package caddymodule_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/ragproxy/ragproxy/internal/mockupstream"
	"github.com/ragproxy/ragproxy/internal/redistest"
)

// askAs posts a chat question with the given X-Key and returns the status.
func askAs(t *testing.T, p *proxy, key string) (*http.Response, string) {
	t.Helper()
	return post(t, p.URL+"/v1/chat/completions", chatBody("hello there", false), "X-Key", key)
}

func TestRateLimitBurstThenSteady(t *testing.T) {
	_, mock := startMock(t, mockupstream.Options{})
	p := startCaddy(t, `
http://{SITE} {
	rag_rate_limit {
		zone per_key {
			key {http.request.header.X-Key}
			rate 20/s
			burst 5
		}
	}
	reverse_proxy `+mock+`
}`)
	const interval = 50 * time.Millisecond
	// The burst: as fast as we can, then no more until time passes.
	start := time.Now()
	allowed := 0
	for range 10 {
		if resp, _ := askAs(t, p, "alice"); resp.StatusCode == http.StatusOK {
			allowed++
		}
	}
	grace := int(time.Since(start) / interval) // time the burst itself took
	if allowed < 5 || allowed > 5+grace+1 {
		t.Fatalf("burst: %d allowed, want 5 (+%d for the time it took)", allowed, grace)
	}
	// Keys are independent: bob has his own burst.
	if resp, _ := askAs(t, p, "bob"); resp.StatusCode != http.StatusOK {
		t.Fatalf("bob refused while alice was limited: %d", resp.StatusCode)
	}
	// Steady: asking every 10ms for a second lets one through per interval.
	steadyStart := time.Now()
	steady := 0
	for time.Since(steadyStart) < time.Second {
		if resp, _ := askAs(t, p, "alice"); resp.StatusCode == http.StatusOK {
			steady++
		}
		time.Sleep(10 * time.Millisecond) // pacing, not waiting for readiness
	}
	want := float64(time.Since(steadyStart)) / float64(interval)
	if float64(steady) < want-3 || float64(steady) > want+2 {
		t.Fatalf("steady: %d allowed in %v, want about %.1f", steady, time.Since(steadyStart), want)
	}
}

func TestRateLimitRefusal(t *testing.T) {
	_, mock := startMock(t, mockupstream.Options{})
	p := startCaddy(t, `
http://{SITE} {
	rag_rate_limit {
		zone per_key {
			key {http.request.header.Authorization}
			rate 2/h
		}
	}
	reverse_proxy `+mock+`
}`)
	client := newClient(p, "sk-alice")
	ctx := context.Background()
	var resp *http.Response
	for i := range 2 {
		if _, err := client.Chat.Completions.New(ctx, chatParams("hi"), option.WithResponseInto(&resp)); err != nil {
			t.Fatal(err)
		}
		h := resp.Header
		if h.Get("RateLimit-Limit") != "2" || h.Get("RateLimit-Remaining") != strconv.Itoa(1-i) || h.Get("RateLimit-Reset") == "" {
			t.Fatalf("allowed answer %d headers: %v", i, h)
		}
	}
	_, err := client.Chat.Completions.New(ctx, chatParams("hi"), option.WithResponseInto(&resp))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third request: %v, want a 429 API error", err)
	}
	if apiErr.Code != "rate_limit_exceeded" || apiErr.Type != "requests" || !strings.Contains(apiErr.Message, `"per_key"`) {
		t.Fatalf("error %+v", apiErr)
	}
	h := apiErr.Response.Header
	retry, _ := strconv.Atoi(h.Get("Retry-After"))
	if retry < 1790 || retry > 1800 || h.Get("RateLimit-Limit") != "2" || h.Get("RateLimit-Remaining") != "0" {
		t.Fatalf("429 headers: %v", h)
	}
	if ct := h.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("429 content type %q", ct)
	}
	// An empty key is not limited.
	for range 3 {
		if resp, _ := post(t, p.URL+"/v1/chat/completions", chatBody("hi", false)); resp.StatusCode != http.StatusOK || resp.Header.Get("RateLimit-Limit") != "" {
			t.Fatalf("keyless request: %d %v", resp.StatusCode, resp.Header)
		}
	}
	// The state outlives a config reload.
	p.reload()
	if resp, body := post(t, p.URL+"/v1/chat/completions", chatBody("hi", false), "Authorization", "Bearer sk-alice"); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after reload: %d %s, want 429", resp.StatusCode, body)
	}
	if got := p.metricValue("ragproxy_ratelimit_keys", `zone="per_key"`); got != 1 {
		t.Fatalf("ragproxy_ratelimit_keys %v, want 1", got)
	}
}

// tokensOf reads the usage of a JSON chat answer.
func tokensOf(t *testing.T, body string) int {
	t.Helper()
	var a struct {
		Usage struct {
			Total int `json:"total_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal([]byte(body), &a); err != nil || a.Usage.Total == 0 {
		t.Fatalf("no usage in %s: %v", body, err)
	}
	return a.Usage.Total
}

func TestRateLimitTokenBudget(t *testing.T) {
	_, mock := startMock(t, mockupstream.Options{})
	const window = 3 * time.Second
	p := startCaddy(t, `
http://{SITE} {
	rag_rate_limit {
		zone team {
			key {http.request.header.X-Team}
			tokens 20/3s
		}
	}
	rag_cache {
		scope shared
	}
	reverse_proxy `+mock+`
}`)
	url := p.URL + "/v1/chat/completions"
	spent := p.counter("ragproxy_ratelimit_tokens_total", `zone="team"`)
	// Budget windows are aligned to the clock: a run starts early in one
	// so its requests all fall in it. On a loaded machine a run can still
	// reach the next window before its over-budget request; such a run
	// proves nothing, and another starts, with new questions and team.
	for attempt := 1; ; attempt++ {
		if budgetRun(t, url, spent, window, strconv.Itoa(attempt)) {
			break
		}
		if attempt == 3 {
			t.Fatalf("3 runs reached the next window before spending the budget")
		}
		t.Logf("run %d crossed into the next window: again", attempt)
	}
}

// budgetRun is one run of TestRateLimitTokenBudget in one window, its
// questions and teams suffixed with run; false means the window ended
// before the over-budget request, so the run shows nothing.
func budgetRun(t *testing.T, url string, spent func() float64, window time.Duration, run string) bool {
	t.Helper()
	for time.Now().UnixNano()%int64(window) > int64(window)/4 {
		time.Sleep(20 * time.Millisecond)
	}
	windowEnd := time.Now().Truncate(window).Add(window)
	red, blue := "red"+run, "blue"+run
	q := func(s string) string { return s + run } // one word longer would cost a token more
	// An answer's reservation is settled just after its last byte is
	// sent: wait for that before the next request of the team.
	before := spent()
	settled := func(want int) {
		t.Helper()
		eventually(t, "the answer to be settled", func() bool { return spent()-before == float64(want) })
	}
	// A request just after another may find its reservation not yet
	// settled (a 429, which costs nothing): try again.
	allowed := func(body string) (resp *http.Response) {
		t.Helper()
		eventually(t, "an answer", func() bool {
			resp, _ = post(t, url, body, "X-Team", red)
			return resp.StatusCode != http.StatusTooManyRequests
		})
		return resp
	}
	resp, body := post(t, url, chatBody(q("first question"), false), "X-Team", red)
	per := tokensOf(t, body)
	settled(per)
	if per*2 >= 20 || per*3 < 20 {
		t.Fatalf("mock answers cost %d tokens; the test wants 3 answers to cross 20", per)
	}
	if resp.Header.Get("RateLimit-Remaining") != "20" {
		t.Fatalf("remaining before any spend: %q", resp.Header.Get("RateLimit-Remaining"))
	}
	// A cache hit costs nothing.
	if resp := allowed(chatBody(q("first question"), false)); resp.Header.Get("X-Cache") != "HIT" ||
		resp.Header.Get("RateLimit-Remaining") != strconv.Itoa(20-per) {
		t.Fatalf("hit: X-Cache %q, remaining %q", resp.Header.Get("X-Cache"), resp.Header.Get("RateLimit-Remaining"))
	}
	// A streamed answer is debited from its final usage event.
	resp = allowed(chatBody(q("second question"), true))
	settled(2 * per)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("RateLimit-Remaining") != strconv.Itoa(20-per) {
		t.Fatalf("stream: %d, remaining %q", resp.StatusCode, resp.Header.Get("RateLimit-Remaining"))
	}
	resp = allowed(chatBody(q("third question"), false))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("third answer (budget not yet spent): %d", resp.StatusCode)
	}
	settled(3 * per)
	resp, body = post(t, url, chatBody(q("fourth question"), false), "X-Team", red)
	if resp.StatusCode == http.StatusOK && !time.Now().Before(windowEnd) {
		return false
	}
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, `"tokens"`) || !strings.Contains(body, `\"team\"`) {
		t.Fatalf("over budget: %d %s", resp.StatusCode, body)
	}
	if retry, _ := strconv.Atoi(resp.Header.Get("Retry-After")); retry < 1 || retry > 3 {
		t.Fatalf("Retry-After %q, want the rest of the window", resp.Header.Get("Retry-After"))
	}
	if resp, _ := post(t, url, chatBody(q("fourth question"), false), "X-Team", blue); resp.StatusCode != http.StatusOK {
		t.Fatalf("another team refused: %d", resp.StatusCode)
	}
	// After the window the team is let through again.
	eventually(t, "the next window", func() bool {
		resp, _ := post(t, url, chatBody(q("fourth question"), false), "X-Team", red)
		return resp.StatusCode == http.StatusOK
	})
	if time.Now().Before(windowEnd) {
		t.Fatalf("let through before the window ended")
	}
	return true
}

func TestRateLimitConcurrent(t *testing.T) {
	release := make(chan struct{})
	upstream, calls := newBlockingUpstream(t, release, http.StatusOK)
	p := startCaddy(t, `
http://{SITE} {
	rag_rate_limit {
		zone inflight {
			key {remote_host}
			concurrent 2
		}
	}
	reverse_proxy `+upstream+`
}`)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if resp, _ := askAs(t, p, ""); resp.StatusCode != http.StatusOK {
				t.Errorf("held request: %d", resp.StatusCode)
			}
		})
	}
	eventually(t, "two requests upstream", func() bool { return calls() == 2 })
	resp, body := askAs(t, p, "")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" || !strings.Contains(body, "inflight") {
		t.Fatalf("third in flight: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	close(release)
	wg.Wait()
	if resp, _ := askAs(t, p, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the others finished: %d", resp.StatusCode)
	}
}

const redisRateCaddyfile = `
http://{SITE} {
	rag_rate_limit {
		redis {REDIS}
		zone per_key {
			key {http.request.header.X-Key}
			rate 1/h
			burst 10
		}
	}
	reverse_proxy {MOCK}
}`

func TestRateLimitRedisSharedByInstances(t *testing.T) {
	srv := redistest.Start(t)
	_, mock := startMock(t, mockupstream.Options{})
	cf := strings.NewReplacer("{REDIS}", srv.URL, "{MOCK}", mock).Replace(redisRateCaddyfile)
	instances := []*proxy{startCaddy(t, cf), startChildCaddy(t, cf)}
	allowed := 0
	for i := range 30 {
		resp, _ := askAs(t, instances[i%2], "shared-key")
		switch resp.StatusCode {
		case http.StatusOK:
			allowed++
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if allowed != 10 {
		t.Fatalf("%d allowed across two instances, want one burst of 10", allowed)
	}
}

func TestRateLimitRedisDown(t *testing.T) {
	srv := redistest.Start(t)
	_, mock := startMock(t, mockupstream.Options{})
	p := startCaddy(t, strings.NewReplacer("{REDIS}", srv.URL, "{MOCK}", mock).Replace(redisRateCaddyfile))
	redisErrors := p.counter("ragproxy_ratelimit_redis_errors_total", `zone="per_key"`)
	for range 4 {
		if resp, _ := askAs(t, p, "k"); resp.StatusCode != http.StatusOK {
			t.Fatalf("with Redis: %d", resp.StatusCode)
		}
	}
	srv.Kill()
	// Local counts take over: a fresh burst of 10 for this instance, then 429.
	var statuses []int
	for range 15 {
		resp, _ := askAs(t, p, "k")
		statuses = append(statuses, resp.StatusCode)
	}
	for i, s := range statuses {
		want := http.StatusOK
		if i >= 10 {
			want = http.StatusTooManyRequests
		}
		if s != want {
			t.Fatalf("statuses with Redis down %v: want 10×200 then 429", statuses)
		}
	}
	if redisErrors() < 15 {
		t.Fatalf("redis errors counted %v, want every decision", redisErrors())
	}
	if up := p.metricValue("ragproxy_ratelimit_redis_up", srv.Addr); up != 0 {
		t.Fatalf("ragproxy_ratelimit_redis_up %v, want 0", up)
	}
}
