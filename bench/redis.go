package main

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// redisServer is a redis-server process started by the bench on a
// loopback port, without persistence.
type redisServer struct {
	Addr string
	URL  string
	cmd  *exec.Cmd
}

// haveRedis reports whether redis-server is on PATH.
func haveRedis() bool {
	_, err := exec.LookPath("redis-server")
	return err == nil
}

// startRedis runs redis-server on a free loopback port and waits (up to
// 10s) until it answers PING. Its CPU counts as this process's in the
// measurements (it is part of the system under test). Stop it with stop.
func startRedis() (*redisServer, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("the ratelimit-redis scenario needs redis-server: %w", err)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := strings.Cut(addr, ":")
	s := &redisServer{Addr: addr, URL: "redis://" + addr + "/0"}
	s.cmd = exec.Command(bin, "--port", port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning")
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting redis-server: %w", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		reply, err := s.command("PING")
		if err == nil && reply == "+PONG" {
			break
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("redis-server on %s did not answer PING: %q, %v", addr, reply, err)
		}
		time.Sleep(10 * time.Millisecond) // poll interval, bounded by the deadline
	}
	addHelper(s.cmd.Process.Pid)
	return s, nil
}

// stop kills the server and waits for it to exit.
func (s *redisServer) stop() {
	if s.cmd.Process == nil || s.cmd.ProcessState != nil {
		return
	}
	removeHelper(s.cmd.Process.Pid)
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// command sends one command on a fresh connection and returns the first
// line of the reply, without its CRLF ("+PONG", ":42", "-ERR ...").
func (s *redisServer) command(args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", s.Addr, 200*time.Millisecond)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

// dbsize is the number of keys in the server's database 0.
func (s *redisServer) dbsize() (int, error) {
	reply, err := s.command("DBSIZE")
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimPrefix(reply, ":"))
	if err != nil || !strings.HasPrefix(reply, ":") {
		return 0, fmt.Errorf("DBSIZE answered %q", reply)
	}
	return n, nil
}
