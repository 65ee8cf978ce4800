package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ragproxy/ragproxy/cache/rediscache"
	"github.com/ragproxy/ragproxy/internal/mockupstream"
	"github.com/ragproxy/ragproxy/redisconn"
)

// The shared cache (rag_cache redis): one Caddy config in this process
// with a server per instance. Servers whose caches have the same name and
// Redis but different memory sizes hold separate memory stores (the
// store pool keys on the sizes) sharing one Redis key space: instances of
// ragproxy as far as the cache can tell.
type sharedOptions struct {
	Duration  time.Duration
	Conns     int
	Misses    int
	Requests  int
	Questions int
	Zipf      float64
	Timeout   time.Duration
	Semantic  bool
}

func sharedCmd(args []string) error {
	fs := flag.NewFlagSet("shared", flag.ExitOnError)
	o := sharedOptions{}
	fs.DurationVar(&o.Duration, "duration", 3*time.Second, "measured time of each throughput scenario")
	fs.IntVar(&o.Conns, "conns", 16, "concurrent connections of the throughput scenarios")
	fs.IntVar(&o.Misses, "misses", 2000, "sequential misses timed with and without Redis")
	fs.IntVar(&o.Requests, "requests", 20000, "requests of the replayed question stream (hit rate)")
	fs.IntVar(&o.Questions, "questions", 5000, "distinct questions of the replayed stream")
	fs.Float64Var(&o.Zipf, "zipf", 1.1, "Zipf exponent of the replayed stream's question popularity")
	fs.DurationVar(&o.Timeout, "redis-timeout", 100*time.Millisecond, "the shared caches' redis_timeout")
	fs.BoolVar(&o.Semantic, "semantic-only", false, "measure only the propagation of semantic questions")
	_ = fs.Parse(args)
	if o.Semantic {
		rds, err := startRedis()
		if err != nil {
			return err
		}
		defer rds.stop()
		fmt.Printf("shared cache bench — %s, semantic propagation only, redis_timeout %s\n", time.Now().UTC().Format(time.RFC1123), o.Timeout)
		return semanticPropagation(rds.URL, o.Timeout)
	}
	return runShared(o)
}

