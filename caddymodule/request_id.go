package caddymodule

import "math/rand/v2"

// newRequestID returns a random (version 4) UUID for an answer's
// X-Request-ID. It draws from the runtime's per-thread ChaCha8 generator,
// seeded from the OS: ids need to be unique, not secret, and this costs
// tens of nanoseconds where Caddy's {http.request.uuid} costs a replacer
// lookup and an access-log field of its own on every request.
func newRequestID() string {
	const hex = "0123456789abcdef"
	var u [16]byte
	hi, lo := rand.Uint64(), rand.Uint64()
	for i := range 8 {
		u[i], u[8+i] = byte(hi>>(56-8*i)), byte(lo>>(56-8*i))
	}
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
