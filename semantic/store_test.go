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

// The Store owns its entries' age: the bound evicts the oldest by the time
// it was added, whatever the order of the Adds (questions shared by
// another instance arrive with their own, older, times).
func TestStoreEvictsOldestByTime(t *testing.T) {
	s := NewStore(StoreConfig{MaxEntries: 3, TTL: time.Hour})
	t0 := time.Unix(1000, 0)
	s.Add("a", "question number 1", unit(16, 1), "k1", t0.Add(3*time.Second))
	s.Add("b", "question number 2", unit(16, 2), "k2", t0.Add(1*time.Second)) // shared, older
	s.Add("a", "question number 3", unit(16, 3), "k3", t0.Add(4*time.Second))
	s.Add("b", "question number 4", unit(16, 4), "k4", t0.Add(5*time.Second)) // evicts 2, the oldest
	now := t0.Add(6 * time.Second)
	if _, _, ok := s.Lookup("b", "question number 2", unit(16, 2), 0.9, now); ok {
		t.Error("the oldest entry (added second) still matches")
	}
	for i, scope := range map[int]string{1: "a", 3: "a", 4: "b"} {
		if m, _, ok := s.Lookup(scope, fmt.Sprint("question number ", i), unit(16, i), 0.9, now); !ok || m.Key != fmt.Sprint("k", i) {
			t.Errorf("entry %d: %+v %v", i, m, ok)
		}
	}
	s.Add("c", "question number 5", unit(16, 5), "k5", t0) // older than all: evicted at once
	if st := s.Stats(); st.Entries != 3 || st.Scopes != 2 {
		t.Errorf("stats %+v, want 3 entries in 2 scopes", st)
	}
}

// A Lookup never matches an expired entry, and drops the expired ones
// itself (the sweeper only bounds the memory of a store nobody asks).
func TestStoreLookupDropsExpired(t *testing.T) {
	s := NewStore(StoreConfig{MaxEntries: 10, TTL: time.Minute})
	t0 := time.Unix(1000, 0)
	s.Add("s", "How do I reset my password?", unit(8, 1), "k1", t0)
	s.Add("s", "How do I delete my account?", unit(8, 2), "k2", t0.Add(30*time.Second))
	if _, _, ok := s.Lookup("s", "How can I reset my password?", unit(8, 1), 0.8, t0.Add(time.Minute-1)); !ok {
		t.Fatal("a live entry does not match")
	}
	if _, _, ok := s.Lookup("s", "How can I reset my password?", unit(8, 1), 0.8, t0.Add(time.Minute)); ok {
		t.Fatal("an expired entry matched")
	}
	if st := s.Stats(); st.Entries != 1 {
		t.Fatalf("after a Lookup at t0+1m: %+v, want the expired entry gone", st)
	}
	// An entry already expired when it is added never matches either.
	s.Add("s", "How do I rename my team?", unit(8, 3), "k3", t0)
	if _, _, ok := s.Lookup("s", "How can I rename my team?", unit(8, 3), 0.8, t0.Add(time.Minute)); ok {
		t.Fatal("an entry added expired matched")
	}
}
