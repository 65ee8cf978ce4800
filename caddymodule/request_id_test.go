package caddymodule

import (
	"regexp"
	"testing"
)

// uuidV4 is a canonical lower-case version 4 UUID of the RFC 9562 variant.
var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestNewRequestID checks the ids are version 4 UUIDs and do not repeat.
func TestNewRequestID(t *testing.T) {
	seen := make(map[string]bool)
	for range 10000 {
		id := newRequestID()
		if !uuidV4.MatchString(id) {
			t.Fatalf("%q is not a canonical version 4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("%q twice", id)
		}
		seen[id] = true
	}
}
