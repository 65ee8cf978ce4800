package semantic

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func unit(dim, hot int) []float32 {
	v := make([]float32, dim)
	v[hot%dim] = 1
	return v
}

func TestStoreLookupIsScoped(t *testing.T) {
	s := NewStore(StoreConfig{MaxEntries: 100, TTL: time.Hour})
	now := time.Now()
	s.Add("tenant-a/model-x", "How do I reset my password?", unit(8, 1), "key-1", now)

	m, best, ok := s.Lookup("tenant-a/model-x", "How can I reset my password?", unit(8, 1), 0.8, now)
	if !ok || m.Key != "key-1" || best != 1 {
		t.Fatalf("same scope: %+v %v %v", m, best, ok)
	}
	if _, _, ok := s.Lookup("tenant-b/model-x", "How can I reset my password?", unit(8, 1), 0.8, now); ok {
		t.Error("matched across scopes")
	}
	if _, best, ok := s.Lookup("tenant-a/model-x", "Something else entirely here", unit(8, 2), 0.8, now); ok || best != 0 {
		t.Errorf("orthogonal vector matched: best %v ok %v", best, ok)
	}
	// the guards veto a close vector whose numbers differ
	s.Add("s", "Show the top 5 results please", unit(8, 3), "key-5", now)
	if _, _, ok := s.Lookup("s", "Show the top 10 results please", unit(8, 3), 0.8, now); ok {
		t.Error("guard did not veto a number change")
	}
	// a vector of another length is never compared
	if _, _, ok := s.Lookup("tenant-a/model-x", "How can I reset my password?", unit(4, 1), 0.8, now); ok {
		t.Error("matched a vector of another length")
	}
}

func TestStoreBoundsAndExpiry(t *testing.T) {
	s := NewStore(StoreConfig{MaxEntries: 10, TTL: time.Minute})
	now := time.Now()
	for i := range 25 {
		s.Add(fmt.Sprint("scope", i%3), fmt.Sprint("question number ", i), unit(32, i), fmt.Sprint("k", i), now.Add(time.Duration(i)*time.Second))
	}
	if st := s.Stats(); st.Entries != 10 || st.Scopes != 3 {
		t.Fatalf("stats %+v, want 10 entries in 3 scopes", st)
	}
	// the oldest went first: question 14 is gone, 15 is there
	if _, _, ok := s.Lookup("scope2", "question number 14", unit(32, 14), 0.9, now); ok {
		t.Error("oldest entry still matches")
	}
	if _, _, ok := s.Lookup("scope0", "question number 15", unit(32, 15), 0.9, now); !ok {
		t.Error("entry 15 is gone")
	}
	s.Sweep(now.Add(20*time.Second + time.Minute)) // entries added at ≤ 20s have expired
	if st := s.Stats(); st.Entries != 4 {
		t.Errorf("after sweep %+v, want 4 entries", st)
	}
	s.Purge()
	if st := s.Stats(); st.Entries != 0 || st.Scopes != 0 {
		t.Errorf("after purge %+v", st)
	}
}

func TestStoreConcurrent(t *testing.T) {
	s := NewStore(StoreConfig{MaxEntries: 50, TTL: time.Minute})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				now := time.Now()
				scope := fmt.Sprint("s", (g+i)%4)
				s.Add(scope, fmt.Sprint("question ", g, " ", i), unit(16, i), "k", now)
				s.Lookup(scope, fmt.Sprint("question ", g, " ", i), unit(16, i+1), 0.5, now)
				if i%50 == 0 {
					s.Sweep(now)
					s.Stats()
				}
			}
		}()
	}
	wg.Wait()
	if st := s.Stats(); st.Entries > 50 {
		t.Errorf("%d entries, bound is 50", st.Entries)
	}
}
