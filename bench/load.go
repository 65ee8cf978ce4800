package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// target is what one scenario sends: a POST of a JSON body to url. body
// returns the body of the next request (it must not be modified after, a
// transport may still read it); wantCache, when set, is the X-Cache value
// every answer must carry; header, when set, replaces the default request
// header (it is shared by every request and must not be modified).
type target struct {
	url       string
	body      func() []byte
	wantCache string
	header    http.Header
}

// loadResult is one measured run of a target.
type loadResult struct {
	Requests  int           // completed with status 200 inside the window
	Errors    int           // transport errors and non-200 answers
	BadCache  int           // answers whose X-Cache was not wantCache
	Elapsed   time.Duration // the measurement window
	Latencies []time.Duration
	CPU       cpuUse // CPU of this process and of others during the window
}

// RPS is the completed requests per second.
func (r loadResult) RPS() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// CPUPerRequest is the CPU time this whole process (load generator,
// Caddy and mock upstream alike) spent per completed request. Unlike
// RPS, it barely moves when other processes take CPU away.
func (r loadResult) CPUPerRequest() time.Duration {
	if r.Requests == 0 {
		return 0
	}
	return time.Duration(r.CPU.Self * float64(r.Elapsed) / float64(r.Requests))
}

// runLoad drives t with conns workers, each on its own keep-alive HTTP/1.1
// connection, sending back to back. The first warmup is not measured (it
// opens the connections); then requests that complete within the next d
// are counted and timed.
func runLoad(t target, conns int, warmup, d time.Duration) (loadResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), warmup+d+30*time.Second)
	defer cancel()
	start := time.Now().Add(warmup)
	end := start.Add(d)

	results := make([]loadResult, conns)
	errs := make([]error, conns)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() { results[i], errs[i] = worker(ctx, t, start, end) })
	}
	// Read the CPU counters when the window opens and once every worker
	// has stopped (just after it closes).
	first := make(chan cpuSample, 1)
	timer := time.AfterFunc(time.Until(start), func() { first <- sampleCPU() })
	wg.Wait()
	last := sampleCPU()
	timer.Stop()
	var cpu cpuUse
	select {
	case s := <-first:
		cpu = last.since(s)
	default:
	}

	total := loadResult{Elapsed: d, CPU: cpu}
	n := 0
	for _, r := range results {
		n += len(r.Latencies)
	}
	total.Latencies = make([]time.Duration, 0, n)
	for i, r := range results {
		if errs[i] != nil {
			return total, errs[i]
		}
		total.Requests += r.Requests
		total.Errors += r.Errors
		total.BadCache += r.BadCache
		total.Latencies = append(total.Latencies, r.Latencies...)
	}
	return total, nil
}

// jsonHeader is shared, read-only, by every request.
var jsonHeader = http.Header{"Content-Type": {"application/json"}}

// worker sends requests one after the other until end on a client of its
// own that keeps exactly one connection open.
func worker(ctx context.Context, t target, start, end time.Time) (loadResult, error) {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        1,
		MaxIdleConnsPerHost: 1,
		MaxConnsPerHost:     1,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true, // the cache would answer identity anyway; keep bodies comparable
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	var res loadResult
	res.Latencies = make([]time.Duration, 0, 1<<14)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(t.body()))
		if err != nil {
			return res, err
		}
		req.Header = jsonHeader
		if t.header != nil {
			req.Header = t.header
		}

		t0 := time.Now()
		resp, err := client.Do(req)
		ok := err == nil
		badCache := false
		if ok {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			ok = err == nil && resp.StatusCode == http.StatusOK
			badCache = t.wantCache != "" && resp.Header.Get("X-Cache") != t.wantCache
		}
		t1 := time.Now()

		if ctx.Err() != nil {
			return res, fmt.Errorf("load on %s did not finish in time: %w", t.url, ctx.Err())
		}
		if t1.After(end) {
			return res, nil
		}
		if t1.Before(start) {
			continue // warmup
		}
		switch {
		case !ok:
			res.Errors++
		case badCache:
			res.BadCache++
		default:
			res.Requests++
			res.Latencies = append(res.Latencies, t1.Sub(t0))
		}
	}
}
