package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/ragproxy/ragproxy/cache"
)

// memResult is what one configuration grows the heap by.
type memResult struct {
	Keys       int
	MaxSize    int64
	BodyBytes  int // average answer body
	EntryBytes int // average encoded entry (headers and body), as passed to the store
	Insert     time.Duration

	Len              int
	StoreBytes       int64
	Evicted, Expired int64

	HeapInuse, HeapAlloc, Sys, RSS [2]uint64 // before and after
	HeapObjects                    [2]uint64
	RSSFreed                       uint64 // RSS after returning free memory to the OS
}

// runMemory measures every keys × max-size combination, each in a fresh
// child process so one run's heap does not blur the next; with child set
// it measures the single combination given, here.
func runMemory(keys, sizes []string, body int, child bool) error {
	if child {
		if len(keys) != 1 || len(sizes) != 1 {
			return fmt.Errorf("-child measures one -keys and one -max-size")
		}
		k, size, err := parseMemArgs(keys[0], sizes[0])
		if err != nil {
			return err
		}
		r, err := measureMemory(k, size, body)
		if err != nil {
			return err
		}
		return json.NewEncoder(os.Stdout).Encode(r)
	}
	var results []memResult
	for _, s := range sizes {
		for _, k := range keys {
			if _, _, err := parseMemArgs(k, s); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "memory: %s keys into %s ...\n", k, s)
			var r memResult
			if err := runChild(&r, "memory", "-child", "-keys", k, "-max-size", s, "-body", strconv.Itoa(body)); err != nil {
				return fmt.Errorf("measuring %s keys into %s: %w", k, s, err)
			}
			results = append(results, r)
		}
	}
	fmt.Print(memoryReport(results))
	return nil
}

func parseMemArgs(keys, size string) (int, int64, error) {
	k, err := strconv.Atoi(keys)
	if err != nil || k < 1 {
		return 0, 0, fmt.Errorf("-keys: want a positive number, got %q", keys)
	}
	n, err := humanize.ParseBytes(size)
	if err != nil || n < 1<<20 {
		return 0, 0, fmt.Errorf("-max-size: want a size of at least 1MiB such as 64MiB, got %q", size)
	}
	return k, int64(n), nil
}

// measureMemory inserts keys distinct entries into a store of maxSize
// bytes and reports the heap before and after, both after a full GC.
func measureMemory(keys int, maxSize int64, bodySize int) (memResult, error) {
	r := memResult{Keys: keys, MaxSize: maxSize}
	readMem := func(i int) {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		r.HeapInuse[i], r.HeapAlloc[i], r.Sys[i], r.HeapObjects[i] = m.HeapInuse, m.HeapAlloc, m.Sys, m.HeapObjects
		r.RSS[i] = rss()
	}
	readMem(0)

	// The entry size limit rag_cache picks by default for this max size.
	store, err := cache.NewStore(cache.StoreConfig{
		TTL:           time.Hour,
		MaxBytes:      maxSize,
		MaxEntryBytes: int(min(1<<20, maxSize/8)),
	})
	if err != nil {
		return r, err
	}
	header := http.Header{"Content-Type": {"application/json"}}
	now := time.Now()
	var key string
	var bodyTotal, entryTotal int
	for i := range keys {
		key = cache.Key(cache.KeyParts{
			Method: http.MethodPost,
			Host:   "127.0.0.1:8080",
			Path:   chatPath,
			Body:   canonicalRequest(i),
		})
		e := &cache.Entry{Status: http.StatusOK, Header: header, Body: chatAnswer(i, bodySize), StoredAt: now}
		raw, _ := e.MarshalBinary()
		bodyTotal += len(e.Body)
		entryTotal += len(raw)
		start := time.Now()
		err := store.Set(key, e)
		r.Insert += time.Since(start)
		if err != nil {
			return r, fmt.Errorf("set #%d: %w", i, err)
		}
	}
	r.BodyBytes, r.EntryBytes = bodyTotal/keys, entryTotal/keys
	if _, _, ok := store.Get(key, time.Now()); !ok {
		return r, fmt.Errorf("the last entry stored is not in the store")
	}

	readMem(1)
	debug.FreeOSMemory()
	r.RSSFreed = rss()
	r.Len, r.StoreBytes = store.Len(), store.Bytes()
	r.Expired, r.Evicted = store.Evictions()
	runtime.KeepAlive(store)
	return r, store.Close()
}

