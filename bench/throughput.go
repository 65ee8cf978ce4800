package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ragproxy/ragproxy/internal/mockupstream"
)

// The scenarios, in the order of the first round.
var scenarioNames = []string{"respond", "proxy-same", "cache-hit", "proxy-distinct", "cache-miss", "fallback-same", "semantic-hit",
	"semantic-hit-use-static",
	"proxy-auth", "ratelimit-local", "ratelimit-tokens", "ratelimit-tokens-off", "ratelimit-redis", "split", "split-one-route", "proxy-split-headers", "pipeline-miss", "validate-miss", "prompt-cache-miss",
	"proxy-buffered"}

// requestedScenarios run only when -scenarios names them: semantic-hit-use
// first embeds its 25,600 wordings with the transformer (one to a few
// minutes).
var requestedScenarios = []string{"semantic-hit-use"}

// benchAuthorization is the Authorization header of the rate limit
// scenarios: their zones are keyed on it, so one fixed key is limited.
const benchAuthorization = "Bearer sk-bench-0000000000000001"

// The rate limit fronts' limits: far above anything this machine can
// send, so every request is allowed and the zones measure their cost only.
const (
	benchRate   = "1000000000/s"    // GCRA: 1 ns per request, burst 1e9
	benchTokens = "1000000000000/h" // the mock spends a few dozen tokens per answer
)

type throughputOptions struct {
	Duration, Warmup       time.Duration
	Rounds, Conns          int
	Scenarios              []string
	CPUProfile, MemProfile string
	CacheMaxSize           string  // rag_cache max_size; empty for its default
	MaxOthers              float64 // when > 0, wait for and retry until other processes use at most this many cores
	Retries                int
}

const chatPath = "/v1/chat/completions"

// sameQuestion is the question of every request of the same-body scenarios.
const sameQuestion = "What does retrieval-augmented generation add to a language model?"

// paraphrase asks sameQuestion in other words: an exact miss and a
// semantic hit once sameQuestion is cached.
const paraphrase = "So what does retrieval-augmented generation add to a language model?"

// chatBody is a small OpenAI chat completion request asking question.
func chatBody(question string) []byte {
	b := make([]byte, 0, 256)
	b = append(b, `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a concise assistant."},{"role":"user","content":"`...)
	b = append(b, question...)
	return append(b, `"}],"temperature":0}`...)
}

// distinctQuestions numbers every question it hands out, process-wide, so
// no two requests of the distinct scenarios ever share a cache key.
var distinctQuestions atomic.Int64

func distinctBody() []byte {
	q := make([]byte, 0, 96)
	q = append(q, "Question #"...)
	q = strconv.AppendInt(q, distinctQuestions.Add(1), 10)
	q = append(q, ": what does the retrieval step return?"...)
	return chatBody(string(q))
}

// bench is the running system under test: the mock upstream and one Caddy
// config with a server per front.
type bench struct {
	respondURL, proxyURL, cacheURL string
	fallbackURL, semanticURL       string
	rateLocalURL, rateTokensURL    string
	rateTokensOffURL               string
	splitURL, splitHeadersURL      string
	splitOneRouteURL               string
	pipelineURL, validateURL       string
	promptCacheURL                 string
	proxyBufferedURL               string       // reverse_proxy with request_buffers: the body sent with the headers
	semanticUse, semanticStatic    encoderFront // zero without their scenarios
	rateRedisURL                   string       // empty without the ratelimit-redis scenario
	adminURL                       string       // empty without the ratelimit-redis scenario
	redis                          *redisServer
	stop                           func()
}

