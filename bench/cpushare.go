package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/google/pprof/profile"
)

// Where a scenario's CPU goes, per request: each sample of its CPU
// profiles is charged to the innermost part of the request's path on its
// stack (a handler's own code, the semantic index, reverse_proxy, the
// mock upstream, the load generator, ...), and each part's share of the
// samples is scaled to the measured CPU per request. Allocation and GC
// assists count for the part that allocated; the background GC and the
// scheduler are parts of their own.

// cpuPart names a part of the path by the frames that enter it.
type cpuPart struct {
	name   string
	frames []string // function name prefixes
}

// cpuParts, innermost first where they nest.
var cpuParts = []cpuPart{
	{"semantic index builds (background)", []string{"github.com/ragproxy/ragproxy/semantic.(*Index).runBuild"}},
	{"rag_cache: semantic lookup and add", []string{
		"github.com/ragproxy/ragproxy/caddymodule.(*CacheHandler).semanticLookup",
		"github.com/ragproxy/ragproxy/semantic.(*Store).Add"}},
	{"reverse_proxy", []string{"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy.(*Handler).ServeHTTP"}},
	{"rag_fallback", []string{"github.com/ragproxy/ragproxy/caddymodule.(*FallbackHandler).serve"}},
	{"rag_cache", []string{"github.com/ragproxy/ragproxy/caddymodule.(*CacheHandler).serve"}},
	{"rag_split", []string{"github.com/ragproxy/ragproxy/caddymodule.(*SplitHandler).serve"}},
	{"rag_rate_limit", []string{"github.com/ragproxy/ragproxy/caddymodule.(*RateLimitHandler).serve"}},
	{"rag_validate", []string{"github.com/ragproxy/ragproxy/caddymodule.(*ValidateHandler).serve"}},
	{"rag_prompt_cache", []string{"github.com/ragproxy/ragproxy/caddymodule.(*PromptCacheHandler).serve"}},
	{"ragproxy timing and cost metering", []string{"github.com/ragproxy/ragproxy/caddymodule.serveTimed"}},
	{"mock upstream", []string{"github.com/ragproxy/ragproxy/internal/mockupstream."}},
	{"Caddy's server and routes", []string{"github.com/caddyserver/caddy/v2/modules/caddyhttp.(*Server).ServeHTTP"}},
	{"load generator", []string{"main.runLoad", "main.worker", "main.(*worker)"}},
	{"net/http servers (Caddy's and the mock's)", []string{"net/http.(*conn).serve"}},
	{"net/http transports (Caddy's and the load generator's)", []string{"net/http.(*persistConn)", "net/http.(*Transport)"}},
	{"background GC", []string{"runtime.gcBgMarkWorker"}},
}

const otherPart = "scheduler, syscalls and other runtime"

// partOf is the part a sample's stack is charged to.
func partOf(s *profile.Sample) string {
	for _, loc := range s.Location {
		for _, line := range loc.Line { // innermost (inlined) first
			if line.Function == nil {
				continue
			}
			for _, p := range cpuParts {
				for _, f := range p.frames {
					if strings.HasPrefix(line.Function.Name, f) {
						return p.name
					}
				}
			}
		}
	}
	return otherPart
}

// cpuShares reads CPU profiles and returns each part's share of their
// samples.
func cpuShares(files []string) (map[string]float64, error) {
	total := 0.0
	by := map[string]float64{}
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		p, err := profile.Parse(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		i := slices.IndexFunc(p.SampleType, func(st *profile.ValueType) bool { return st.Type == "cpu" })
		if i < 0 {
			return nil, fmt.Errorf("%s: not a CPU profile", file)
		}
		for _, s := range p.Sample {
			v := float64(s.Value[i])
			by[partOf(s)] += v
			total += v
		}
	}
	if total == 0 {
		return by, nil
	}
	for k := range by {
		by[k] /= total
	}
	return by, nil
}

// cpuShareReport is a table of the CPU per request of each scenario's
// parts, from the profiles of its rounds and its median CPU per request.
func cpuShareReport(prefix string, scenarios []string, runs []run) (string, error) {
	var b strings.Builder
	b.WriteString("\nCPU per request by part of the path (µs; the profiles' shares of samples × the median CPU/req):\n\n")
	parts := append([]string{}, otherPart)
	for _, p := range cpuParts {
		parts = append(parts, p.name)
	}
	shares := make([]map[string]float64, len(scenarios))
	perReq := make([]float64, len(scenarios))
	for j, s := range scenarios {
		var files []string
		var cpu []float64
		for _, ru := range runs {
			if ru.Scenario == s {
				files = append(files, fmt.Sprintf("%s.%s.r%d.pprof", prefix, s, ru.Round))
				cpu = append(cpu, float64(ru.Result.CPUPerRequest().Microseconds()))
			}
		}
		var err error
		if shares[j], err = cpuShares(files); err != nil {
			return "", err
		}
		slices.Sort(cpu)
		perReq[j] = cpu[len(cpu)/2]
	}
	fmt.Fprintf(&b, "| part |")
	for _, s := range scenarios {
		fmt.Fprintf(&b, " %s |", s)
	}
	b.WriteString("\n| --- |" + strings.Repeat(" ---: |", len(scenarios)) + "\n")
	for _, p := range parts {
		seen := false
		for j := range scenarios {
			seen = seen || shares[j][p] >= 0.0005
		}
		if !seen {
			continue
		}
		fmt.Fprintf(&b, "| %s |", p)
		for j := range scenarios {
			fmt.Fprintf(&b, " %.1f |", shares[j][p]*perReq[j])
		}
		b.WriteString("\n")
	}
	b.WriteString("| **total** |")
	for j := range scenarios {
		fmt.Fprintf(&b, " **%.0f** |", perReq[j])
	}
	b.WriteString("\n")
	return b.String(), nil
}
