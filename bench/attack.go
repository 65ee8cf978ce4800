package main

// go run ./bench attack: the adversarial suite of issue 12. It starts a
// real Caddy in this process with the whole pipeline (rag_rate_limit →
// rag_split → rag_cache → rag_fallback → reverse_proxy) in front of an
// attack-aware upstream (attack_upstream.go), sends every attack class
// (attack_classes.go, attack_raw.go) from several workers for a bounded
// time, each paired with a victim request so that a leak shows, and
// reports per class: tried / refused / leaked / 5xx of ours.

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type attackOptions struct {
	Duration  time.Duration // load phase; 0: one iteration of every class (the test)
	Conns     int           // concurrent workers
	Classes   []string      // run only these (all when empty)
	NestReps  int           // quiet-phase repetitions of each nesting shape
	MaxIters  int           // per class; 0 unbounded (until Duration)
	Verbose   bool
	LogWriter io.Writer // progress lines; nil for none
}

// tally counts one attack class's outcomes.
type tally struct {
	tried, refused, noAnswer, leaked, failed, ours5xx, up5xx, apology atomic.Int64

	mu       sync.Mutex
	examples []string // the first few leaks and failures, for the report
	notes    []string
}

func (t *tally) example(kind, format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.examples) < 4 {
		t.examples = append(t.examples, kind+": "+fmt.Sprintf(format, args...))
	}
}

// leak records answers a caller must not have received, or budget spent
// past the allowed overshoot.
func (t *tally) leak(n int, format string, args ...any) {
	if n <= 0 {
		return
	}
	t.leaked.Add(int64(n))
	t.example("leak", format, args...)
}

// fail records a broken guarantee that is not an answer leak: a resource
// bound exceeded, or a control check showing the attack would be vacuous.
func (t *tally) fail(format string, args ...any) {
	t.failed.Add(1)
	t.example("fail", format, args...)
}

func (t *tally) note(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.notes = append(t.notes, fmt.Sprintf(format, args...))
}

type attackClass struct {
	name    string
	finding string // issue 12's finding number, or "weak" / "http"
	what    string // one line for the report
	run     func(e *attackEnv, t *tally, it int)
	// needs names a config feature (see attackFeatures) without which the
	// class cannot be configured; it is then reported as not run.
	needs string
	tally tally
}

// attackEnv is the system under attack.
type attackEnv struct {
	up                                    *attackUpstream
	mainURL, bareURL, tenantURL           string // http://127.0.0.1:port, no path
	brk429URL, brkSlowURL                 string
	mainAddr, brkSlowAddr                 string
	adminURL                              string
	tlsURL                                string // https://127.0.0.1:port: the pipeline asking for client certificates
	tlsClients                            [2]*http.Client
	client                                *http.Client
	missing                               map[string]string // config feature → why it is not available
	seq                                   atomic.Int64
	stop                                  func()
	measureNesting                        bool // quiet phase: count CPU and allocation per request
	nestMu                                sync.Mutex
	nestAllocPerReq, nestCPUPerReq, nestB map[string]float64
}

func (e *attackEnv) next() int64 { return e.seq.Add(1) }

type attackReq struct {
	method, url string
	header      http.Header
	body        []byte
}

type attackResp struct {
	status int
	header http.Header
	body   []byte // decoded when the answer was gzip
}

// labels are the caller labels the answer carries: the upstream's header
// and every marker in the body.
func (r *attackResp) labels() []string {
	var out []string
	if l := r.header.Get(hdrLabel); l != "" {
		out = append(out, l)
	}
	b := r.body
	for {
		i := bytes.Index(b, []byte(labelOpen))
		if i < 0 {
			break
		}
		b = b[i+len(labelOpen):]
		j := bytes.Index(b, []byte(labelClose))
		if j < 0 {
			break
		}
		if l := string(b[:j]); !slices.Contains(out, l) {
			out = append(out, l)
		}
		b = b[j:]
	}
	return out
}

// group is a label without its last element: callers whose labels share
// a group may receive each other's answers.
func group(label string) string {
	if i := strings.LastIndexByte(label, '/'); i >= 0 {
		return label[:i]
	}
	return label
}

// send makes one request and counts it: tried, refused (a 4xx the proxy
// made), no answer, 5xx of ours or of the upstream, a fallback apology.
func (e *attackEnv) send(t *tally, r attackReq) *attackResp { return e.sendWith(e.client, t, r) }

