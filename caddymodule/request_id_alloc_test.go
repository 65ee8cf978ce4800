//go:build !race

package caddymodule

import "testing"

// TestNewRequestIDAllocations checks an id costs one allocation, its
// string: the random bytes stay on the stack. (The race detector's
// instrumentation moves them to the heap, hence the build tag.)
func TestNewRequestIDAllocations(t *testing.T) {
	if n := testing.AllocsPerRun(1000, func() { _ = newRequestID() }); n > 1 {
		t.Fatalf("newRequestID allocates %v times", n)
	}
}
