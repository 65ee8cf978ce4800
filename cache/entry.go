package cache

import (
	"encoding/binary"
	"errors"
	"net/http"
	"time"
)

// Entry is one stored answer.
type Entry struct {
	Status   int
	Header   http.Header
	Body     []byte // for a stream, the raw event stream as the upstream sent it
	Stream   bool   // Body is a Server-Sent Events stream, replayed event by event
	StoredAt time.Time
	// Vary holds, for each request header the answer's Vary names, a
	// digest of the values the storing request carried (see RequestVary);
	// a request is served this entry only if VaryMatches. Nil when Vary
	// names nothing.
	Vary http.Header
}

// Matches reports whether the entry may answer a request with header h:
// the request carries the same values in every header the answer's Vary
// names.
func (e *Entry) Matches(h http.Header) bool { return len(e.Vary) == 0 || VaryMatches(e.Vary, h) }

// Age is how long ago the entry was stored.
func (e *Entry) Age(now time.Time) time.Duration { return now.Sub(e.StoredAt) }

// entryVersion is the encoding's first byte. Version 2 added Vary; an
// entry of another version (from before an upgrade, or another build
// sharing a store) is never misread: it is a miss.
const entryVersion = 2

var errCorruptEntry = errors.New("corrupt cache entry")

// MarshalBinary encodes the entry as: version, flags, status, stored-at
// (unix nanoseconds), header count, each header name and value
// length-prefixed, the Vary name count, each name, its value count and
// values length-prefixed, then the body.
func (e *Entry) MarshalBinary() ([]byte, error) {
	size := 1 + 1 + 2 + 8 + 4 + 4 + len(e.Body)
	for k, vs := range e.Header {
		for _, v := range vs {
			size += 8 + len(k) + len(v)
		}
	}
	for k, vs := range e.Vary {
		size += 8 + len(k)
		for _, v := range vs {
			size += 4 + len(v)
		}
	}
	b := make([]byte, 0, size)
	var flags byte
	if e.Stream {
		flags |= 1
	}
	b = append(b, entryVersion, flags)
	b = binary.BigEndian.AppendUint16(b, uint16(e.Status))
	b = binary.BigEndian.AppendUint64(b, uint64(e.StoredAt.UnixNano()))
	count := 0
	for _, vs := range e.Header {
		count += len(vs)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(count))
	for k, vs := range e.Header {
		for _, v := range vs {
			b = appendString(b, k)
			b = appendString(b, v)
		}
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(e.Vary)))
	for k, vs := range e.Vary {
		b = appendString(b, k)
		b = binary.BigEndian.AppendUint32(b, uint32(len(vs)))
		for _, v := range vs {
			b = appendString(b, v)
		}
	}
	return append(b, e.Body...), nil
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// UnmarshalBinary decodes what MarshalBinary wrote. The body aliases data.
func (e *Entry) UnmarshalBinary(data []byte) error {
	if len(data) < 16 || data[0] != entryVersion {
		return errCorruptEntry
	}
	e.Stream = data[1]&1 != 0
	e.Status = int(binary.BigEndian.Uint16(data[2:]))
	e.StoredAt = time.Unix(0, int64(binary.BigEndian.Uint64(data[4:])))
	count := binary.BigEndian.Uint32(data[12:])
	rest := data[16:]
	if uint64(count)*8 > uint64(len(rest)) {
		return errCorruptEntry
	}
	e.Header = make(http.Header, count)
	for range count {
		var k, v string
		var ok bool
		if k, rest, ok = readString(rest); !ok {
			return errCorruptEntry
		}
		if v, rest, ok = readString(rest); !ok {
			return errCorruptEntry
		}
		e.Header[k] = append(e.Header[k], v)
	}
	if len(rest) < 4 {
		return errCorruptEntry
	}
	names := binary.BigEndian.Uint32(rest)
	rest = rest[4:]
	if uint64(names)*8 > uint64(len(rest)) {
		return errCorruptEntry
	}
	e.Vary = nil
	if names > 0 {
		e.Vary = make(http.Header, names)
	}
	for range names {
		var k string
		var ok bool
		if k, rest, ok = readString(rest); !ok || len(rest) < 4 {
			return errCorruptEntry
		}
		n := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(n)*4 > uint64(len(rest)) {
			return errCorruptEntry
		}
		vals := make([]string, 0, n)
		for range n {
			var v string
			if v, rest, ok = readString(rest); !ok {
				return errCorruptEntry
			}
			vals = append(vals, v)
		}
		e.Vary[k] = vals
	}
	e.Body = rest
	return nil
}

func readString(b []byte) (string, []byte, bool) {
	if len(b) < 4 {
		return "", nil, false
	}
	n := binary.BigEndian.Uint32(b)
	b = b[4:]
	if uint64(n) > uint64(len(b)) {
		return "", nil, false
	}
	return string(b[:n]), b[n:], true
}
