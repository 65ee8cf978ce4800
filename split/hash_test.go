package split

import (
	"hash/fnv"
	"testing"
)

func TestFNVMatchesStandardLibrary(t *testing.T) {
	// Published FNV-1a 64 vectors, plus hash/fnv as a second opinion.
	for _, tc := range []struct {
		in   string
		want uint64
	}{
		{"", 0xcbf29ce484222325},
		{"a", 0xaf63dc4c8601ec8c},
		{"foobar", 0x85944171f73967e8},
		{"exp\x00variant\x00key", 0},
	} {
		h := fnv.New64a()
		h.Write([]byte(tc.in))
		std := h.Sum64()
		got := fnvString(fnvOffset64, tc.in)
		if got != std || (tc.want != 0 && got != tc.want) {
			t.Errorf("fnvString(%q) = %#x, hash/fnv %#x, published %#x", tc.in, got, std, tc.want)
		}
	}
	if fnvByte(fnvString(fnvOffset64, "ab"), 'c') != fnvString(fnvOffset64, "abc") {
		t.Error("fnvByte does not continue fnvString")
	}
}

func TestUnitOpenStaysInside(t *testing.T) {
	for _, h := range []uint64{0, 1, 1 << 12, 1<<63 - 1, 1 << 63, ^uint64(0)} {
		if u := unitOpen(h); !(u > 0 && u < 1) {
			t.Errorf("unitOpen(%#x) = %v, want in (0,1)", h, u)
		}
	}
}