// startBench starts the mock, Caddy with a server per front, and, when
// the scenarios have ratelimit-redis, a redis-server for its front (and
// Caddy's admin endpoint, to read its Redis error counter).
func startBench(maxSize string, scenarios []string) (*bench, error) {
	withRedis := slices.Contains(scenarios, "ratelimit-redis")
	encoders, err := startEncoderFronts(scenarios)
	if err != nil {
		return nil, err
	}
	cacheOptions := ""
	if maxSize != "" {
		cacheOptions = fmt.Sprintf(" {\n\t\tmax_size %s\n\t}", maxSize)
	}
	var rds *redisServer
	if withRedis {
		var err error
		if rds, err = startRedis(); err != nil {
			return nil, err
		}
	}
	up, err := mockupstream.Start("127.0.0.1:0", mockupstream.New(mockupstream.Options{}))
	if err != nil {
		if rds != nil {
			rds.stop()
		}
		return nil, err
	}
	stopHelpers := func() {
		up.Close()
		if rds != nil {
			rds.stop()
		}
	}
	// The respond server answers the very bytes the mock answers.
	same := chatBody(sameQuestion)
	resp, answer, err := post(up.URL+chatPath, same)
	if err != nil {
		stopHelpers()
		return nil, fmt.Errorf("asking the mock: %w", err)
	}
	ctype := resp.Header.Get("Content-Type")
	if resp.StatusCode != http.StatusOK || bytes.ContainsRune(answer, '`') {
		stopHelpers()
		return nil, fmt.Errorf("mock answered %d: %s", resp.StatusCode, answer)
	}

	servers := 15 + len(encoders)
	nAddrs := servers
	if rds != nil {
		servers++
		nAddrs = servers + 1 // the Redis front and the admin endpoint
	}
	addrs, err := freeAddrs(nAddrs)
	if err != nil {
		stopHelpers()
		return nil, err
	}
	site := func(addr, body string) string {
		_, port, _ := strings.Cut(addr, ":")
		return fmt.Sprintf("http://:%s {\n\tbind 127.0.0.1\n%s}\n\n", port, body)
	}
	cf := site(addrs[0], fmt.Sprintf("\theader Content-Type %q\n\trespond `%s` 200\n", ctype, answer)) +
		site(addrs[1], fmt.Sprintf("\treverse_proxy %s\n", up.Addr)) +
		site(addrs[2], fmt.Sprintf("\trag_cache%s\n\treverse_proxy %s\n", cacheOptions, up.Addr)) +
		site(addrs[3], fmt.Sprintf("\trag_fallback {\n\t\ttier primary {\n\t\t\treverse_proxy %s\n\t\t}\n\t}\n", up.Addr)) +
		site(addrs[4], fmt.Sprintf("\trag_cache semantic {\n\t\tsemantic\n\t}\n\treverse_proxy %s\n", up.Addr)) +
		site(addrs[5], rateLimitSite("", "bench_local", "rate "+benchRate, up.Addr)) +
		site(addrs[6], rateLimitSite("", "bench_tokens", "tokens "+benchTokens, up.Addr)) +
		site(addrs[10], rateLimitSite("stream_usage off", "bench_tokens_off", "tokens "+benchTokens, up.Addr)) +
		site(addrs[7], splitSite(up.Addr)) +
		site(addrs[8], splitHeadersSite(up.Addr)) +
		site(addrs[9], splitOneRouteSite(up.Addr)) +
		site(addrs[11], pipelineSite(up.Addr)) +
		site(addrs[12], validateSite(up.Addr)) +
		site(addrs[13], fmt.Sprintf("\trag_prompt_cache\n\treverse_proxy %s\n", up.Addr)) +
		site(addrs[14], fmt.Sprintf("\treverse_proxy %s {\n\t\trequest_buffers 64KiB\n\t}\n", up.Addr))
	for i, e := range encoders {
		cf += site(addrs[15+i], fmt.Sprintf("\trag_cache %s {\n\t\tsemantic {\n\t\t\tembedder %s\n\t\t}\n\t}\n\treverse_proxy %s\n",
			strings.ReplaceAll(e.embedder, "-", "_"), e.embedder, up.Addr))
	}
	redisAddr := 15 + len(encoders)
	admin := "off"
	if rds != nil {
		cf += site(addrs[redisAddr], rateLimitSite("redis "+rds.URL, "bench_redis", "rate "+benchRate, up.Addr))
		admin = addrs[redisAddr+1]
	}
	stopCaddy, err := startCaddyAdmin(admin, cf, addrs[:servers]...)
	if err != nil {
		stopHelpers()
		return nil, err
	}
	b := &bench{
		respondURL:       "http://" + addrs[0] + chatPath,
		proxyURL:         "http://" + addrs[1] + chatPath,
		cacheURL:         "http://" + addrs[2] + chatPath,
		fallbackURL:      "http://" + addrs[3] + chatPath,
		semanticURL:      "http://" + addrs[4] + chatPath,
		rateLocalURL:     "http://" + addrs[5] + chatPath,
		rateTokensURL:    "http://" + addrs[6] + chatPath,
		rateTokensOffURL: "http://" + addrs[10] + chatPath,
		splitURL:         "http://" + addrs[7] + chatPath,
		splitHeadersURL:  "http://" + addrs[8] + chatPath,
		splitOneRouteURL: "http://" + addrs[9] + chatPath,
		pipelineURL:      "http://" + addrs[11] + chatPath,
		validateURL:      "http://" + addrs[12] + chatPath,
		promptCacheURL:   "http://" + addrs[13] + chatPath,
		proxyBufferedURL: "http://" + addrs[14] + chatPath,
		redis:            rds,
		stop:             func() { stopCaddy(); stopHelpers() },
	}
	for i, e := range encoders {
		e.url = "http://" + addrs[15+i] + chatPath
		if e.embedder == "use" {
			b.semanticUse = e
		} else {
			b.semanticStatic = e
		}
	}
	if rds != nil {
		b.rateRedisURL = "http://" + addrs[redisAddr] + chatPath
		b.adminURL = "http://" + addrs[redisAddr+1]
	}
	if err := b.check(same, answer, ctype); err != nil {
		b.stop()
		return nil, err
	}
	return b, nil
}

