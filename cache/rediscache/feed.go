package rediscache

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ragproxy/ragproxy/redisconn"
)

// Question is a question remembered by meaning, as instances share it:
// the scope it may match in (already a hash), its text (the guards read
// it), its vector, and the exact entry's key and tenant.
type Question struct {
	Scope, Query string
	Vec          []float32
	Key, Tenant  string
	At           time.Time
}

// FeedConfig says where a cache's questions are shared.
type FeedConfig struct {
	Prefix   string // default DefaultPrefix
	Cache    string
	Embedder string        // the embedder's identity: vectors of different embedders never mix
	MaxLen   int64         // questions kept in Redis for instances that start later (approximately)
	TTL      time.Duration // questions older than this are skipped, and an idle feed expires
	// OnQuestion is told of every question another instance remembered,
	// from the oldest kept when the feed starts, then as they come.
	OnQuestion func(Question)
}

// Feed shares a semantic cache's new questions between instances through
// a Redis Stream: each instance appends the questions it answers and
// reads everyone's, from the oldest kept (MaxLen, TTL) when it starts —
// the stream is both the snapshot a new instance needs and the live feed,
// which pub/sub alone is not.
type Feed struct {
	conn     *redisconn.Conn
	cfg      FeedConfig
	stream   string
	instance string
	queue    chan Question
	stop     context.CancelFunc
	wg       sync.WaitGroup
}

// NewFeed starts a feed: one writer and one reader goroutine. Close stops them.
func NewFeed(conn *redisconn.Conn, cfg FeedConfig) (*Feed, error) {
	if !validName.MatchString(cfg.Cache) {
		return nil, errors.New("cache name " + strconv.Quote(cfg.Cache) + ": a cache shared through Redis needs a name of letters, digits, '_', '-' and '.'")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	sum := sha256.Sum256([]byte(cfg.Embedder))
	var id [8]byte
	_, _ = readRandom(id[:])
	ctx, cancel := context.WithCancel(context.Background())
	f := &Feed{
		conn:     conn,
		cfg:      cfg,
		stream:   cfg.Prefix + "sem:" + cfg.Cache + ":" + hex.EncodeToString(sum[:8]),
		instance: hex.EncodeToString(id[:]),
		queue:    make(chan Question, DefaultQueueSize),
		stop:     cancel,
	}
	f.wg.Add(2)
	go f.writer(ctx)
	go f.reader(ctx)
	return f, nil
}

// Close stops the feed.
func (f *Feed) Close() {
	f.stop()
	f.wg.Wait()
}

// Publish queues a question this instance remembered; a full queue drops it.
func (f *Feed) Publish(q Question) bool {
	select {
	case f.queue <- q:
		return true
	default:
		return false
	}
}

func (f *Feed) writer(ctx context.Context) {
	defer f.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case q := <-f.queue:
			_ = f.conn.Call(func(ctx context.Context) error {
				_, err := f.conn.Client().Pipelined(ctx, func(p redis.Pipeliner) error {
					p.XAdd(ctx, &redis.XAddArgs{
						Stream: f.stream,
						MaxLen: f.cfg.MaxLen,
						Approx: true,
						Values: []any{
							"s", q.Scope, "q", q.Query, "v", encodeVec(q.Vec), "k", q.Key, "t", q.Tenant,
							"at", strconv.FormatInt(q.At.UnixNano(), 10), "f", f.instance,
						},
					})
					p.PExpire(ctx, f.stream, f.cfg.TTL)
					return nil
				})
				return err
			})
		}
	}
}

// reader reads the stream from its oldest kept question, then blocks for
// new ones; after an error it tries again a second later.
func (f *Feed) reader(ctx context.Context) {
	defer f.wg.Done()
	last := "0"
	for ctx.Err() == nil {
		res, err := f.conn.Client().XRead(ctx, &redis.XReadArgs{Streams: []string{f.stream, last}, Count: 512, Block: time.Second}).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		for _, s := range res {
			for _, m := range s.Messages {
				last = m.ID
				q, from, ok := decodeQuestion(m.Values)
				if !ok || from == f.instance || time.Since(q.At) >= f.cfg.TTL {
					continue
				}
				if f.cfg.OnQuestion != nil {
					f.cfg.OnQuestion(q)
				}
			}
		}
	}
}

func encodeVec(v []float32) string {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return string(b)
}

func decodeQuestion(vals map[string]any) (q Question, from string, ok bool) {
	str := func(k string) string { s, _ := vals[k].(string); return s }
	v := str("v")
	if len(v) == 0 || len(v)%4 != 0 {
		return q, "", false
	}
	q.Vec = make([]float32, len(v)/4)
	for i := range q.Vec {
		q.Vec[i] = math.Float32frombits(binary.LittleEndian.Uint32([]byte(v[4*i : 4*i+4])))
	}
	at, err := strconv.ParseInt(str("at"), 10, 64)
	if err != nil {
		return q, "", false
	}
	q.Scope, q.Query, q.Key, q.Tenant, q.At = str("s"), str("q"), str("k"), str("t"), time.Unix(0, at)
	return q, str("f"), q.Scope != "" && q.Key != ""
}
