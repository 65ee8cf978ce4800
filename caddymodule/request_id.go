package caddymodule

import "crypto/rand"

// newRequestID returns a random (version 4) UUID for an answer's
// X-Request-ID. rag_feedback attributes a score to the request whose id it
// names, so the id is a capability: it must be unguessable, not only
// unique, and comes from crypto/rand (122 random bits). On Linux 6.11 and
// later that is the vDSO getrandom, tens of nanoseconds, as cheap as
// math/rand/v2; elsewhere one getrandom system call.
func newRequestID() string {
	const hex = "0123456789abcdef"
	var u [16]byte
	_, _ = rand.Read(u[:])  // never fails: it crashes the program instead
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	var s [36]byte
	j := 0
	for i, b := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			s[j] = '-'
			j++
		}
		s[j], s[j+1] = hex[b>>4], hex[b&0x0f]
		j += 2
	}
	return string(s[:])
}