// rateLimitSite is a server body: rag_rate_limit with one zone keyed on
// the Authorization header (limit is its "rate ..." or "tokens ..." line)
// and option, if any, as a line of its own ("redis <url>", say), then
// reverse_proxy to upstream.
func rateLimitSite(option, zone, limit, upstream string) string {
	if option != "" {
		option = "\t\t" + option + "\n"
	}
	return fmt.Sprintf("\trag_rate_limit {\n%s\t\tzone %s {\n\t\t\tkey {http.request.header.Authorization}\n\t\t\t%s\n\t\t}\n\t}\n\treverse_proxy %s\n",
		option, zone, limit, upstream)
}

// splitSite is a server body: the A/B experiment, rag_split with
// two variants sticky on the Authorization header and a vars matcher that
// routes the treatment, both to upstream.
func splitSite(upstream string) string {
	return fmt.Sprintf("\trag_split bench_exp {\n\t\tsticky {http.request.header.Authorization}\n"+
		"\t\tvariant control 80\n\t\tvariant treatment 20\n\t}\n"+
		"\t@treatment vars {rag.variant} treatment\n\treverse_proxy @treatment %s\n\treverse_proxy %s\n",
		upstream, upstream)
}

// splitOneRouteSite is splitSite with a single reverse_proxy for both
// variants: rag_split's own cost, without the routing the experiment adds.
func splitOneRouteSite(upstream string) string {
	return fmt.Sprintf("\trag_split bench_exp {\n\t\tsticky {http.request.header.Authorization}\n"+
		"\t\tvariant control 80\n\t\tvariant treatment 20\n\t}\n\treverse_proxy %s\n", upstream)
}

