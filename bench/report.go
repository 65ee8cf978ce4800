package main

import (
	"fmt"
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
	var rows [][]string
	for _, s := range o.Scenarios {
		total, errs := 0, 0
		for _, ru := range by[s] {
			total += ru.Result.Requests
			errs += ru.Result.Errors + ru.Result.BadCache
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
	ratios := []ratio{
		{"cache-hit / respond req/s", "cache-hit", "respond",
			func(n, d run) float64 { return n.Result.RPS() / d.Result.RPS() },
			func(v float64) string { return fmt.Sprintf("%.2f", v) },
			"≥ 0.80", func(v float64) bool { return v >= 0.8 }},
		{"cache-miss / proxy-distinct req/s", "cache-miss", "proxy-distinct",
			func(n, d run) float64 { return n.Result.RPS() / d.Result.RPS() },
			func(v float64) string { return fmt.Sprintf("%.2f", v) },
			"≥ 0.90", func(v float64) bool { return v >= 0.9 }},
		{"cache-miss − proxy-distinct p50", "cache-miss", "proxy-distinct",
			func(n, d run) float64 { return float64(n.Latency.P50 - d.Latency.P50) },
			func(v float64) string { return fmt.Sprintf("%+.1f µs", v/float64(time.Microsecond)) },
			"< 100 µs", func(v float64) bool { return v < float64(100*time.Microsecond) }},
		{"fallback-same / proxy-same req/s", "fallback-same", "proxy-same",
			func(n, d run) float64 { return n.Result.RPS() / d.Result.RPS() },
			func(v float64) string { return fmt.Sprintf("%.2f", v) },
			"≥ 0.95", func(v float64) bool { return v >= 0.95 }},
		{"semantic-hit / cache-hit req/s", "semantic-hit", "cache-hit",
			func(n, d run) float64 { return n.Result.RPS() / d.Result.RPS() },
			func(v float64) string { return fmt.Sprintf("%.2f", v) },
			"≥ 0.70", func(v float64) bool { return v >= 0.7 }},
		{"respond / cache-hit CPU per request", "cache-hit", "respond",
			func(n, d run) float64 {
				return float64(d.Result.CPUPerRequest()) / float64(n.Result.CPUPerRequest())
			},
			func(v float64) string { return fmt.Sprintf("%.2f", v) },
			"(info)", nil},
		{"proxy-distinct / cache-miss CPU per request", "cache-miss", "proxy-distinct",
			func(n, d run) float64 {
				return float64(d.Result.CPUPerRequest()) / float64(n.Result.CPUPerRequest())
			},
			func(v float64) string { return fmt.Sprintf("%.2f", v) },
			"(info)", nil},
		{"cache-hit / proxy-same req/s", "cache-hit", "proxy-same",
			func(n, d run) float64 { return n.Result.RPS() / d.Result.RPS() },
			func(v float64) string { return fmt.Sprintf("%.2f", v) },
			"(info)", nil},
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
