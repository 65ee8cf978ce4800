package main

import (
	"testing"
	"time"

	"github.com/ragproxy/ragproxy/semantic"
)

// The pipeline-miss questions must all be misses: distinct, and no one a
// semantic hit (local embedder, default threshold, guards) on an earlier
// one, or the scenario would measure hits.
func TestRealQuestionsAreMisses(t *testing.T) {
	if len(nouns) != 2048 {
		t.Fatalf("%d nouns, want 2048", len(nouns))
	}
	const n = 30000
	l := semantic.NewLocal(0)
	s := semantic.NewStore(semantic.StoreConfig{MaxEntries: n, TTL: time.Hour})
	seen := make(map[string]bool, n)
	now := time.Unix(0, 0)
	near := 0
	for i := range int64(n) {
		q := realQuestion(i)
		if seen[q] {
			t.Fatalf("question %d repeats: %q", i+1, q)
		}
		seen[q] = true
		v := l.EmbedOne(q)
		m, best, hit := s.Lookup("scope", q, v, semantic.DefaultLocalThreshold, now)
		if hit {
			t.Fatalf("question %d %q is a semantic hit on %q (%.3f)", i+1, q, m.Query, m.Score)
		}
		if best >= semantic.DefaultLocalThreshold {
			near++
		}
		s.Add("scope", q, v, q, now)
	}
	if near > n/100 {
		t.Errorf("%d of %d questions scored above the threshold against an earlier one (vetoed): want them far apart", near, n)
	}
	t.Logf("%d of %d above the threshold, vetoed", near, n)
}