func (e *attackEnv) sendWith(client *http.Client, t *tally, r attackReq) *attackResp {
	t.tried.Add(1)
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequest(r.method, r.url, body)
	if err != nil {
		t.noAnswer.Add(1)
		return nil
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	if req.Header.Get("X-User") == "" {
		// One sticky value for every caller that is not part of an
		// experiment attack: rag_split puts them all in the same variant,
		// so a pair of callers always shares a cache partition and a leak
		// between them cannot hide behind a variant split.
		req.Header.Set("X-User", "attack-pairs")
	}
	if r.body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.noAnswer.Add(1)
		t.example("no answer", "%s %s: %v", r.method, r.url, err)
		return nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.noAnswer.Add(1)
		t.example("no answer", "%s %s: reading the answer: %v", r.method, r.url, err)
		return nil
	}
	if resp.Header.Get("Content-Encoding") == "gzip" {
		if zr, err := gzip.NewReader(bytes.NewReader(b)); err == nil {
			if d, err := io.ReadAll(zr); err == nil {
				b = d
			}
		}
	}
	a := &attackResp{status: resp.StatusCode, header: resp.Header, body: b}
	e.classify(t, a, r.method+" "+r.url)
	return a
}

func (e *attackEnv) classify(t *tally, a *attackResp, what string) {
	fromUpstream := a.header.Get(hdrUpstream) != ""
	switch {
	case a.status >= 500 && fromUpstream:
		t.up5xx.Add(1)
	case a.status == http.StatusNotImplemented:
		// net/http's answer to a transfer coding it does not know, as
		// RFC 9112 section 6.1 asks: a refusal, not a failure.
		t.refused.Add(1)
	case a.status >= 500:
		t.ours5xx.Add(1)
		t.example("5xx of ours", "%s: %d %.200s", what, a.status, a.body)
	case a.status >= 400 && !fromUpstream:
		t.refused.Add(1)
	}
	if a.header.Get(hdrApology) != "" {
		t.apology.Add(1)
	}
}

// expectOwn records a leak when the answer carries a label of another
// group than mine.
func (t *tally) expectOwn(a *attackResp, mine, what string) {
	if a == nil {
		return
	}
	for _, l := range a.labels() {
		if group(l) != group(mine) {
			t.leak(1, "%s: caller %s received the answer of %s (X-Cache %s)", what, mine, l, a.header.Get("X-Cache"))
			return
		}
	}
}