// pipelineSite is a server body with the whole pipeline in one route:
// rag_rate_limit (a rate and a token zone on the Authorization header),
// rag_split, rag_cache with its semantic layer, and rag_fallback with one
// tier. With a new question every request, it measures what the pipeline
// adds to a miss.
func pipelineSite(upstream string) string {
	return fmt.Sprintf("\trag_rate_limit {\n"+
		"\t\tzone pipe_rate {\n\t\t\tkey {http.request.header.Authorization}\n\t\t\trate %s\n\t\t}\n"+
		"\t\tzone pipe_tokens {\n\t\t\tkey {http.request.header.Authorization}\n\t\t\ttokens %s\n\t\t}\n\t}\n"+
		"\trag_split pipe_exp {\n\t\tsticky {http.request.header.Authorization}\n"+
		"\t\tvariant control 80\n\t\tvariant treatment 20\n\t}\n"+
		"\trag_cache pipeline {\n\t\tsemantic\n\t}\n"+
		"\trag_fallback {\n\t\ttier primary {\n\t\t\treverse_proxy %s\n\t\t}\n\t}\n",
		benchRate, benchTokens, upstream)
}

// validateSite is a server body: rag_validate with every limit set (the
// question checked against a deny pattern) in front of reverse_proxy; with
// a new question every request, what validation adds to a miss.
func validateSite(upstream string) string {
	return fmt.Sprintf("\trag_validate {\n\t\tmax_messages 64\n\t\tmax_prompt_tokens 100000\n\t\tmax_tokens 4096 clamp\n"+
		"\t\tmodels gpt-4o-mini\n\t\tmax_question_length 4000\n\t\tdeny \"(?i)ignore (all )?previous instructions\"\n\t}\n"+
		"\treverse_proxy %s\n", upstream)
}

// splitHeadersSite is a server body that only adds the headers rag_split
// adds (X-Request-ID to the request, X-RAG-Variant and X-Request-ID to the
// answer) with Caddy's own header directives: the floor under split.
func splitHeadersSite(upstream string) string {
	return fmt.Sprintf("\trequest_header X-Request-Id {http.request.uuid}\n"+
		"\theader X-Rag-Variant control\n\theader X-Request-Id {http.request.uuid}\n\treverse_proxy %s\n", upstream)
}

// rateLimitHeader is the request header of the rate limit and split
// scenarios (their keys are the Authorization header).
var rateLimitHeader = http.Header{"Content-Type": {"application/json"}, "Authorization": {benchAuthorization}}

// check verifies the fronts: respond answers the mock's bytes, the cache
// misses the same body once, then hits, and the rate limit zones apply to
// the benchmark's requests (and allow them).
func (b *bench) check(same, answer []byte, ctype string) error {
	resp, got, err := post(b.respondURL, same)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, answer) || resp.Header.Get("Content-Type") != ctype {
		return fmt.Errorf("respond answers %q (%s), the mock %q (%s)", got, resp.Header.Get("Content-Type"), answer, ctype)
	}
	for _, want := range []string{"MISS", "HIT"} {
		resp, got, err := post(b.cacheURL, same)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Cache") != want {
			return fmt.Errorf("warming the cache: want %s, got %d X-Cache=%q: %s", want, resp.StatusCode, resp.Header.Get("X-Cache"), got)
		}
	}
	for _, c := range []struct {
		body []byte
		want string
	}{{same, "MISS"}, {chatBody(paraphrase), "SEMANTIC-HIT"}} {
		resp, got, err := post(b.semanticURL, c.body)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Cache") != c.want {
			return fmt.Errorf("warming the semantic cache: want %s, got %d X-Cache=%q: %s", c.want, resp.StatusCode, resp.Header.Get("X-Cache"), got)
		}
	}
	for _, e := range []encoderFront{b.semanticUse, b.semanticStatic} {
		if e.url == "" {
			continue
		}
		for _, c := range []struct {
			body []byte
			want string
		}{{same, "MISS"}, {e.pool.body(), "SEMANTIC-HIT"}} {
			resp, got, err := post(e.url, c.body)
			if err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Cache") != c.want {
				return fmt.Errorf("warming the %s semantic cache: want %s, got %d X-Cache=%q: %s", e.embedder, c.want, resp.StatusCode, resp.Header.Get("X-Cache"), got)
			}
		}
	}
	if err := b.checkRateLimits(same); err != nil {
		return err
	}
	for _, url := range []string{b.splitURL, b.splitOneRouteURL, b.splitHeadersURL} {
		resp, got, err := postHeader(url, same, rateLimitHeader)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Rag-Variant") == "" || len(resp.Header.Get("X-Request-Id")) != 36 {
			return fmt.Errorf("split front %s: %d, X-RAG-Variant %q, X-Request-ID %q: %s", url, resp.StatusCode,
				resp.Header.Get("X-Rag-Variant"), resp.Header.Get("X-Request-Id"), got)
		}
	}
	return nil
}

