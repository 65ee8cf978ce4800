package rediscache

import (
	"sync"
	"testing"
	"time"

	"github.com/ragproxy/ragproxy/internal/redistest"
	"github.com/ragproxy/ragproxy/redisconn"
)

type collector struct {
	mu sync.Mutex
	qs []Question
	at []time.Time
}

func (c *collector) add(q Question) {
	c.mu.Lock()
	c.qs = append(c.qs, q)
	c.at = append(c.at, time.Now())
	c.mu.Unlock()
}

func (c *collector) got() []Question {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Question(nil), c.qs...)
}

func newFeed(t *testing.T, url, embedder string, c *collector) *Feed {
	t.Helper()
	conn, err := redisconn.New(url, 200*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewFeed(conn, FeedConfig{Cache: "c", Embedder: embedder, MaxLen: 1000, TTL: time.Minute, OnQuestion: c.add})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close(); conn.Close() })
	return f
}

func TestFeedSharesQuestions(t *testing.T) {
	srv := redistest.Start(t)
	var a, b, other, late collector
	fa := newFeed(t, srv.URL, "local/256", &a)
	newFeed(t, srv.URL, "local/256", &b)
	newFeed(t, srv.URL, "openai/x/1536", &other)
	q := Question{Scope: "scope-hash", Query: "How do I reset my password?", Vec: []float32{0.5, -0.25, 1e-3}, Key: key1, Tenant: acme, At: time.Now()}
	sent := time.Now()
	fa.Publish(q)
	eventually(t, "B to receive the question", func() bool { return len(b.got()) == 1 })
	b.mu.Lock()
	t.Logf("propagation delay A→B: %v", b.at[0].Sub(sent))
	b.mu.Unlock()
	got := b.got()[0]
	if got.Scope != q.Scope || got.Query != q.Query || got.Key != q.Key || got.Tenant != q.Tenant || !got.At.Equal(q.At) ||
		len(got.Vec) != 3 || got.Vec[0] != 0.5 || got.Vec[1] != -0.25 || got.Vec[2] != 1e-3 {
		t.Fatalf("B received %+v, want %+v", got, q)
	}
	// An instance that starts later reads what was kept.
	newFeed(t, srv.URL, "local/256", &late)
	eventually(t, "the late instance to read the snapshot", func() bool { return len(late.got()) == 1 })
	// Not A itself, not another embedder's instances.
	if len(a.got()) != 0 || len(other.got()) != 0 {
		t.Fatalf("A received %d, another embedder %d; want 0", len(a.got()), len(other.got()))
	}
}
