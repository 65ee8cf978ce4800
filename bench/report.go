package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// markdownTable renders a GitHub markdown table with aligned columns; the
// first column is left-aligned, the others right-aligned.
func markdownTable(header []string, rows [][]string) string {
	width := make([]int, len(header))
	for i, h := range header {
		width[i] = utf8.RuneCountInString(h)
	}
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for i, c := range cells {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i == 0 {
				b.WriteString(" " + c + pad + " |")
			} else {
				b.WriteString(" " + pad + c + " |")
			}
		}
		b.WriteString("\n")
	}
	line(header)
	b.WriteString("|")
	for i, w := range width {
		if i == 0 {
			b.WriteString(" " + strings.Repeat("-", w) + " |")
		} else {
			b.WriteString(" " + strings.Repeat("-", w-1) + ": |")
		}
	}
	b.WriteString("\n")
	for _, r := range rows {
		line(r)
	}
	return b.String()
}

// fmtLatency prints a duration in µs below 10 ms, in ms above.
func fmtLatency(d time.Duration) string {
	us := float64(d) / float64(time.Microsecond)
	switch {
	case us < 100:
		return fmt.Sprintf("%.1f µs", us)
	case us < 10000:
		return fmt.Sprintf("%.0f µs", us)
	}
	return fmt.Sprintf("%.1f ms", us/1000)
}

// fmtDelta prints a difference of durations (in nanoseconds) in µs.
func fmtDelta(v float64) string { return fmt.Sprintf("%+.1f µs", v/float64(time.Microsecond)) }

func fmtRPS(v float64) string { return fmt.Sprintf("%.0f", v) }