// checkRateLimits verifies that every rate limit zone applies to the
// benchmark's request and allows it: the answer carries the zone's
// RateLimit-Limit; the token zone debits the mock's usage; the Redis zone
// decides in Redis (a key appears there, no Redis error is counted).
func (b *bench) checkRateLimits(same []byte) error {
	fronts := []struct{ url, limit string }{
		{b.rateLocalURL, "1000000000"},
		{b.rateTokensURL, "1000000000000"},
		{b.rateTokensOffURL, "1000000000000"},
	}
	if b.rateRedisURL != "" {
		fronts = append(fronts, struct{ url, limit string }{b.rateRedisURL, "1000000000"})
	}
	for _, f := range fronts {
		var remaining []string
		for range 2 {
			resp, got, err := postHeader(f.url, same, rateLimitHeader)
			if err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK || resp.Header.Get("RateLimit-Limit") != f.limit {
				return fmt.Errorf("rate limit front %s: %d, RateLimit-Limit %q (want %s): %s",
					f.url, resp.StatusCode, resp.Header.Get("RateLimit-Limit"), f.limit, got)
			}
			remaining = append(remaining, resp.Header.Get("RateLimit-Remaining"))
		}
		if (f.url == b.rateTokensURL || f.url == b.rateTokensOffURL) && remaining[1] == f.limit {
			return fmt.Errorf("token zone: no tokens debited after an answer (remaining %v)", remaining)
		}
	}
	if b.redis == nil {
		return nil
	}
	if n, err := b.redis.dbsize(); err != nil || n < 1 {
		return fmt.Errorf("the Redis zone left no key in Redis (DBSIZE %d, %v)", n, err)
	}
	if n, err := b.redisErrors(); err != nil || n != 0 {
		return fmt.Errorf("the Redis zone counted %v Redis errors (%v)", n, err)
	}
	return nil
}

// redisErrors reads the Redis zone's error counter (decisions that fell
// back to local counts) from Caddy's admin /metrics.
func (b *bench) redisErrors() (float64, error) {
	resp, err := http.Get(b.adminURL + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(body), "\n") {
		if strings.HasPrefix(line, "ragproxy_ratelimit_redis_errors_total{") && strings.Contains(line, `zone="bench_redis"`) {
			f := strings.Fields(line)
			return strconv.ParseFloat(f[len(f)-1], 64)
		}
	}
	return 0, fmt.Errorf("no ragproxy_ratelimit_redis_errors_total for zone bench_redis in /metrics")
}

