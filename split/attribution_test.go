package split

import (
	"errors"
	"math"
	"strconv"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func TestFeedbackAttribution(t *testing.T) {
	e := NewExperiment("e")
	e.Remember("r1", "control", t0)
	e.Remember("r2", "treatment", t0)
	e.Remember("", "treatment", t0) // ignored

	type step struct {
		id      string
		score   float64
		variant string
		err     error
	}
	for i, s := range []step{
		{"r1", math.NaN(), "", ErrBadScore},
		{"r1", math.Inf(1), "", ErrBadScore},
		{"r1", math.Inf(-1), "", ErrBadScore},
		{"r1", 1, "control", nil}, // bad scores did not use up r1
		{"r1", 0, "", ErrDuplicateFeedback},
		{"r2", 4.5, "treatment", nil},
		{"r3", 1, "", ErrUnknownRequest},
		{"", 1, "", ErrUnknownRequest},
	} {
		v, err := e.Feedback(s.id, s.score, t0.Add(time.Minute))
		if v != s.variant || !errors.Is(err, s.err) {
			t.Fatalf("step %d: Feedback(%q, %v) = %q, %v; want %q, %v", i, s.id, s.score, v, err, s.variant, s.err)
		}
	}
	if c := e.Variant("control").Snapshot().Feedback; c.Count != 1 || c.Mean != 1 || !c.Binary {
		t.Fatalf("control feedback = %+v", c)
	}
	if tr := e.Variant("treatment").Snapshot().Feedback; tr.Count != 1 || tr.Mean != 4.5 || tr.Binary {
		t.Fatalf("treatment feedback = %+v", tr)
	}
}

func TestMemoryTTL(t *testing.T) {
	e := NewExperiment("e")
	e.SetMemory(10, time.Hour)
	e.Remember("old", "a", t0)
	e.Remember("edge", "a", t0)
	if _, err := e.Feedback("edge", 1, t0.Add(time.Hour)); err != nil {
		t.Fatalf("feedback exactly at the TTL: %v", err)
	}
	if _, err := e.Feedback("old", 1, t0.Add(time.Hour+time.Nanosecond)); !errors.Is(err, ErrUnknownRequest) {
		t.Fatalf("feedback past the TTL: %v, want ErrUnknownRequest", err)
	}
	// A later Remember sweeps expired ids out, so memory is bounded by
	// time as well as by count.
	e.Remember("new", "a", t0.Add(2*time.Hour))
	if n := len(e.memory.byID); n != 1 {
		t.Fatalf("%d ids remembered after expiry, want 1", n)
	}
}

func TestMemoryEvictsOldest(t *testing.T) {
	e := NewExperiment("e")
	e.SetMemory(3, time.Hour)
	for i := range 5 {
		e.Remember("r"+strconv.Itoa(i), "v"+strconv.Itoa(i), t0)
	}
	for i := range 5 {
		v, err := e.Feedback("r"+strconv.Itoa(i), 1, t0)
		if i < 2 {
			if !errors.Is(err, ErrUnknownRequest) {
				t.Errorf("r%d: %v, want evicted", i, err)
			}
		} else if err != nil || v != "v"+strconv.Itoa(i) {
			t.Errorf("r%d: %q, %v", i, v, err)
		}
	}
}

func TestMemoryRememberSameIDTwice(t *testing.T) {
	e := NewExperiment("e")
	e.SetMemory(3, time.Hour)
	e.Remember("a", "first", t0)
	e.Remember("b", "x", t0)
	e.Remember("a", "second", t0) // the later request owns the id
	e.Remember("c", "x", t0)      // evicts the first "a" slot, not the id
	if v, err := e.Feedback("a", 1, t0); err != nil || v != "second" {
		t.Fatalf("Feedback(a) = %q, %v; want second", v, err)
	}
	e.Remember("d", "x", t0) // evicts b
	e.Remember("f", "x", t0) // evicts the second "a" slot, and the id with it
	if _, err := e.Feedback("a", 1, t0); !errors.Is(err, ErrUnknownRequest) {
		t.Fatalf("Feedback(a) after eviction: %v", err)
	}
}

func TestSetMemoryShrinkAndDefaults(t *testing.T) {
	e := NewExperiment("e")
	for i := range 10 {
		e.Remember("r"+strconv.Itoa(i), "v", t0)
	}
	e.SetMemory(2, time.Hour)
	if len(e.memory.byID) != 2 || len(e.memory.ring) != 2 {
		t.Fatalf("after shrinking: %d ids, ring %d", len(e.memory.byID), len(e.memory.ring))
	}
	for _, id := range []string{"r8", "r9"} {
		if _, err := e.Feedback(id, 1, t0); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	e.SetMemory(0, -1)
	if e.memory.limit != DefaultMemoryRequests || e.memory.ttl != DefaultMemoryTTL {
		t.Fatalf("defaults: %d, %v", e.memory.limit, e.memory.ttl)
	}
	// Growing keeps the ids and their order.
	e.Remember("r10", "v", t0)
	if _, err := e.Feedback("r10", 1, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Feedback("r9", 1, t0); !errors.Is(err, ErrDuplicateFeedback) {
		t.Fatalf("r9 after growing: %v", err)
	}
}

func TestMemoryStaysBounded(t *testing.T) {
	e := NewExperiment("e")
	e.SetMemory(100, time.Hour)
	for i := range 10_000 {
		e.Remember("r"+strconv.Itoa(i), "v", t0.Add(time.Duration(i)))
	}
	if len(e.memory.byID) != 100 || len(e.memory.ring) != 100 || e.memory.n != 100 {
		t.Fatalf("%d ids, ring %d, n %d; want 100", len(e.memory.byID), len(e.memory.ring), e.memory.n)
	}
	if _, err := e.Feedback("r9999", 1, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Feedback("r9899", 1, t0); !errors.Is(err, ErrUnknownRequest) {
		t.Fatalf("r9899: %v", err)
	}
}