func runShared(o sharedOptions) error {
	rds, err := startRedis()
	if err != nil {
		return err
	}
	defer rds.stop()
	up, err := mockupstream.Start("127.0.0.1:0", mockupstream.New(mockupstream.Options{}))
	if err != nil {
		return err
	}
	defer up.Close()

	// respond, memory-only, three shared instances, three lone instances,
	// one shared instance with coalesce cluster
	addrs, err := freeAddrs(10)
	if err != nil {
		return err
	}
	var cf strings.Builder
	fmt.Fprintf(&cf, "http://%s {\n\trespond `{\"ok\":true}` 200\n}\n", addrs[0])
	fmt.Fprintf(&cf, "http://%s {\n\trag_cache memonly {\n\t\tscope shared\n\t}\n\treverse_proxy %s\n}\n", addrs[1], up.Addr)
	for i := range 3 {
		fmt.Fprintf(&cf, "http://%s {\n\trequest_header Host llm.example\n\trag_cache shared {\n\t\tscope shared\n\t\tmax_size %dMiB\n\t\tredis %s\n\t\tredis_timeout %s\n\t}\n\treverse_proxy %s\n}\n", addrs[2+i], 64+i, rds.URL, o.Timeout, up.Addr)
		fmt.Fprintf(&cf, "http://%s {\n\trequest_header Host llm.example\n\trag_cache lone%d {\n\t\tscope shared\n\t}\n\treverse_proxy %s\n}\n", addrs[5+i], i, up.Addr)
	}
	fmt.Fprintf(&cf, "http://%s {\n\trequest_header Host llm.example\n\trag_cache clustered {\n\t\tscope shared\n\t\tredis %s\n\t\tredis_timeout %s\n\t\tcoalesce cluster\n\t}\n\treverse_proxy %s\n}\n", addrs[8], rds.URL, o.Timeout, up.Addr)
	admin := addrs[9]
	stop, err := startCaddyAdmin(admin, cf.String(), addrs[:9]...)
	if err != nil {
		return err
	}
	defer stop()
	url := func(i int) string { return "http://" + addrs[i] + chatPath }
	respondURL, memURL := "http://"+addrs[0]+"/", url(1)
	shared := []string{url(2), url(3), url(4)}
	lone := []string{url(5), url(6), url(7)}

	fmt.Printf("shared cache bench — %s, %d conns, %s per throughput scenario, redis_timeout %s\n\n", time.Now().UTC().Format(time.RFC1123), o.Conns, o.Duration, o.Timeout)

	// 1. Throughput: respond, memory hit, Redis hit (memory miss).
	same := chatBody("What is a shared cache?")
	if _, _, err := post(shared[0], same); err != nil {
		return err
	}
	respond, err := runLoad(target{url: respondURL, body: func() []byte { return same }}, o.Conns, 500*time.Millisecond, o.Duration)
	if err != nil {
		return err
	}
	memHit, err := runLoad(target{url: shared[0], body: func() []byte { return same }, wantCache: "HIT"}, o.Conns, 500*time.Millisecond, o.Duration)
	if err != nil {
		return err
	}
	// Redis hits: questions instance 0 answered, asked once each on instance 1.
	n := int(memHit.RPS()*(o.Duration.Seconds()+1)) + 1000
	n = min(n, 400000)
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i] = chatBody(fmt.Sprintf("Shared question %d?", i))
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	fillErr := make(chan error, o.Conns)
	for range o.Conns {
		wg.Go(func() {
			client := &http.Client{}
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				resp, err := client.Post(shared[0], "application/json", bytes.NewReader(bodies[i]))
				if err != nil {
					fillErr <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	select {
	case err := <-fillErr:
		return err
	default:
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		keys, err := rds.dbsize()
		if err == nil && keys >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // poll, bounded by the deadline
	}
	filled := n
	next.Store(0)
	redisHit, err := runLoad(target{url: shared[1], body: func() []byte { return bodies[int(next.Add(1)-1)%filled] }, wantCache: "HIT"}, o.Conns, 0, o.Duration)
	if err != nil {
		return err
	}
	if int(next.Load()) > filled {
		fmt.Printf("note: the Redis-hit run wrapped around its %d questions; later ones were memory hits\n", filled)
	}
	fmt.Println("| scenario | req/s | ratio to memory hit | ratio to respond | p50 | p99 |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, r := range []struct {
		name string
		res  loadResult
	}{{"respond", respond}, {"memory hit", memHit}, {"Redis hit (memory miss)", redisHit}} {
		l := summarize(r.res.Latencies)
		fmt.Printf("| %s | %.0f | %.2f | %.2f | %v | %v |\n", r.name, r.res.RPS(), r.res.RPS()/memHit.RPS(), r.res.RPS()/respond.RPS(), l.P50, l.P99)
		if r.res.Errors > 0 || r.res.BadCache > 0 {
			fmt.Printf("  (%s: %d errors, %d answers with another X-Cache)\n", r.name, r.res.Errors, r.res.BadCache)
		}
	}

	// 2. Latency of a miss, one client, without and with Redis.
	miss := func(u, tag string) (latencySummary, error) {
		lat := make([]time.Duration, 0, o.Misses)
		for i := range o.Misses {
			body := chatBody(fmt.Sprintf("Miss %s %d?", tag, i))
			t0 := time.Now()
			resp, _, err := post(u, body)
			if err != nil {
				return latencySummary{}, err
			}
			if resp.Header.Get("X-Cache") != "MISS" {
				return latencySummary{}, fmt.Errorf("%s: X-Cache %q, want MISS", tag, resp.Header.Get("X-Cache"))
			}
			lat = append(lat, time.Since(t0))
		}
		return summarize(lat), nil
	}
	var memMiss, redisMiss, clusterMiss latencySummary
	if memMiss, err = miss(memURL, "mem"); err != nil {
		return err
	}
	if redisMiss, err = miss(shared[2], "redis"); err != nil {
		return err
	}
	if clusterMiss, err = miss(url(8), "cluster"); err != nil {
		return err
	}
	fmt.Printf("\n| miss (new connection each, %d sequential) | p50 | p99 |\n|---|---|---|\n", o.Misses)
	fmt.Printf("| memory only | %v | %v |\n| with Redis (GET miss + queued write) | %v | %v |\n", memMiss.P50, memMiss.P99, redisMiss.P50, redisMiss.P99)
	fmt.Printf("| added by Redis | %v | %v |\n", redisMiss.P50-memMiss.P50, redisMiss.P99-memMiss.P99)
	fmt.Printf("| with Redis and coalesce cluster (GET miss + SET NX lease + queued write) | %v | %v |\n", clusterMiss.P50, clusterMiss.P99)
	fmt.Printf("| added by coalesce cluster over Redis alone | %v | %v |\n", clusterMiss.P50-redisMiss.P50, clusterMiss.P99-redisMiss.P99)

	// 3. Hit rate of 3 instances round robin on a replayed Zipf stream.
	rate := func(urls []string, tag string) (float64, error) {
		z := rand.NewZipf(rand.New(rand.NewPCG(3, 4)), o.Zipf, 1, uint64(o.Questions-1))
		hits := 0
		client := &http.Client{}
		for i := range o.Requests {
			body := chatBody(fmt.Sprintf("Replayed %s %d?", tag, z.Uint64()))
			req, _ := http.NewRequest(http.MethodPost, urls[i%len(urls)], strings.NewReader(string(body)))
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				return 0, err
			}
			resp.Body.Close()
			if resp.Header.Get("X-Cache") == "HIT" {
				hits++
			}
		}
		return float64(hits) / float64(o.Requests), nil
	}
	one, err := rate([]string{memURL}, "one")
	if err != nil {
		return err
	}
	three, err := rate(lone, "lone")
	if err != nil {
		return err
	}
	threeRedis, err := rate(shared, "shared")
	if err != nil {
		return err
	}
	if err := printRedisMetrics("http://" + admin + "/metrics"); err != nil {
		return err
	}
	fmt.Printf("\n| hit rate, %d requests over %d questions (Zipf s=%.2f) | hit rate |\n|---|---|\n", o.Requests, o.Questions, o.Zipf)
	fmt.Printf("| 1 instance | %.1f%% |\n| 3 instances round robin, memory only | %.1f%% |\n| 3 instances round robin, Redis behind | %.1f%% |\n", 100*one, 100*three, 100*threeRedis)
	return semanticPropagation(rds.URL, o.Timeout)
}

// semanticPropagation times how long a question one instance remembers
// takes to reach another's index through the Redis Stream: 500 questions,
// one at a time, from Publish to the other feed's callback.
func semanticPropagation(url string, timeout time.Duration) error {
	const n = 500
	received := make(chan time.Time, n)
	var feeds []*rediscache.Feed
	for i := range 2 {
		conn, err := redisconn.New(url, timeout, nil)
		if err != nil {
			return err
		}
		defer conn.Close()
		cfg := rediscache.FeedConfig{Cache: "propagation", Embedder: "local/256", MaxLen: 10000, TTL: time.Minute}
		if i == 1 {
			cfg.OnQuestion = func(rediscache.Question) { received <- time.Now() }
		}
		f, err := rediscache.NewFeed(conn, cfg)
		if err != nil {
			return err
		}
		defer f.Close()
		feeds = append(feeds, f)
	}
	vec := make([]float32, 256)
	for i := range vec {
		vec[i] = float32(i) / 256
	}
	lat := make([]time.Duration, 0, n)
	for i := range n + 1 { // the first, not counted, waits for the reader to start
		sent := time.Now()
		feeds[0].Publish(rediscache.Question{Scope: "s", Query: fmt.Sprintf("question %d", i), Vec: vec, Key: "k", At: sent})
		select {
		case at := <-received:
			if i > 0 {
				lat = append(lat, at.Sub(sent))
			}
		case <-time.After(5 * time.Second):
			return fmt.Errorf("question %d never arrived", i)
		}
	}
	l := summarize(lat)
	fmt.Printf("\n| semantic question, one instance to another (%d, 256 dims) | p50 | p99 | max |\n|---|---|---|---|\n| through the Redis Stream | %v | %v | %v |\n", n, l.P50, l.P99, l.Max)
	return nil
}

// printRedisMetrics prints the shared cache's Redis counters: errors (a
// timed-out GET is a miss) and dropped writes explain a lower hit rate.
func printRedisMetrics(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	fmt.Println()
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(line, "ragproxy_cache_redis_errors_total") || strings.HasPrefix(line, "ragproxy_cache_redis_dropped") ||
			strings.HasPrefix(line, "ragproxy_cache_lookups_total{cache=\"shared\"") {
			fmt.Println("    " + line)
		}
	}
	return nil
}