func (b *bench) target(scenario string) (target, error) {
	same := chatBody(sameQuestion)
	sameBody := func() []byte { return same }
	switch scenario {
	case "respond":
		return target{url: b.respondURL, body: sameBody}, nil
	case "proxy-same":
		return target{url: b.proxyURL, body: sameBody}, nil
	case "cache-hit":
		return target{url: b.cacheURL, body: sameBody, wantCache: "HIT"}, nil
	case "proxy-buffered":
		// plain reverse_proxy reading the request body into memory first:
		// Go's transport then sends headers and body in one write, where a
		// streamed body has the headers flushed on their own (golang/go#22088).
		return target{url: b.proxyBufferedURL, body: sameBody}, nil
	case "proxy-distinct":
		return target{url: b.proxyURL, body: distinctBody}, nil
	case "cache-miss":
		return target{url: b.cacheURL, body: distinctBody, wantCache: "MISS"}, nil
	case "validate-miss":
		return target{url: b.validateURL, body: distinctBody}, nil
	case "prompt-cache-miss":
		// rag_prompt_cache with its defaults in front of reverse_proxy, a
		// new question every request: with an Authorization header (its
		// default key) it sets prompt_cache_key on every OpenAI body, the
		// whole of its work on a request the provider's cache misses.
		return target{url: b.promptCacheURL, body: distinctBody, header: rateLimitHeader}, nil
	case "fallback-same":
		return target{url: b.fallbackURL, body: sameBody}, nil
	case "semantic-hit":
		para := chatBody(paraphrase)
		return target{url: b.semanticURL, body: func() []byte { return para }, wantCache: "SEMANTIC-HIT"}, nil
	case "semantic-hit-use", "semantic-hit-use-static":
		e := b.semanticUse
		if scenario == "semantic-hit-use-static" {
			e = b.semanticStatic
		}
		if e.url == "" {
			return target{}, fmt.Errorf("%s: its front was not started", scenario)
		}
		return target{url: e.url, body: e.pool.body, wantCache: "SEMANTIC-HIT"}, nil
	}
	// The rate limit and split fronts key on the Authorization header;
	// proxy-auth is proxy-same with it.
	withAuth := map[string]string{
		"proxy-auth":           b.proxyURL,
		"ratelimit-local":      b.rateLocalURL,
		"ratelimit-tokens":     b.rateTokensURL,
		"ratelimit-tokens-off": b.rateTokensOffURL,
		"ratelimit-redis":      b.rateRedisURL, // empty without the ratelimit-redis scenario
		"split":                b.splitURL,
		"split-one-route":      b.splitOneRouteURL,
		"proxy-split-headers":  b.splitHeadersURL,
	}
	if url, ok := withAuth[scenario]; ok {
		if url == "" {
			return target{}, fmt.Errorf("%s: its front was not started", scenario)
		}
		return target{url: url, body: sameBody, header: rateLimitHeader}, nil
	}
	if scenario == "pipeline-miss" {
		return target{url: b.pipelineURL, body: realDistinctBody, header: rateLimitHeader, wantCache: "MISS"}, nil
	}
	return target{}, fmt.Errorf("unknown scenario %q (have %s; and on request %s)", scenario, strings.Join(scenarioNames, ", "), strings.Join(requestedScenarios, ", "))
}

// post sends one request on a fresh connection and reads the answer.
func post(url string, body []byte) (*http.Response, []byte, error) {
	return postHeader(url, body, jsonHeader)
}