func (e *attackEnv) label(class string, it int, grp string) string {
	return fmt.Sprintf("%s/%d/%s/%d", class, it, grp, e.next())
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// attackFeatures are config lines the fixes of issue 12 introduce: when
// the running code does not parse one, the classes that need it are
// reported as not run (and count as open) while the rest still run.
var attackFeatures = []struct{ name, marker string }{
	{"scope_headers", "scope_headers X-Auth-User"},
}

// attackCaddyfile is the configuration under attack. main is the whole
// pipeline on one route; bare is the token zone alone in front of the
// upstream (no rag_cache to hide budget holes); tenant is a cache scoped
// by a placeholder; brk429 and brkSlow are the pipeline with breakers of
// their own, so the breaker attacks do not disturb the other classes.
func attackCaddyfile(addrs []string, upstream, certFile, keyFile string, without map[string]bool) string {
	site := func(addr, body string) string {
		_, port, _ := strings.Cut(addr, ":")
		return fmt.Sprintf("http://:%s {\n\tbind 127.0.0.1\n%s}\n\n", port, body)
	}
	zones := `	rag_rate_limit {
		zone attack_tokens {
			key {http.request.header.Authorization}
			tokens 100/h
		}
		zone attack_rate {
			key {http.request.header.X-Rate-Key}
			rate 1/s
			burst 3
		}
		zone attack_conc {
			key {http.request.header.X-Conc-Key}
			concurrent 1
			max_keys 64
		}
	}
`
	cacheExtra := ""
	if !without["scope_headers"] {
		cacheExtra = "\t\tscope_headers X-Auth-User\n"
	}
	pipeline := func(name, breaker, timeout string) string {
		return zones + `	rag_split attack_exp {
		sticky {http.request.header.X-User}
		variant control 50
		variant treatment 50
	}
	rag_cache attack_` + name + ` {
		semantic
` + cacheExtra + `	}
	rag_fallback {
		tier primary {
` + timeout + `			breaker attack_` + name + ` {
` + breaker + `			}
			reverse_proxy ` + upstream + `
		}
		tier apology {
			header ` + hdrApology + ` 1
			header Content-Type application/json
			respond ` + "`" + `{"apology":"The assistant is busy, please retry."}` + "`" + ` 200
		}
	}
`
	}
	mainBody := "\thandle /feedback {\n\t\trag_feedback attack_exp\n\t}\n\thandle {\n" +
		indent(pipeline("main", "\t\t\t\tfailures 1000\n\t\t\t\twindow 10s\n", "")) + "\t}\n"
	return site(addrs[0], mainBody) +
		site(addrs[1], zones+"\treverse_proxy "+upstream+"\n") +
		site(addrs[2], "\trag_cache attack_tenant {\n\t\tscope {http.request.header.X-Tenant}\n\t}\n\treverse_proxy "+upstream+"\n") +
		site(addrs[3], pipeline("b429", "\t\t\t\tfailures 3\n\t\t\t\twindow 30s\n\t\t\t\topen 5s\n", "")) +
		site(addrs[4], pipeline("bslow", "\t\t\t\tfailures 2\n\t\t\t\twindow 30s\n\t\t\t\topen 5s\n", "\t\t\ttimeout "+slowTierTimeout.String()+"\n")) +
		strings.Replace(site(addrs[5], fmt.Sprintf("\ttls %s %s {\n\t\tclient_auth {\n\t\t\tmode request\n\t\t}\n\t}\n", certFile, keyFile)+
			pipeline("tls", "\t\t\t\tfailures 1000\n\t\t\t\twindow 10s\n", "")), "http://", "https://", 1)
}

// slowTierTimeout is the breaker-slow-client tier's timeout. The tier's
// own time includes the proxy's CPU time on the 32 MiB answer, which the
// race detector and a busy 2-core machine stretch past a second; the
// clients stall well past this timeout all the same.
const slowTierTimeout = 4 * time.Second

func indent(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "\t" + l
	}
	return strings.Join(lines, "\n") + "\n"
}