func fmtMiB(b float64) string { return fmt.Sprintf("%.1f", b/(1<<20)) }

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// throughputReport renders the runs: medians per scenario, requests/s per
// round, and the cache's ratios against its baselines.
func throughputReport(o throughputOptions, runs []run) string {
	by := map[string][]run{}
	for _, ru := range runs {
		by[ru.Scenario] = append(by[ru.Scenario], ru)
	}
	medianOf := func(s string, f func(run) float64) float64 {
		var v []float64
		for _, ru := range by[s] {
			v = append(v, f(ru))
		}
		return median(v)
	}
	dur := func(f func(latencySummary) time.Duration) func(run) float64 {
		return func(ru run) float64 { return float64(f(ru.Latency)) }
	}

	var b strings.Builder
	fmt.Fprintf(&b, "\n%d rounds, %v per scenario and round (after %v warmup), %d connections; medians over rounds.\n"+
		"CPU/req is the CPU time of the whole process (load generator, Caddy, mock) per request.\n\n",
		o.Rounds, o.Duration, o.Warmup, o.Conns)
	if slices.Contains(o.Scenarios, "ratelimit-redis") {
		b.WriteString("For ratelimit-redis, CPU/req and CPU self include the bench's redis-server.\n\n")
	}
	var rows [][]string
	for _, s := range o.Scenarios {
		total, errs := 0, 0
		for _, ru := range by[s] {
			total += ru.Result.Requests
			errs += ru.Result.Errors + ru.Result.BadCache + ru.RedisErrors
		}
		rows = append(rows, []string{
			s,
			fmtRPS(medianOf(s, func(ru run) float64 { return ru.Result.RPS() })),
			fmtLatency(time.Duration(medianOf(s, dur(func(l latencySummary) time.Duration { return l.P50 })))),
			fmtLatency(time.Duration(medianOf(s, dur(func(l latencySummary) time.Duration { return l.P90 })))),
			fmtLatency(time.Duration(medianOf(s, dur(func(l latencySummary) time.Duration { return l.P99 })))),
			fmtLatency(time.Duration(medianOf(s, func(ru run) float64 { return float64(ru.Result.CPUPerRequest()) }))),
			strconv.Itoa(total),
			strconv.Itoa(errs),
		})
	}
	b.WriteString(markdownTable([]string{"scenario", "req/s", "p50", "p90", "p99", "CPU/req", "requests", "errors"}, rows))

	header := []string{"scenario"}
	for r := range o.Rounds {
		header = append(header, fmt.Sprintf("round %d req/s", r+1))
	}
	rows = nil
	for _, s := range o.Scenarios {
		row := []string{s}
		for _, ru := range by[s] {
			row = append(row, fmtRPS(ru.Result.RPS()))
		}
		rows = append(rows, row)
	}
	b.WriteString("\n" + markdownTable(header, rows))

	// Machine noise: the CPU this process got, and what others took.
	header = []string{"scenario"}
	for r := range o.Rounds {
		header = append(header, fmt.Sprintf("round %d CPU self / others", r+1))
	}
	rows = nil
	for _, s := range o.Scenarios {
		row := []string{s}
		for _, ru := range by[s] {
			row = append(row, fmt.Sprintf("%.2f / %.2f", ru.Result.CPU.Self, ru.Result.CPU.Others))
		}
		rows = append(rows, row)
	}
	b.WriteString("\nCPU in cores during each measurement window (this process / all other processes):\n\n" + markdownTable(header, rows))

	// Ratios, per round then their median.
	type ratio struct {
		name, num, den string
		value          func(num, den run) float64
		format         func(float64) string
		goal           string
		met            func(float64) bool
	}
	// rps is num's req/s over den's, goal its minimum (0: for information).
	rps := func(num, den string, goal float64) ratio {
		q := ratio{num + " / " + den + " req/s", num, den,
			func(n, d run) float64 { return n.Result.RPS() / d.Result.RPS() },
			func(v float64) string { return fmt.Sprintf("%.2f", v) }, "(info)", nil}
		if goal > 0 {
			q.goal = fmt.Sprintf("≥ %.2f", goal)
			q.met = func(v float64) bool { return v >= goal }
		}
		return q
	}
	// cpuPerReq is den's CPU per request over num's (above 1: num is cheaper).
	cpuPerReq := func(num, den string) ratio {
		return ratio{den + " / " + num + " CPU per request", num, den,
			func(n, d run) float64 {
				return float64(d.Result.CPUPerRequest()) / float64(n.Result.CPUPerRequest())
			},
			func(v float64) string { return fmt.Sprintf("%.2f", v) }, "(info)", nil}
	}
	// cpuDelta is the CPU per request num spends beyond den.
	cpuDelta := func(num, den string) ratio {
		return ratio{num + " − " + den + " CPU/req", num, den,
			func(n, d run) float64 { return float64(n.Result.CPUPerRequest() - d.Result.CPUPerRequest()) },
			fmtDelta, "(info)", nil}
	}
	// p50Delta is how much later num's median answer comes than den's.
	p50Delta := func(num, den string) ratio {
		return ratio{num + " − " + den + " p50", num, den,
			func(n, d run) float64 { return float64(n.Latency.P50 - d.Latency.P50) },
			fmtDelta, "(info)", nil}
	}
	cacheMissP50 := p50Delta("cache-miss", "proxy-distinct")
	cacheMissP50.goal = "< 100 µs"
	cacheMissP50.met = func(v float64) bool { return v < float64(100*time.Microsecond) }
	ratios := []ratio{
		rps("cache-hit", "respond", 0.80),
		rps("cache-miss", "proxy-distinct", 0.90),
		cacheMissP50,
		rps("fallback-same", "proxy-same", 0.95),
		rps("semantic-hit", "cache-hit", 0.70),
		rps("semantic-hit-use", "cache-hit", 0.70),
		rps("semantic-hit-use-static", "cache-hit", 0.70),
		cpuDelta("semantic-hit-use", "cache-hit"),
		cpuPerReq("cache-hit", "respond"),
		cpuPerReq("cache-miss", "proxy-distinct"),
		rps("cache-hit", "proxy-same", 0),
		rps("ratelimit-local", "proxy-same", 0.95),
		rps("ratelimit-tokens", "proxy-same", 0.95),
		rps("ratelimit-tokens-off", "proxy-same", 0.95),
		rps("ratelimit-tokens", "ratelimit-tokens-off", 0),
		rps("ratelimit-local", "proxy-auth", 0),
		rps("ratelimit-tokens", "proxy-auth", 0),
		rps("proxy-auth", "proxy-same", 0),
		rps("ratelimit-redis", "proxy-same", 0),
		cpuDelta("ratelimit-local", "proxy-same"),
		cpuDelta("ratelimit-tokens", "proxy-same"),
		cpuDelta("ratelimit-redis", "proxy-same"),
		p50Delta("ratelimit-redis", "proxy-same"),
		rps("split", "proxy-same", 0.97),
		rps("split", "proxy-auth", 0),
		rps("split", "proxy-split-headers", 0),
		rps("split-one-route", "proxy-same", 0),
		rps("split-one-route", "proxy-split-headers", 0),
		rps("proxy-split-headers", "proxy-auth", 0),
		cpuDelta("split", "proxy-same"),
		rps("pipeline-miss", "proxy-distinct", 0.90),
		rps("validate-miss", "proxy-distinct", 0.95),
		rps("prompt-cache-miss", "proxy-distinct", 0.95),
		cpuDelta("validate-miss", "proxy-distinct"),
		cpuDelta("prompt-cache-miss", "proxy-distinct"),
		cpuDelta("pipeline-miss", "proxy-distinct"),
	}
	header = []string{"ratio"}
	for r := range o.Rounds {
		header = append(header, fmt.Sprintf("round %d", r+1))
	}
	header = append(header, "median", "goal", "met")
	rows = nil
	for _, q := range ratios {
		num, den := by[q.num], by[q.den]
		if len(num) == 0 || len(num) != len(den) {
			continue
		}
		row := []string{q.name}
		var v []float64
		for i := range num {
			v = append(v, q.value(num[i], den[i]))
			row = append(row, q.format(v[i]))
		}
		m := median(v)
		met := ""
		if q.met != nil {
			met = yesNo(q.met(m))
		}
		rows = append(rows, append(row, q.format(m), q.goal, met))
	}
	if len(rows) > 0 {
		b.WriteString("\n" + markdownTable(header, rows))
	}
	return b.String()
}
