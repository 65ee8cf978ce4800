package caddymodule_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3/option"
	"github.com/redis/go-redis/v9"

	"github.com/ragproxy/ragproxy/internal/mockupstream"
	"github.com/ragproxy/ragproxy/internal/redistest"
)

// sharedCacheSite is an instance with rag_cache behind Redis; extra goes
// inside the rag_cache block. The host is part of the key: behind a load
// balancer every instance sees the public one; here each listens on its
// own port, so the Host is set as a balancer would pass it. The timeout
// is generous: on a loaded CI machine a slower Redis call would leave
// Redis alone for a breaker second and drop the writes the tests wait
// for; TestSharedCacheRedisDown sets its own.
const sharedCacheSite = `http://{SITE} {
	request_header Host llm.example
	rag_cache {
		redis {REDIS}
		redis_timeout 2s
{EXTRA}
	}
	reverse_proxy {MOCK}
}`

// sharedInstances starts n instances (this process and n-1 children) of
// one Caddyfile, sharing redis, in front of one mock upstream.
func sharedInstances(t *testing.T, n int, srv *redistest.Server, extra string) (*mockupstream.Server, []*proxy) {
	t.Helper()
	mock, upstream := startMock(t, mockupstream.Options{})
	cf := strings.NewReplacer("{REDIS}", srv.URL, "{MOCK}", upstream, "{EXTRA}", extra).Replace(sharedCacheSite)
	ps := []*proxy{startCaddy(t, cf)}
	for range n - 1 {
		ps = append(ps, startChildCaddy(t, cf))
	}
	return mock, ps
}

