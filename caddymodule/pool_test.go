package caddymodule

import (
	"errors"
	"testing"
)

// TestPoolReferenceCounts checks a value outlives a reload (acquired
// again before the old user lets go) and is destroyed with its last user.
func TestPoolReferenceCounts(t *testing.T) {
	destroyed := 0
	p := newPool("test", func(*int) error { destroyed++; return nil })
	made := 0
	newValue := func() (*int, error) { made++; v := made; return &v, nil }

	a, loaded, err := p.acquire("k", newValue)
	if err != nil || loaded {
		t.Fatalf("first acquire: loaded %v, err %v", loaded, err)
	}
	b, loaded, err := p.acquire("k", newValue) // the new config, before the old one's cleanup
	if err != nil || !loaded || b != a {
		t.Fatalf("second acquire: loaded %v, same %v, err %v", loaded, b == a, err)
	}
	count := 0
	p.each(func(v *int) { count++ })
	if count != 1 {
		t.Fatalf("each saw %d values, want 1", count)
	}
	if _, _ = p.Delete("k"); destroyed != 0 {
		t.Fatal("destroyed while a user remains")
	}
	if _, _ = p.Delete("k"); destroyed != 1 {
		t.Fatalf("destroyed %d times after the last user, want 1", destroyed)
	}
}

// TestPoolMakeError checks a failed make leaves nothing behind and the
// error is the maker's own.
func TestPoolMakeError(t *testing.T) {
	p := newPool[*int]("test", nil)
	boom := errors.New("boom")
	if _, _, err := p.acquire("k", func() (*int, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	count := 0
	p.each(func(*int) { count++ })
	if count != 0 {
		t.Fatalf("each saw %d values after a failed make", count)
	}
}
