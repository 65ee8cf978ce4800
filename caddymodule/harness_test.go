package caddymodule_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/ragproxy/ragproxy/caddymodule"
	"github.com/ragproxy/ragproxy/internal/mockupstream"
)

// proxy is a real Caddy running in this process. Caddy is a process-wide
// singleton, so tests that start one must not run in parallel.
type proxy struct {
	t      *testing.T
	URL    string // base URL of the site
	Admin  string // base URL of the admin API
	config []byte // the adapted JSON, for reloads
}

// startCaddy adapts a Caddyfile and runs it. The Caddyfile is a template:
// {SITE} and {ADMIN} become free loopback addresses.
func startCaddy(t *testing.T, caddyfile string) *proxy {
	t.Helper()
	site, releaseSite := reserveAddr(t)
	admin, releaseAdmin := reserveAddr(t)
	cf := strings.NewReplacer("{SITE}", site, "{ADMIN}", admin).Replace(caddyfile)
	cf = fmt.Sprintf("{\n\tadmin %s\n\tauto_https off\n\tpersist_config off\n\tgrace_period 1s\n\tlog {\n\t\toutput discard\n\t}\n}\n%s", admin, cf)
	cfg, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cf), nil)
	if err != nil {
		t.Fatalf("adapting Caddyfile: %v\n%s", err, cf)
	}
	_ = warnings // only "input is not formatted"
	err = caddy.Load(cfg, true)
	releaseSite() // Caddy holds them now (or failed to)
	releaseAdmin()
	if err != nil {
		t.Fatalf("loading config: %v", err)
	}
	t.Cleanup(func() {
		if err := caddy.Stop(); err != nil {
			t.Logf("stopping caddy: %v", err)
		}
	})
	p := &proxy{t: t, URL: "http://" + site, Admin: "http://" + admin, config: cfg}
	waitDial(t, site)
	return p
}

// reload loads the same config again, as `caddy reload` does.
// reloadSettle is how long after a reload the old servers may still drop
// a connection they took: their grace period (1s), and some margin.
const reloadSettle = 3 * time.Second

var lastReloadNanos atomic.Int64

func lastReload() time.Time { return time.Unix(0, lastReloadNanos.Load()) }

func (p *proxy) reload() {
	p.t.Helper()
	defer lastReloadNanos.Store(time.Now().UnixNano())
	if err := caddy.Load(p.config, true); err != nil {
		p.t.Fatalf("reloading: %v", err)
	}
	// The old servers close their keep-alive connections as they shut
	// down; a POST on one of those would fail with EOF (a client does not
	// retry a POST), so start on fresh connections as a real client would.
	http.DefaultClient.CloseIdleConnections()
}

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitDial polls addr until it accepts a connection or the deadline passes.
func waitDial(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not accepting connections: %v", addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// eventually polls cond until it is true or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// startMock runs the mock LLM upstream on loopback.
func startMock(t *testing.T, opts mockupstream.Options) (*mockupstream.Server, string) {
	t.Helper()
	s := mockupstream.New(opts)
	run, err := mockupstream.Start("127.0.0.1:0", s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Close() })
	return s, run.Addr
}

// post sends a JSON body and returns the answer with its body read.
func post(t *testing.T, url, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil && time.Since(lastReload()) < reloadSettle {
		// Caddy's Stop returns once the old servers have begun shutting
		// down; one may still take a connection and drop it. A client
		// retries a request that got no answer at all, and so do we, only
		// right after a reload.
		t.Logf("POST %s just after a reload: %v; trying again", url, err)
		req.Body = io.NopCloser(strings.NewReader(body))
		resp, err = http.DefaultClient.Do(req)
	}
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading answer of POST %s: %v", url, err)
	}
	return resp, string(b)
}

// get fetches a URL and returns the status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metricValue reads one sample from the admin /metrics endpoint; -1 when absent.
func (p *proxy) metricValue(name string, labels ...string) float64 {
	p.t.Helper()
	_, body := get(p.t, p.Admin+"/metrics")
	for line := range strings.SplitSeq(body, "\n") {
		if !strings.HasPrefix(line, name) {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if !ok {
			continue
		}
		var v float64
		fields := strings.Fields(line)
		if _, err := fmt.Sscan(fields[len(fields)-1], &v); err == nil {
			return v
		}
	}
	return -1
}

func chatBody(text string, stream bool) string {
	b, _ := json.Marshal(map[string]any{
		"model":    "mock-model",
		"messages": []map[string]string{{"role": "user", "content": text}},
		"stream":   stream,
	})
	return string(b)
}

// counter returns a function that reads how much a counter grew since
// counter was called (counters are process-wide, and go test -count=N
// runs a test several times in one process).
func (p *proxy) counter(name string, labels ...string) func() float64 {
	base := max(0, p.metricValue(name, labels...))
	return func() float64 { return max(0, p.metricValue(name, labels...)) - base }
}

// readLiveStream posts a streaming chat request to url and checks that the
// first event arrives while the upstream (a newGatedStream) holds the rest,
// then releases it and checks the rest of the stream.
func readLiveStream(t *testing.T, url string, release chan struct{}) *http.Response {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(chatBody("hi", true)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, len("data: first\n\n"))
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "data: first\n\n" {
		t.Fatalf("first event %q, %v (before the upstream went on)", buf, err)
	}
	close(release)
	if rest, err := io.ReadAll(resp.Body); err != nil || string(rest) != "data: second\n\ndata: [DONE]\n\n" {
		t.Errorf("rest of the stream %q, %v", rest, err)
	}
	return resp
}

// accessLog returns a site's `log` directive writing JSON to a new file,
// and that file's path.
func accessLog(t *testing.T) (directive, path string) {
	path = filepath.Join(t.TempDir(), "access.log")
	return "log {\n\t\toutput file " + path + "\n\t\tformat json\n\t}", path
}

// bodyRecorder is an upstream that keeps every request body it gets, in
// order, and answers each with what answer returns for its path (a JSON
// body).
type bodyRecorder struct {
	Addr   string // host:port, for reverse_proxy
	mu     sync.Mutex
	bodies []string
}

func recordBodies(t *testing.T, answer func(path string) string) *bodyRecorder {
	t.Helper()
	rec := new(bodyRecorder)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.bodies = append(rec.bodies, string(b))
		rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, answer(r.URL.Path))
	}))
	t.Cleanup(up.Close)
	rec.Addr = strings.TrimPrefix(up.URL, "http://")
	return rec
}

// Bodies returns the bodies received so far.
func (rec *bodyRecorder) Bodies() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.bodies)
}
