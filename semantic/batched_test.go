package semantic

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBatchedGathersAndRemembersPerScope(t *testing.T) {
	var calls, texts atomic.Int32
	b, err := NewBatched(20*time.Millisecond, 100, func(in []string, vecs [][]float32, errs []error) {
		calls.Add(1)
		texts.Add(int32(len(in)))
		for i, s := range in {
			vecs[i] = []float32{float32(len(s))}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, q := range []string{"a", "bb", "bb", "ccc"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := b.EmbedOne(context.Background(), "s1", q)
			if err != nil || v[0] != float32(len(q)) {
				t.Errorf("EmbedOne(%q) = %v, %v", q, v, err)
			}
		}()
	}
	wg.Wait()
	if calls.Load() > 2 || texts.Load() > 3+int32(calls.Load()-1) {
		t.Errorf("%d calls for %d texts: concurrent questions were not gathered or repeats not merged", calls.Load(), texts.Load())
	}
	before := calls.Load()
	b.EmbedOne(context.Background(), "s1", "a")
	if calls.Load() != before {
		t.Error("a repeated question in the same scope was embedded again")
	}
	b.EmbedOne(context.Background(), "s2", "a")
	if calls.Load() != before+1 {
		t.Error("another scope's question was served from the first scope's memory")
	}
}
