package split

// FNV-1a 64 parameters. FNV is hand-rolled over strings rather than taken
// from hash/fnv so hashing a key needs no []byte conversion and therefore
// no allocation, and so a prefix state can be cached per variant.
const (
	fnvOffset64 uint64 = 14695981039346656037
	fnvPrime64  uint64 = 1099511628211
)

// fnvString continues the FNV-1a 64 hash h over s.
func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime64
	}
	return h
}

// fnvByte continues the FNV-1a 64 hash h over one byte.
func fnvByte(h uint64, b byte) uint64 {
	return (h ^ uint64(b)) * fnvPrime64
}

// mix64 is the MurmurHash3 finaliser. FNV-1a's high bits avalanche poorly
// when keys differ only in their last bytes (think "user-1", "user-2"), and
// the unit mapping below reads the high bits.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// unitOpen maps h to the open interval (0, 1). It keeps 52 bits so that
// adding one half stays exact: u is never 0 or 1, so ln(u) is finite and
// negative.
func unitOpen(h uint64) float64 {
	return (float64(h>>12) + 0.5) / (1 << 52)
}
