package cache

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// follower collects what Follow passes on.
type follower struct {
	mu     sync.Mutex
	status int
	body   strings.Builder
	err    error
	done   chan struct{}
}

func follow(f *Flight) *follower {
	fl := &follower{done: make(chan struct{})}
	go func() {
		defer close(fl.done)
		fl.err = f.Follow(context.Background(), nil,
			func(status int, _ http.Header) { fl.mu.Lock(); fl.status = status; fl.mu.Unlock() },
			func(p []byte) error { fl.mu.Lock(); fl.body.Write(p); fl.mu.Unlock(); return nil })
	}()
	return fl
}

func (fl *follower) got() string {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	return fl.body.String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestFollowersTailTheLeader(t *testing.T) {
	var g Group
	leader, isLeader := g.Join("k", 1024)
	if !isLeader {
		t.Fatal("first caller is not the leader")
	}
	var fls []*follower
	for range 3 {
		f, lead := g.Join("k", 1024)
		if lead || f != leader {
			t.Fatal("second caller did not join the flight")
		}
		fls = append(fls, follow(f))
	}
	waitFor(t, "three followers waiting", func() bool { return g.Waiting() == 3 })

	leader.WriteHeader(200, http.Header{"Content-Type": {"text/event-stream"}}, nil, true)
	leader.Write([]byte("data: 1\n\n"))
	// every follower has the first event before the leader goes on
	for _, fl := range fls {
		waitFor(t, "first event at a follower", func() bool { return fl.got() == "data: 1\n\n" })
	}
	leader.Write([]byte("data: [DONE]\n\n"))
	leader.Finish(true)
	for _, fl := range fls {
		<-fl.done
		if fl.err != nil || fl.status != 200 || fl.got() != "data: 1\n\ndata: [DONE]\n\n" {
			t.Errorf("follower: err %v status %d body %q", fl.err, fl.status, fl.got())
		}
	}
	// a finished flight is gone: the next caller leads a new one
	if f, lead := g.Join("k", 1024); !lead || f == leader {
		t.Error("a finished flight is still joinable")
	}
	// a late follower of the finished flight still gets the whole answer
	late := follow(leader)
	<-late.done
	if late.err != nil || late.got() != "data: 1\n\ndata: [DONE]\n\n" {
		t.Errorf("late follower: %v %q", late.err, late.got())
	}
}

func TestFollowNotShared(t *testing.T) {
	cases := map[string]func(f *Flight){
		"error status": func(f *Flight) { f.WriteHeader(500, http.Header{}, nil, false) },
		"no header":    func(f *Flight) { f.Finish(false) },
		"overflow": func(f *Flight) {
			f.Write([]byte("0123456789"))
			f.WriteHeader(200, http.Header{}, nil, true)
		},
		"broke after header": func(f *Flight) {
			f.Finish(false)
			f.WriteHeader(200, http.Header{}, nil, true)
		},
	}
	for name, lead := range cases {
		t.Run(name, func(t *testing.T) {
			var g Group
			f, _ := g.Join("k", 4)
			fl := follow(f)
			lead(f)
			<-fl.done
			if !errors.Is(fl.err, ErrNotShared) || fl.status != 0 {
				t.Errorf("err %v status %d, want ErrNotShared before any write", fl.err, fl.status)
			}
		})
	}
}

func TestFollowBroken(t *testing.T) {
	var g Group
	f, _ := g.Join("k", 1024)
	fl := follow(f)
	f.WriteHeader(200, http.Header{}, nil, true)
	f.Write([]byte("data: 1\n\n"))
	waitFor(t, "first event", func() bool { return fl.got() != "" })
	f.Finish(false)
	<-fl.done
	if !errors.Is(fl.err, ErrBroken) {
		t.Errorf("err = %v, want ErrBroken", fl.err)
	}
}

func TestFollowHonoursContext(t *testing.T) {
	var g Group
	f, _ := g.Join("k", 1024)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := f.Follow(ctx, nil, func(int, http.Header) {}, func([]byte) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	f.Finish(true)
}

func TestConcurrentFlights(t *testing.T) {
	var g Group
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := string(rune('a' + i%5))
			f, lead := g.Join(key, 64)
			if lead {
				f.WriteHeader(200, http.Header{}, nil, true)
				f.Write([]byte("x"))
				f.Finish(true)
				return
			}
			err := f.Follow(context.Background(), nil, func(int, http.Header) {}, func([]byte) error { return nil })
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

// TestFollowerVary: a follower whose request differs from the leader's in
// a header the answer's Vary names does not receive the leader's answer.
func TestFollowerVary(t *testing.T) {
	var g Group
	f, _ := g.Join("k", 1<<10)
	leaderReq := http.Header{"Accept": {"application/json"}}
	resp := http.Header{"Vary": {"accept"}}
	vary, _ := RequestVary(resp, leaderReq)
	f.WriteHeader(200, resp, vary, true)
	f.Write([]byte("{}"))
	f.Finish(true)
	noop := func([]byte) error { return nil }
	if err := f.Follow(context.Background(), http.Header{"Accept": {"text/event-stream"}}, func(int, http.Header) {}, noop); err != ErrNotShared {
		t.Errorf("other Accept: Follow = %v, want ErrNotShared", err)
	}
	if err := f.Follow(context.Background(), http.Header{}, func(int, http.Header) {}, noop); err != ErrNotShared {
		t.Errorf("no Accept: Follow = %v, want ErrNotShared", err)
	}
	if err := f.Follow(context.Background(), leaderReq.Clone(), func(int, http.Header) {}, noop); err != nil {
		t.Errorf("same Accept: Follow = %v, want nil", err)
	}
}