// startAttack starts the upstream and Caddy. Config features the code does
// not parse yet are dropped one at a time and listed in env.missing.
func startAttack() (*attackEnv, error) {
	up := startAttackUpstream()
	addrs, err := freeAddrs(7)
	if err != nil {
		up.srv.Close()
		return nil, err
	}
	tlsDir, err := os.MkdirTemp("", "ragproxy-attack-tls-")
	if err != nil {
		up.srv.Close()
		return nil, err
	}
	certFile, keyFile, err := writeServerCert(tlsDir)
	if err != nil {
		up.srv.Close()
		os.RemoveAll(tlsDir)
		return nil, err
	}
	without := map[string]bool{}
	missing := map[string]string{}
	var stopCaddy func() error
	for {
		cf := attackCaddyfile(addrs[:6], up.addr(), certFile, keyFile, without)
		stopCaddy, err = startCaddyAdmin(addrs[6], cf, addrs[:6]...)
		if err == nil {
			break
		}
		dropped := false
		for _, f := range attackFeatures {
			if !without[f.name] && strings.Contains(err.Error(), strings.Fields(f.marker)[0]) {
				without[f.name] = true
				missing[f.name] = firstLine(err.Error())
				dropped = true
			}
		}
		if !dropped {
			up.srv.Close()
			os.RemoveAll(tlsDir)
			return nil, err
		}
	}
	tr := &http.Transport{
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 64,
		DisableCompression:  true, // the attacks set Accept-Encoding themselves
		IdleConnTimeout:     30 * time.Second,
	}
	e := &attackEnv{
		up:          up,
		mainURL:     "http://" + addrs[0],
		bareURL:     "http://" + addrs[1],
		tenantURL:   "http://" + addrs[2],
		brk429URL:   "http://" + addrs[3],
		brkSlowURL:  "http://" + addrs[4],
		mainAddr:    addrs[0],
		brkSlowAddr: addrs[4],
		adminURL:    "http://" + addrs[6],
		tlsURL:      "https://" + tlsServerName + ":" + addrs[5][strings.LastIndexByte(addrs[5], ':')+1:],
		client:      &http.Client{Transport: tr, Timeout: 60 * time.Second},
		missing:     missing,
	}
	if e.tlsClients, err = tlsClients(addrs[5]); err != nil {
		e.tlsURL = ""
	}
	e.stop = func() {
		tr.CloseIdleConnections()
		stopCaddy()
		up.srv.Close()
		os.RemoveAll(tlsDir)
	}
	return e, nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// attackResult is what a run measured.
type attackResult struct {
	Classes     []*attackClass
	Elapsed     time.Duration
	CPU         time.Duration // user+system time of this process during the run
	PeakRSS     uint64        // VmHWM
	Missing     map[string]string
	Nesting     map[string][3]float64 // shape → body bytes, alloc/request, CPU s/request
	Requests    int64
	UpRequests  int
	SkippedByOp []string
}

// ok is true when no class leaked, failed a check, answered a 5xx of ours,
// or could not be configured.
func (r *attackResult) ok() bool {
	for _, c := range r.Classes {
		if c.tally.leaked.Load() > 0 || c.tally.failed.Load() > 0 || c.tally.ours5xx.Load() > 0 || (c.needs != "" && r.Missing[c.needs] != "") {
			return false
		}
	}
	return true
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS is VmHWM from /proc/self/status, in bytes.
func peakRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// runAttack starts the system, measures the nesting shapes alone, then
// runs every class from o.Conns workers: once each when o.Duration is 0,
// else round-robin until o.Duration has passed (or o.MaxIters per class).
func runAttack(o attackOptions) (*attackResult, error) {
	e, err := startAttack()
	if err != nil {
		return nil, err
	}
	defer e.stop()
	classes := attackClasses()
	if len(o.Classes) > 0 {
		classes = slices.DeleteFunc(classes, func(c *attackClass) bool { return !slices.Contains(o.Classes, c.name) })
	}
	logf := func(format string, args ...any) {
		if o.LogWriter != nil {
			fmt.Fprintf(o.LogWriter, format+"\n", args...)
		}
	}
	res := &attackResult{Classes: classes, Missing: e.missing}
	cpu0, t0 := cpuTime(), time.Now()

	// Quiet phase: the nesting shapes alone, so their CPU and allocation
	// per request can be read from the process counters.
	e.measureNesting = true
	for _, c := range classes {
		if c.name == "nesting" {
			reps := max(o.NestReps, 1)
			for i := range reps {
				c.run(e, &c.tally, -1-i)
			}
		}
	}
	e.measureNesting = false
	res.Nesting = map[string][3]float64{}
	for k := range e.nestAllocPerReq {
		res.Nesting[k] = [3]float64{e.nestB[k], e.nestAllocPerReq[k], e.nestCPUPerReq[k]}
	}

	// Load phase.
	var runnable []*attackClass
	for _, c := range classes {
		if c.needs != "" && e.missing[c.needs] != "" {
			continue
		}
		runnable = append(runnable, c)
	}
	maxIters := o.MaxIters
	if o.Duration <= 0 {
		maxIters = 1
	}
	deadline := time.Now().Add(o.Duration)
	var job atomic.Int64
	var wg sync.WaitGroup
	for range max(o.Conns, 1) {
		wg.Go(func() {
			for {
				j := int(job.Add(1) - 1)
				c, it := runnable[j%len(runnable)], j/len(runnable)
				if maxIters > 0 && it >= maxIters {
					return
				}
				if o.Duration > 0 && time.Now().After(deadline) {
					return
				}
				start := time.Now()
				c.run(e, &c.tally, it)
				if o.Verbose {
					logf("%-28s it %d: %v", c.name, it, time.Since(start).Round(time.Millisecond))
				}
			}
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(t0)
	res.CPU = cpuTime() - cpu0
	res.PeakRSS = peakRSS()
	for _, c := range classes {
		res.Requests += c.tally.tried.Load()
	}
	e.up.mu.Lock()
	res.UpRequests = e.up.requests
	e.up.mu.Unlock()
	return res, nil
}

// attackReport renders the result as markdown for BENCHMARKS.md.
func attackReport(o attackOptions, r *attackResult) string {
	var b strings.Builder
	mode := "one iteration of every class"
	if o.Duration > 0 {
		mode = fmt.Sprintf("%v of load from %d workers", o.Duration, o.Conns)
	}
	fmt.Fprintf(&b, "### Adversarial suite (`go run ./bench attack`)\n\n%s, %s, %d CPUs. "+
		"Refused: a 4xx the proxy made. Leaked: an answer a caller must not get, or budget spent past one answer's overshoot per key and window (must be 0). "+
		"Failed: a bound or control check broken (must be 0). 5xx ours: a 5xx without the upstream's marker header (must be 0; a 501 for an unknown transfer coding, as RFC 9112 asks, counts as refused). Apology: answers from the static fallback tier.\n\n",
		mode, runtime.Version(), runtime.NumCPU())
	var rows [][]string
	var tot [8]int64
	for _, c := range r.Classes {
		t := &c.tally
		vals := []int64{t.tried.Load(), t.refused.Load(), t.noAnswer.Load(), t.leaked.Load(), t.failed.Load(), t.ours5xx.Load(), t.up5xx.Load(), t.apology.Load()}
		for i, v := range vals {
			tot[i] += v
		}
		row := []string{c.name, c.finding}
		for _, v := range vals {
			row = append(row, strconv.FormatInt(v, 10))
		}
		verdict := "closed"
		switch {
		case c.needs != "" && r.Missing[c.needs] != "":
			verdict = "NOT RUN: config `" + c.needs + "` not accepted"
		case t.leaked.Load() > 0 || t.failed.Load() > 0 || t.ours5xx.Load() > 0:
			verdict = "**OPEN**"
		case t.tried.Load() == 0:
			verdict = "not run"
		}
		row = append(row, verdict)
		rows = append(rows, row)
	}
	total := []string{"**total**", ""}
	for _, v := range tot {
		total = append(total, strconv.FormatInt(v, 10))
	}
	verdict := "all closed"
	if !r.ok() {
		verdict = "**holes open**"
	}
	rows = append(rows, append(total, verdict))
	b.WriteString(markdownTable([]string{"attack class", "finding", "tried", "refused", "no answer", "leaked", "failed", "5xx ours", "5xx upstream", "apology", "verdict"}, rows))
	fmt.Fprintf(&b, "\n%d requests in %v (%d reached the upstream); process CPU %v (proxy, in-process clients and upstream together); peak RSS (VmHWM) %.0f MiB.\n",
		r.Requests, r.Elapsed.Round(time.Millisecond), r.UpRequests, r.CPU.Round(time.Millisecond), float64(r.PeakRSS)/(1<<20))
	if len(r.Nesting) > 0 {
		b.WriteString("\nNesting, measured alone (allocation and CPU of the whole process per request; bound: allocation ≤ 32 × body + 4 MiB):\n\n")
		var nrows [][]string
		for _, k := range slices.Sorted(maps.Keys(r.Nesting)) {
			v := r.Nesting[k]
			nrows = append(nrows, []string{k, fmt.Sprintf("%.0f KiB", v[0]/1024), fmt.Sprintf("%.1f MiB", v[1]/(1<<20)), fmt.Sprintf("%.1f ms", v[2]*1000)})
		}
		b.WriteString(markdownTable([]string{"shape", "body", "alloc/request", "CPU/request"}, nrows))
	}
	for name, why := range r.Missing {
		fmt.Fprintf(&b, "\nConfig `%s` was not accepted (%s); the classes needing it did not run and count as open.\n", name, why)
	}
	var ex []string
	for _, c := range r.Classes {
		c.tally.mu.Lock()
		for _, s := range c.tally.examples {
			ex = append(ex, fmt.Sprintf("- %s: %s", c.name, s))
		}
		for _, s := range c.tally.notes {
			ex = append(ex, fmt.Sprintf("- %s: note: %s", c.name, s))
		}
		c.tally.mu.Unlock()
	}
	if len(ex) > 0 {
		b.WriteString("\nExamples:\n\n" + strings.Join(ex, "\n") + "\n")
	}
	b.WriteString("\nClasses:\n\n")
	for _, c := range r.Classes {
		fmt.Fprintf(&b, "- `%s` (%s): %s\n", c.name, c.finding, c.what)
	}
	return b.String()
}

// dialRaw opens a TCP connection for a hand-written request.
func dialRaw(addr string) (net.Conn, error) {
	return net.DialTimeout("tcp", addr, 5*time.Second)
}
