package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
)

// Malformed HTTP over raw TCP. The proxy may refuse (4xx), close the
// connection, or pass what it can parse to the upstream; it must never
// answer a 5xx of its own for a client's mistake.

// rawExchange writes the request pieces to a fresh connection to addr
// (closing its write side afterwards when closeWrite), then reads every
// answer until EOF or wait has passed, and counts each.
func (e *attackEnv) rawExchange(t *tally, addr string, pieces []string, closeWrite bool, wait time.Duration, what string) []*attackResp {
	t.tried.Add(1)
	c, err := dialRaw(addr)
	if err != nil {
		t.noAnswer.Add(1)
		return nil
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(wait))
	werr := make(chan error, 1)
	go func() {
		for _, p := range pieces {
			if _, err := io.WriteString(c, p); err != nil {
				werr <- err
				return
			}
		}
		if closeWrite {
			c.(*net.TCPConn).CloseWrite()
		}
		werr <- nil
	}()
	br := bufio.NewReader(c)
	var out []*attackResp
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			break
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		a := &attackResp{status: resp.StatusCode, header: resp.Header, body: b}
		e.classify(t, a, what)
		out = append(out, a)
		if resp.Close {
			break
		}
	}
	if len(out) == 0 {
		t.noAnswer.Add(1)
	}
	<-werr
	return out
}

func rawPost(path, extraHeaders, body string, contentLength int) string {
	return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: attack\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s",
		path, contentLength, extraHeaders, body)
}

func rawTruncated(e *attackEnv, t *tally, it int) {
	body := string(chatJSON(fmt.Sprintf("Truncated %d", e.next()), `"stream":true`))
	auth := fmt.Sprintf("Authorization: Bearer sk-raw-%d\r\n", e.next())
	e.rawExchange(t, e.mainAddr, []string{rawPost("/v1/chat/completions", auth, body[:len(body)/2], len(body))}, true, 10*time.Second, "truncated body")
	e.rawExchange(t, e.mainAddr, []string{rawPost("/v1/chat/completions", "", body[:len(body)/2], len(body))}, true, 10*time.Second, "truncated body, anonymous")
}

func rawCLLonger(e *attackEnv, t *tally, it int) {
	body := string(chatJSON(fmt.Sprintf("Longer %d", e.next()), ""))
	auth := fmt.Sprintf("Authorization: Bearer sk-raw-%d\r\n", e.next())
	e.rawExchange(t, e.mainAddr, []string{rawPost("/v1/chat/completions", auth, body, len(body)+1000)}, false, 1500*time.Millisecond, "Content-Length longer, left open")
}

func rawCLShorter(e *attackEnv, t *tally, it int) {
	body := string(chatJSON(fmt.Sprintf("Shorter %d", e.next()), ""))
	auth := fmt.Sprintf("Authorization: Bearer sk-raw-%d\r\n", e.next())
	e.rawExchange(t, e.mainAddr, []string{rawPost("/v1/chat/completions", auth, body+"GARBAGE \x00\xff\r\n\r\n", len(body)-10)}, true, 10*time.Second, "Content-Length shorter")
}

func rawBadFraming(e *attackEnv, t *tally, it int) {
	head := "POST /v1/chat/completions HTTP/1.1\r\nHost: attack\r\nContent-Type: application/json\r\n"
	auth := func() string { return fmt.Sprintf("Authorization: Bearer sk-raw-%d\r\n", e.next()) }
	body := string(chatJSON(fmt.Sprintf("Framing %d", e.next()), ""))
	for _, req := range []string{
		head + auth() + "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
		head + auth() + "Transfer-Encoding: chunked\r\n\r\n" + fmt.Sprintf("%x\r\n%s", len(body), body[:len(body)/2]),
		head + auth() + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc\r\n",
		head + auth() + fmt.Sprintf("Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(body), len(body), body),
		head + auth() + fmt.Sprintf("Content-Length: %d\r\nContent-Length: %d\r\n\r\n%s", len(body), len(body)+1, body),
		head + auth() + "Content-Length: -1\r\n\r\n" + body,
		head + auth() + "Content-Length: 99999999999999999999999\r\n\r\n" + body,
		head + auth() + "Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		head + auth() + "X-Bad: a\x00b\r\nContent-Length: 2\r\n\r\n{}",
	} {
		e.rawExchange(t, e.mainAddr, []string{req}, true, 10*time.Second, fmt.Sprintf("framing %.120q", req[len(head):]))
	}
}

func rawManyHeaders(e *attackEnv, t *tally, it int) {
	var b strings.Builder
	b.WriteString("GET /v1/models HTTP/1.1\r\nHost: attack\r\n")
	for i := range 100_000 {
		fmt.Fprintf(&b, "X-H%d: v\r\n", i)
	}
	b.WriteString("\r\n")
	for _, a := range e.rawExchange(t, e.mainAddr, []string{b.String()}, true, 10*time.Second, "100k headers") {
		if a.status < 400 {
			t.fail("100,000 headers were accepted: %d", a.status)
		}
	}
	line := "GET /" + strings.Repeat("a", 1<<20) + " HTTP/1.1\r\nHost: attack\r\n\r\n"
	for _, a := range e.rawExchange(t, e.mainAddr, []string{line}, true, 10*time.Second, "1 MiB request line") {
		if a.status < 400 {
			t.fail("a 1 MiB request line was accepted: %d", a.status)
		}
	}
}

func rawBodies(e *attackEnv, t *tally, it int) {
	n := e.next()
	for _, body := range []string{
		"",
		"hello, not JSON",
		"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\xff\xfe\"}]}",
		"{\"model\":\"m\",\"q\":\"a\x00b\"}",
		`{"model":"m","max_tokens":1e999999,"temperature":1e-999999,"messages":[]}`,
		`{"model":"m","max_tokens":` + strings.Repeat("7", 400) + `,"n":` + strings.Repeat("1", 400) + `,"stream":` + strings.Repeat("9", 400) + `}`,
		`{"model":"m","stream":true,"stream_options":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`,
		`"just a string"`, `12345`, `null`, `[]`, `{`, `{"a":}`, `{"stream":tru}`,
		fmt.Sprintf(`{"model":"m","nonce":%d,"q":"\u0000\ud800\udc00\uDBFF\uDFFF"}`, n),
	} {
		for _, path := range []string{"/v1/chat/completions", "/v1/embeddings"} {
			auth := fmt.Sprintf("Authorization: Bearer sk-raw-%d\r\n", e.next())
			e.rawExchange(t, e.mainAddr, []string{rawPost(path, auth, body, len(body))}, true, 10*time.Second, fmt.Sprintf("body %.80q", body))
		}
	}
}

// dialSmallBuffer connects with a 4 KiB receive buffer, so a client that
// does not read stalls the sender quickly.
func dialSmallBuffer(addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(network, address string, c syscall.RawConn) error {
		var serr error
		c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		return serr
	}}
	return d.Dial("tcp", addr)
}