// canonicalRequest is the canonical body of the i-th distinct question.
func canonicalRequest(i int) []byte {
	return fmt.Appendf(nil, `{"messages":[{"content":"Question #%d: what does the retrieval step return?","role":"user"}],"model":"gpt-4o-mini","temperature":0}`, i)
}

// chatAnswer is a chat.completion answer to the i-th question, padded
// with answer text to about size bytes.
func chatAnswer(i, size int) []byte {
	head := fmt.Sprintf(`{"id":"chatcmpl-%d","object":"chat.completion","created":1767225600,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Answer to question #%d: `, i, i)
	tail := `"},"finish_reason":"stop"}],"usage":{"prompt_tokens":24,"completion_tokens":48,"total_tokens":72}}`
	const filler = "the retrieval step returns the passages most similar to the question, ranked by score. "
	var b bytes.Buffer
	b.Grow(max(size, len(head)+len(tail)))
	b.WriteString(head)
	for pad := size - len(head) - len(tail); pad > 0; pad -= len(filler) {
		b.WriteString(filler[:min(pad, len(filler))])
	}
	b.WriteString(tail)
	return b.Bytes()
}

// rss is the resident set size of this process, or 0 where unknown.
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

// memoryReport renders the runs as a table of growth against max size.
func memoryReport(rs []memResult) string {
	var rows [][]string
	for _, r := range rs {
		grow := func(v [2]uint64) float64 { return float64(v[1]) - float64(v[0]) }
		rows = append(rows, []string{
			humanize.IBytes(uint64(r.MaxSize)),
			strconv.Itoa(r.Keys),
			fmt.Sprintf("%d / %d", r.BodyBytes, r.EntryBytes),
			fmt.Sprintf("%.0f", float64(r.Insert.Nanoseconds())/float64(r.Keys)),
			strconv.Itoa(r.Len),
			strconv.FormatInt(r.Evicted, 10),
			fmtMiB(float64(r.StoreBytes)),
			fmtMiB(grow(r.HeapInuse)),
			fmtMiB(grow(r.HeapAlloc)),
			fmtMiB(grow(r.Sys)),
			fmtMiB(grow(r.RSS)),
			fmtMiB(float64(r.RSSFreed) - float64(r.RSS[0])),
			fmt.Sprintf("%.0f", grow(r.HeapObjects)),
			fmt.Sprintf("%+.1f", (grow(r.HeapInuse)-float64(r.MaxSize))/(1<<20)),
			fmt.Sprintf("%+.1f", (grow(r.Sys)-float64(r.MaxSize))/(1<<20)),
		})
	}
	return "\n" + markdownTable([]string{
		"max size", "keys", "body / entry B", "ns/Set", "Len()", "evicted", "Bytes() MiB",
		"Δ HeapInuse MiB", "Δ HeapAlloc MiB", "Δ Sys MiB", "Δ RSS MiB", "Δ RSS freed MiB", "Δ heap objects",
		"constant (HeapInuse) MiB", "constant (Sys) MiB",
	}, rows)
}

// runChild runs this program again with args, in a fresh process (so that
// one measurement's heap cannot leak into the next), and decodes the JSON
// it prints into v.
func runChild(v any, args ...string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return err
	}
	if err := json.Unmarshal(out, v); err != nil {
		return fmt.Errorf("reading child result %q: %w", out, err)
	}
	return nil
}