// redisKeys counts the keys under the shared cache's prefix.
func redisKeys(t *testing.T, srv *redistest.Server) []string {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer c.Close()
	keys, err := c.Keys(context.Background(), "ragproxy:cache:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// waitRedisKeys waits until Redis holds n cache keys (writes are asynchronous).
func waitRedisKeys(t *testing.T, srv *redistest.Server, n int) {
	t.Helper()
	eventually(t, "entries written to redis", func() bool { return len(redisKeys(t, srv)) == n })
}

// rawPost sends body to path and returns the answer's X-Cache and body.
func rawPost(t *testing.T, p *proxy, path, body string, header ...string) (string, string) {
	t.Helper()
	resp, b := post(t, p.URL+path, body, header...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	return resp.Header.Get("X-Cache"), b
}

func TestSharedCacheHitOnAnotherInstance(t *testing.T) {
	srv := redistest.Start(t)
	mock, ps := sharedInstances(t, 2, srv, "")
	a, b := ps[0], ps[1]
	ctx := context.Background()
	a1, b1, b2 := newClient(a, "key-1"), newClient(b, "key-1"), newClient(b, "key-2")

	// JSON through the OpenAI client: A asks, B answers from Redis.
	var respA, respB *http.Response
	ansA, err := a1.Chat.Completions.New(ctx, chatParams("What is RAG?"), option.WithResponseInto(&respA))
	if err != nil {
		t.Fatal(err)
	}
	waitRedisKeys(t, srv, 1)
	ansB, err := b1.Chat.Completions.New(ctx, chatParams("What is RAG?"), option.WithResponseInto(&respB))
	if err != nil {
		t.Fatal(err)
	}
	if respA.Header.Get("X-Cache") != "MISS" || respB.Header.Get("X-Cache") != "HIT" || ansA.ID != ansB.ID {
		t.Fatalf("A %s %s, B %s %s: want B to hit A's answer", respA.Header.Get("X-Cache"), ansA.ID, respB.Header.Get("X-Cache"), ansB.ID)
	}
	if n := mock.Calls(); n != 1 {
		t.Fatalf("upstream calls %d, want 1", n)
	}
	// B copied it into memory: a second hit there needs no Redis.
	if v := b.metricValue("ragproxy_cache_lookups_total", `result="redis_hit"`); v != 1 {
		t.Errorf("B's redis hits %v, want 1", v)
	}
	if _, err := b1.Chat.Completions.New(ctx, chatParams("What is RAG?"), option.WithResponseInto(&respB)); err != nil || respB.Header.Get("X-Cache") != "HIT" {
		t.Fatalf("second ask on B: %v %s", err, respB.Header.Get("X-Cache"))
	}
	if v := b.metricValue("ragproxy_cache_lookups_total", `result="hit"`); v != 1 {
		t.Errorf("B's memory hits %v, want 1", v)
	}
	// Another tenant (API key) never gets it.
	if _, err := b2.Chat.Completions.New(ctx, chatParams("What is RAG?"), option.WithResponseInto(&respB)); err != nil || respB.Header.Get("X-Cache") != "MISS" {
		t.Fatalf("another key on B: %v %s, want MISS", err, respB.Header.Get("X-Cache"))
	}
	// No credential in clear in Redis.
	for _, k := range redisKeys(t, srv) {
		if strings.Contains(k, "key-1") || strings.Contains(k, "key-2") {
			t.Errorf("redis key %q holds a credential", k)
		}
	}

	// A stream recorded on A replays on B byte for byte, and to the client.
	body := chatBody("Tell me about streams", true)
	xa, rawA := rawPost(t, a, "/v1/chat/completions", body, "Authorization", "Bearer key-1", "Accept", "text/event-stream")
	waitRedisKeys(t, srv, 3)
	xb, rawB := rawPost(t, b, "/v1/chat/completions", body, "Authorization", "Bearer key-1", "Accept", "text/event-stream")
	if xa != "MISS" || xb != "HIT" || rawA != rawB || !strings.Contains(rawB, "data: [DONE]") {
		t.Fatalf("stream: A %s, B %s, same bytes %v", xa, xb, rawA == rawB)
	}
	var resp *http.Response
	stream := b1.Chat.Completions.NewStreaming(ctx, chatParams("Streamed question"), option.WithResponseInto(&resp))
	for stream.Next() {
	}
	if stream.Err() != nil {
		t.Fatal(stream.Err())
	}
	waitRedisKeys(t, srv, 4)
	var text strings.Builder
	stream = a1.Chat.Completions.NewStreaming(ctx, chatParams("Streamed question"), option.WithResponseInto(&resp))
	for stream.Next() {
		for _, c := range stream.Current().Choices {
			text.WriteString(c.Delta.Content)
		}
	}
	if stream.Err() != nil || resp.Header.Get("X-Cache") != "HIT" || !strings.Contains(text.String(), "Streamed question") {
		t.Fatalf("openai stream on A after B: %v %s %q", stream.Err(), resp.Header.Get("X-Cache"), text.String())
	}
	if n := mock.Calls(); n != 4 {
		t.Fatalf("upstream calls %d, want 4 (one per question, stream and tenant)", n)
	}
}

func TestSharedCachePurgeReachesEveryInstance(t *testing.T) {
	srv := redistest.Start(t)
	mock, ps := sharedInstances(t, 2, srv, "\t\tscope {http.request.header.X-Tenant}")
	a, b := ps[0], ps[1]
	ask := func(p *proxy, tenant, q string) string {
		x, _ := rawPost(t, p, "/v1/chat/completions", chatBody(q, false), "X-Tenant", tenant)
		return x
	}
	ask(a, "acme", "q1")
	ask(a, "globex", "q1")
	waitRedisKeys(t, srv, 2)
	// B holds both in memory now.
	if ask(b, "acme", "q1") != "HIT" || ask(b, "globex", "q1") != "HIT" {
		t.Fatal("B did not hit A's entries")
	}
	if n := b.metricValue("ragproxy_cache_entries"); n != 2 {
		t.Fatalf("B holds %v entries, want 2", n)
	}

	// Purge one tenant on A: gone from Redis and from B's memory; the
	// other tenant stays.
	req, _ := http.NewRequest(http.MethodDelete, a.Admin+"/rag/caches/default/entries?scope=acme", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(out), `"purged":1`) || !strings.Contains(string(out), `"purged_redis":1`) {
		t.Fatalf("tenant purge: %d %s", resp.StatusCode, out)
	}
	eventually(t, "B to drop acme's entry", func() bool { return b.metricValue("ragproxy_cache_entries") == 1 })
	if ask(b, "acme", "q1") != "MISS" || ask(b, "globex", "q1") != "HIT" {
		t.Fatal("after acme's purge: want acme to miss on B and globex to hit")
	}
	calls := mock.Calls()

	// Purge the whole cache on B: A's memory empties too.
	waitRedisKeys(t, srv, 2)
	if ask(a, "globex", "q1") != "HIT" {
		t.Fatal("globex not in A")
	}
	req, _ = http.NewRequest(http.MethodDelete, b.Admin+"/rag/caches/default", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(out), `"purged_redis":2`) {
		t.Fatalf("purge: %d %s", resp.StatusCode, out)
	}
	eventually(t, "A's memory to empty", func() bool { return a.metricValue("ragproxy_cache_entries") == 0 })
	if len(redisKeys(t, srv)) != 0 {
		t.Fatal("redis still holds entries")
	}
	if ask(a, "globex", "q1") != "MISS" || mock.Calls() != calls+1 {
		t.Fatal("A served a purged answer")
	}
}

func TestSharedCacheRedisDown(t *testing.T) {
	srv := redistest.Start(t)
	mock, ps := sharedInstances(t, 2, srv, "\t\tredis_timeout 200ms")
	a, b := ps[0], ps[1]
	ask := func(p *proxy, q string) (string, time.Duration) {
		start := time.Now()
		x, body := rawPost(t, p, "/v1/chat/completions", chatBody(q, false), "Authorization", "Bearer k")
		if !strings.Contains(body, "Mock answer to: "+q) {
			t.Fatalf("answer %q", body)
		}
		return x, time.Since(start)
	}
	ask(a, "q1")
	waitRedisKeys(t, srv, 1)
	if x, _ := ask(b, "q1"); x != "HIT" {
		t.Fatalf("B: %s", x)
	}

	srv.Kill()
	// Both keep serving: what they hold from memory, the rest from
	// upstream, none waiting more than redis_timeout (200ms) on Redis.
	for i, p := range ps {
		if x, _ := ask(p, "q1"); x != "HIT" {
			t.Fatalf("instance %d with Redis down: %s, want a memory HIT", i, x)
		}
		for _, q := range []string{"q2", "q3", "q4"} {
			x, took := ask(p, q+string(rune('a'+i)))
			if x != "MISS" || took > time.Second {
				t.Fatalf("instance %d, Redis down: %s took %v", i, x, took)
			}
		}
	}
	for i, p := range ps {
		if up := p.metricValue("ragproxy_cache_redis_up"); up != 0 {
			t.Errorf("instance %d: ragproxy_cache_redis_up %v, want 0", i, up)
		}
		if errs := p.metricValue("ragproxy_cache_redis_errors_total", `op="get"`); errs < 1 {
			t.Errorf("instance %d: redis get errors %v", i, errs)
		}
	}

	srv.Restart(t) // empty: nothing was persisted
	// Within a breaker period they call Redis again (a memory miss probes
	// it): a new answer on A is shared.
	probes := 0
	eventually(t, "redis up again on A and B", func() bool {
		// a new question each time (a memory hit would not call Redis),
		// answered with an error (so nothing is written to Redis)
		probes++
		for _, p := range ps {
			post(t, p.URL+"/v1/chat/completions", chatBody(fmt.Sprintf("probe %d", probes), false),
				"Authorization", "Bearer k", mockupstream.HeaderStatus, "500")
		}
		return a.metricValue("ragproxy_cache_redis_up") == 1 && b.metricValue("ragproxy_cache_redis_up") == 1
	})
	ask(a, "q5")
	eventually(t, "q5 in redis", func() bool { return len(redisKeys(t, srv)) == 1 })
	calls := mock.Calls()
	if x, _ := ask(b, "q5"); x != "HIT" || mock.Calls() != calls {
		t.Fatalf("after recovery: B %s, upstream calls %d→%d", x, calls, mock.Calls())
	}
}

func TestSharedCacheOtherVersionIgnored(t *testing.T) {
	srv := redistest.Start(t)
	mock, ps := sharedInstances(t, 2, srv, "")
	a, b := ps[0], ps[1]
	rawPost(t, a, "/v1/chat/completions", chatBody("q", false))
	waitRedisKeys(t, srv, 1)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer c.Close()
	key := redisKeys(t, srv)[0]
	raw, err := c.Get(context.Background(), key).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	raw[0]++ // the next format version
	// and a body no instance must ever serve
	raw = append(raw[:len(raw)-2], []byte(`"poisoned"}`)...)
	c.Set(context.Background(), key, raw, time.Minute)
	x, body := rawPost(t, b, "/v1/chat/completions", chatBody("q", false))
	if x != "MISS" || strings.Contains(body, "poisoned") || mock.Calls() != 2 {
		t.Fatalf("entry of another version: X-Cache %s, upstream calls %d, body %s", x, mock.Calls(), body)
	}
}

func TestSharedCacheCoalesceCluster(t *testing.T) {
	srv := redistest.Start(t)
	for _, tc := range []struct {
		extra string
		calls int64
	}{
		{"", 3},                     // each instance coalesces its own misses only (at most 3)
		{"\t\tcoalesce cluster", 1}, // one upstream call for all three
	} {
		mock, ps := sharedInstances(t, 3, srv, tc.extra)
		mock.SetOptions(mockupstream.Options{Latency: 300 * time.Millisecond})
		body := chatBody("the same question "+tc.extra, false)
		var wg sync.WaitGroup
		answers := make([]string, 9)
		for i := range answers {
			wg.Go(func() {
				resp, err := http.Post(ps[i%3].URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusOK {
					t.Errorf("status %d: %s", resp.StatusCode, b)
				}
				answers[i] = string(b)
			})
		}
		wg.Wait()
		if n := mock.Calls(); n != tc.calls && (tc.calls == 1 || n < 2) {
			t.Errorf("%q: 9 identical misses on 3 instances made %d upstream calls, want %d", tc.extra, n, tc.calls)
		}
		if tc.calls == 1 {
			for i, a := range answers {
				if a != answers[0] {
					t.Errorf("answer %d differs: %s vs %s", i, a, answers[0])
				}
			}
		}
	}
}

func TestSharedCacheSemanticEntries(t *testing.T) {
	srv := redistest.Start(t)
	mock, ps := sharedInstances(t, 2, srv, "\t\tsemantic")
	a, b := ps[0], ps[1]
	ca, cb := newClient(a, "key-1"), newClient(b, "key-1")
	first, r1 := ask(t, ca, chatParams(question))
	if r1.Header.Get("X-Cache") != "MISS" {
		t.Fatalf("A: %s", r1.Header.Get("X-Cache"))
	}
	start := time.Now()
	eventually(t, "B to learn A's question", func() bool { return b.metricValue("ragproxy_semantic_entries") == 1 })
	t.Logf("semantic entry A→B within %v (including /metrics polls)", time.Since(start))
	second, r2 := ask(t, cb, chatParams(paraphrase))
	if r2.Header.Get("X-Cache") != "SEMANTIC-HIT" || second.ID != first.ID || mock.Calls() != 1 {
		t.Fatalf("B, the question in other words: %s, %s vs %s, upstream calls %d", r2.Header.Get("X-Cache"), second.ID, first.ID, mock.Calls())
	}
	// Another tenant on B learns nothing from it.
	if _, r := ask(t, newClient(b, "key-2"), chatParams(paraphrase)); r.Header.Get("X-Cache") != "MISS" {
		t.Fatalf("another key: %s", r.Header.Get("X-Cache"))
	}
}