// postHeader is post with the given request header.
func postHeader(url string, body []byte, header http.Header) (*http.Response, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header = header.Clone()
	req.Close = true
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// run is one scenario measured in one round.
type run struct {
	Round    int
	Scenario string
	Result   loadResult
	Latency  latencySummary
	// RedisErrors counts the ratelimit-redis decisions that fell back to
	// local counts during the measurement (its attempts and warmups
	// included); any is an error.
	RedisErrors int
}

func runThroughput(o throughputOptions) error {
	b, err := startBench(o.CacheMaxSize, o.Scenarios)
	if err != nil {
		return err
	}
	defer b.stop()
	targets := map[string]target{}
	for _, s := range o.Scenarios {
		if targets[s], err = b.target(s); err != nil {
			return err
		}
	}

	fmt.Fprintf(os.Stderr, "%d rounds × %d scenarios × (%v warmup + %v), %d connections, GOMAXPROCS=%d\n",
		o.Rounds, len(o.Scenarios), o.Warmup, o.Duration, o.Conns, runtime.GOMAXPROCS(0))
	var runs []run
	for r := range o.Rounds {
		// Rotate the order each round so no scenario always runs first.
		order := slices.Clone(o.Scenarios)
		k := r % len(order)
		order = append(order[k:], order[:k]...)
		for _, s := range order {
			var profile string
			if o.CPUProfile != "" {
				profile = fmt.Sprintf("%s.%s.r%d.pprof", o.CPUProfile, s, r+1)
			}
			var redisBefore float64
			if s == "ratelimit-redis" {
				if redisBefore, err = b.redisErrors(); err != nil {
					return err
				}
			}
			res, err := measure(o, targets[s], fmt.Sprintf("round %d %s", r+1, s), profile)
			if err != nil {
				return fmt.Errorf("round %d, %s: %w", r+1, s, err)
			}
			ru := run{Round: r + 1, Scenario: s, Result: res, Latency: summarize(res.Latencies)}
			if s == "ratelimit-redis" {
				after, err := b.redisErrors()
				if err != nil {
					return err
				}
				ru.RedisErrors = int(after - redisBefore)
			}
			ru.Result.Latencies = nil
			runs = append(runs, ru)
			fmt.Fprintf(os.Stderr, "round %d %-16s %8.0f req/s  p50 %-9s p99 %-9s max %-9s cpu self %.2f others %.2f  errors %d bad X-Cache %d redis errors %d\n",
				r+1, s, res.RPS(), fmtLatency(ru.Latency.P50), fmtLatency(ru.Latency.P99), fmtLatency(ru.Latency.Max),
				res.CPU.Self, res.CPU.Others, res.Errors, res.BadCache, ru.RedisErrors)
		}
	}

	if o.MemProfile != "" {
		f, err := os.Create(o.MemProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			return err
		}
	}

	fmt.Print(throughputReport(o, runs))
	if o.CPUProfile != "" {
		share, err := cpuShareReport(o.CPUProfile, o.Scenarios, runs)
		if err != nil {
			return err
		}
		fmt.Print(share)
	}
	for _, ru := range runs {
		if ru.Result.Errors > 0 || ru.Result.BadCache > 0 || ru.RedisErrors > 0 {
			return fmt.Errorf("round %d, %s: %d errors, %d answers with the wrong X-Cache, %d Redis errors",
				ru.Round, ru.Scenario, ru.Result.Errors, ru.Result.BadCache, ru.RedisErrors)
		}
	}
	return nil
}

// measure runs one scenario once. With MaxOthers set it first waits (up
// to a minute) for the machine to be quiet, and measures again, up to
// Retries times, when other processes took more than MaxOthers cores
// during the window; of those attempts it keeps the least disturbed.
//
// With profile set, the CPU profile of the kept measurement (warmup
// included) is written to that file.
func measure(o throughputOptions, t target, what, profile string) (loadResult, error) {
	var best loadResult
	for attempt := 0; ; attempt++ {
		if o.MaxOthers > 0 {
			waitQuiet(o.MaxOthers, time.Minute)
		}
		runtime.GC()
		file := ""
		if profile != "" {
			file = fmt.Sprintf("%s.attempt%d", profile, attempt)
		}
		stop, err := startProfile(file)
		if err != nil {
			return best, err
		}
		res, err := runLoad(t, o.Conns, o.Warmup, o.Duration)
		if perr := stop(); err == nil {
			err = perr
		}
		if err != nil {
			return res, err
		}
		if attempt == 0 || res.CPU.Others < best.CPU.Others {
			best = res
			if file != "" {
				if err := os.Rename(file, profile); err != nil {
					return best, err
				}
			}
		} else if file != "" {
			os.Remove(file)
		}
		if o.MaxOthers <= 0 || res.CPU.Others <= o.MaxOthers || attempt >= o.Retries {
			return best, nil
		}
		fmt.Fprintf(os.Stderr, "%s: other processes used %.2f cores (> %.2f), measuring again\n", what, res.CPU.Others, o.MaxOthers)
	}
}

// waitQuiet polls the CPU use of other processes, a second at a time,
// until it is at most maxOthers cores or the timeout passes.
func waitQuiet(maxOthers float64, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for {
		a := sampleCPU()
		time.Sleep(time.Second) // the sampling interval
		if u := sampleCPU().since(a); u.Others <= maxOthers || time.Now().After(deadline) {
			return
		}
	}
}

// startProfile starts a CPU profile into file, if one is named.
func startProfile(file string) (stop func() error, err error) {
	if file == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}
