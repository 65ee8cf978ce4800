package caddymodule_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFallbackOneKeysQuotaDoesNotOpenTheBreaker: callers bring their own
// keys, so one key's 429s say nothing about the upstream's health. They
// reach that caller as they are, and other keys keep the primary tier.
func TestFallbackOneKeysQuotaDoesNotOpenTheBreaker(t *testing.T) {
	upstream := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer noisy" {
			w.Header().Set("Retry-After", "60")
			http.Error(w, `{"error":{"message":"quota","type":"rate_limit_error"}}`, http.StatusTooManyRequests)
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	})
	p := startCaddy(t, `http://{SITE} {
	rag_fallback {
		tier q_primary {
			breaker {
				failures 2
				window 1m
				open 1m
			}
			reverse_proxy `+upstream+`
		}
		tier q_backup {
			respond "stand-in" 200
		}
	}
}`)
	for i := range 6 {
		r, body := post(t, p.URL+"/v1/chat/completions", chatBody("q", false), "Authorization", "Bearer noisy")
		if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("X-RAG-Upstream") != "q_primary" {
			t.Errorf("noisy request %d: %d %q from %q, want the primary's own 429", i, r.StatusCode, body, r.Header.Get("X-RAG-Upstream"))
		}
	}
	if s := p.breakerState("q_primary"); s != "closed" {
		t.Errorf("breaker %q after one key's 429s, want closed", s)
	}
	r, body := post(t, p.URL+"/v1/chat/completions", chatBody("q", false), "Authorization", "Bearer quiet")
	if r.StatusCode != 200 || body != `{"ok":true}` || r.Header.Get("X-RAG-Upstream") != "q_primary" {
		t.Errorf("other key: %d %q from %q, want the primary's answer", r.StatusCode, body, r.Header.Get("X-RAG-Upstream"))
	}
}

// TestFallback429CanBeAFailureAgain: a tier that lists 429 in fail_status
// (a shared upstream key) still falls back on it.
func TestFallback429CanBeAFailureAgain(t *testing.T) {
	upstream := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "slow down", http.StatusTooManyRequests)
	})
	p := startCaddy(t, `http://{SITE} {
	rag_fallback {
		tier q2_primary {
			fail_status 429 5xx
			reverse_proxy `+upstream+`
		}
		tier q2_backup {
			respond "stand-in" 200
		}
	}
}`)
	r, body := post(t, p.URL+"/v1/chat/completions", chatBody("q", false))
	if r.StatusCode != 200 || body != "stand-in" || r.Header.Get("X-RAG-Upstream") != "q2_backup" {
		t.Errorf("%d %q from %q, want the backup's stand-in", r.StatusCode, body, r.Header.Get("X-RAG-Upstream"))
	}
}

// TestFallbackSlowClientIsNotAnUpstreamFailure: a client that reads a
// large answer slowly, pausing longer than the tier's timeout while the
// proxy's writes to it block, gets the whole answer, and the fast upstream
// is not counted as failing.
func TestFallbackSlowClientIsNotAnUpstreamFailure(t *testing.T) {
	const size = 16 << 20
	chunk := []byte(strings.Repeat("x", 64<<10))
	upstream := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		for n := 0; n < size; n += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	p := startCaddy(t, `http://{SITE} {
	rag_fallback {
		tier slow_primary {
			timeout 1s
			breaker {
				failures 1
				window 1m
				open 1m
			}
			reverse_proxy `+upstream+`
		}
	}
}`)
	failures := p.counter("ragproxy_fallback_requests_total", `tier="slow_primary"`, `outcome="failure"`)

	// A small receive window, so the proxy's writes block while the
	// client pauses.
	dialer := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 8<<10) })
		if err != nil {
			return err
		}
		return serr
	}}
	addr := strings.TrimPrefix(p.URL, "http://")
	conn, err := dialer.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /big HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", addr)
	br := bufio.NewReaderSize(conn, 4<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	got := 0
	buf := make([]byte, 32<<10)
	for range 2 { // the reader's pauses: longer than the tier's timeout
		n, err := io.ReadFull(resp.Body, buf)
		got += n
		if err != nil {
			t.Fatalf("after %d bytes: %v", got, err)
		}
		time.Sleep(1500 * time.Millisecond)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	got += int(n)
	if err != nil || got != size {
		t.Errorf("read %d of %d bytes (%v): the answer was cut while the client paused", got, size, err)
	}
	if s := p.breakerState("slow_primary"); s != "closed" {
		t.Errorf("breaker %q after a slow reader, want closed", s)
	}
	if f := failures(); f != 0 {
		t.Errorf("failures counted for slow_primary: %v, want 0", f)
	}
}
