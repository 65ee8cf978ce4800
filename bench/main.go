// Command bench measures ragproxy's Caddy modules in-process.
//
//	go run ./bench throughput [-duration 5s] [-rounds 3] [-conns 32]
//	go run ./bench memory [-keys 1000000] [-max-size 64MiB,256MiB] [-body 300]
//	go run ./bench outage [-conns 16] [-outage 30s]
//	go run ./bench ratelimit-memory [-keys 1000000] [-max-keys 1048576,262144]
//	go run ./bench attack [-duration 20s] [-conns 8]
//	go run ./bench shared [-duration 3s] [-conns 16] [-misses 2000] [-requests 20000] [-redis-timeout 100ms] [-semantic-only]
//
// throughput compares the exact cache (rag_cache), the fallback, the
// semantic cache, rate limiting (rag_rate_limit) and A/B splitting
// (rag_split) against Caddy's
// respond and a plain reverse_proxy in one process and one config,
// interleaving the scenarios round by round so machine noise hits them
// alike; memory fills a cache.Store with distinct entries and reports the
// heap it grows; ratelimit-memory does the same for the local rate
// limiter's key tables.
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	_ "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/ragproxy/ragproxy/caddymodule"
)

const usage = `usage: go run ./bench <subcommand> [flags]

subcommands:
  throughput   requests/s and latency of respond, reverse_proxy and the rag_* handlers
  memory       heap growth of a cache.Store filled with distinct entries
  outage       rag_fallback under load while its primary dies and comes back
  ratelimit-memory
               heap per key of the local rate limiters (GCRA, token windows)
  shared       the cache shared through Redis: Redis-hit throughput against a memory
               hit, the latency Redis adds to a miss, hit rate of 3 instances,
               propagation delay of a semantic question
  attack       the adversarial suite: every attack class of issue 12 and malformed
               HTTP through the whole pipeline; exits non-zero on a leak or a 5xx of ours

Run "go run ./bench <subcommand> -h" for the flags of a subcommand.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "throughput":
		err = throughputCmd(args)
	case "memory":
		err = memoryCmd(args)
	case "outage":
		err = outageCmd(args)
	case "ratelimit-memory":
		err = rateMemoryCmd(args)
	case "attack":
		err = attackCmd(args)
	case "shared":
		err = sharedCmd(args)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(os.Stdout, usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "unknown subcommand %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func throughputCmd(args []string) error {
	fs := flag.NewFlagSet("throughput", flag.ExitOnError)
	o := throughputOptions{}
	fs.DurationVar(&o.Duration, "duration", 5*time.Second, "measured time per scenario and round")
	fs.DurationVar(&o.Warmup, "warmup", 500*time.Millisecond, "unmeasured time before each measurement (opens connections)")
	fs.IntVar(&o.Rounds, "rounds", 3, "rounds; each runs every scenario once")
	fs.IntVar(&o.Conns, "conns", 32, "concurrent workers, each with its own keep-alive connection")
	scenarios := fs.String("scenarios", strings.Join(scenarioNames, ","), "comma-separated scenarios to run")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "file name prefix: write a CPU profile of every measurement to <prefix>.<scenario>.r<round>.pprof")
	fs.StringVar(&o.MemProfile, "memprofile", "", "write an allocation profile to this file at the end")
	fs.StringVar(&o.CacheMaxSize, "cache-max-size", "", "max_size of the rag_cache under test, e.g. 16MiB (default: the module's default)")
	fs.Float64Var(&o.MaxOthers, "max-others", 0, "if > 0: before each measurement wait (≤ 1 min) until other processes use at most this many cores, and measure again when they used more during the window")
	fs.IntVar(&o.Retries, "retries", 3, "with -max-others: how many times a noisy measurement is repeated")
	fs.Parse(args)
	o.Scenarios = splitList(*scenarios)
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "scenarios" })
	if !explicit && !haveRedis() {
		o.Scenarios = slices.DeleteFunc(o.Scenarios, func(s string) bool { return s == "ratelimit-redis" })
		fmt.Fprintln(os.Stderr, "bench: redis-server not on PATH: skipping the ratelimit-redis scenario")
	}
	if o.Rounds < 1 || o.Conns < 1 || o.Duration <= 0 {
		return fmt.Errorf("rounds, conns and duration must be positive")
	}
	return runThroughput(o)
}

func memoryCmd(args []string) error {
	fs := flag.NewFlagSet("memory", flag.ExitOnError)
	keys := fs.String("keys", "1000000", "distinct entries to insert (comma-separated list: one run each)")
	sizes := fs.String("max-size", "64MiB,256MiB", "cache max size (comma-separated list: one run each)")
	body := fs.Int("body", 300, "approximate size of each answer body in bytes")
	child := fs.Bool("child", false, "internal: measure one configuration in this process and print JSON")
	fs.Parse(args)
	return runMemory(splitList(*keys), splitList(*sizes), *body, *child)
}

func outageCmd(args []string) error {
	fs := flag.NewFlagSet("outage", flag.ExitOnError)
	o := outageOptions{}
	fs.IntVar(&o.Conns, "conns", 16, "concurrent clients")
	fs.DurationVar(&o.Before, "before", 5*time.Second, "healthy time before the primary dies")
	fs.DurationVar(&o.Outage, "outage", 30*time.Second, "how long the primary is down")
	fs.DurationVar(&o.After, "after", 5*time.Second, "healthy time after it is back")
	fs.IntVar(&o.Failures, "failures", 5, "breaker: failures that open it")
	fs.DurationVar(&o.Window, "window", 10*time.Second, "breaker: within this window")
	fs.DurationVar(&o.OpenFor, "open", 5*time.Second, "breaker: open time before probing")
	fs.Parse(args)
	r, err := runOutage(o)
	fmt.Print(outageReport(o, r))
	return err
}

func rateMemoryCmd(args []string) error {
	fs := flag.NewFlagSet("ratelimit-memory", flag.ExitOnError)
	keys := fs.Int("keys", 1_000_000, "distinct keys to feed each limiter")
	maxKeys := fs.String("max-keys", "1048576,262144", "max_keys of the limiter (comma-separated list: one run each)")
	kinds := fs.String("kinds", "gcra,windows", "limiters to measure: gcra (rate zones), windows (token zones)")
	child := fs.Bool("child", false, "internal: measure one configuration in this process and print JSON")
	fs.Parse(args)
	return runRateMemory(*keys, splitList(*maxKeys), splitList(*kinds), *child)
}

func attackCmd(args []string) error {
	fs := flag.NewFlagSet("attack", flag.ExitOnError)
	o := attackOptions{}
	fs.DurationVar(&o.Duration, "duration", 20*time.Second, "load phase: every class round-robin from -conns workers for this long (0: each class once)")
	fs.IntVar(&o.Conns, "conns", 8, "concurrent workers (loopback only)")
	fs.IntVar(&o.MaxIters, "max-iters", 0, "if > 0: at most this many iterations per class")
	fs.IntVar(&o.NestReps, "nest-reps", 3, "quiet-phase repetitions of each nesting shape")
	classes := fs.String("classes", "", "comma-separated attack classes to run (default: all)")
	fs.BoolVar(&o.Verbose, "v", false, "print every iteration to stderr")
	fs.Parse(args)
	o.Classes = splitList(*classes)
	o.LogWriter = os.Stderr
	if o.Conns < 1 || o.Duration < 0 {
		return fmt.Errorf("conns must be positive and duration not negative")
	}
	r, err := runAttack(o)
	if err != nil {
		return err
	}
	fmt.Print(attackReport(o, r))
	if !r.ok() {
		return fmt.Errorf("attack: holes open (a leak, a failed check, a 5xx of ours, or a class that could not run)")
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
