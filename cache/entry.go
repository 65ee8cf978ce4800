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
	// Tenant identifies who may be served the entry (see TenantID): a
	// hash, never a credential; empty for none. Purging a tenant removes
	// the entries that carry its id.
	Tenant string
}

// Matches reports whether the entry may answer a request with header h:
// the request carries the same values in every header the answer's Vary
// names.
func (e *Entry) Matches(h http.Header) bool { return len(e.Vary) == 0 || VaryMatches(e.Vary, h) }

// Age is how long ago the entry was stored.
func (e *Entry) Age(now time.Time) time.Duration { return now.Sub(e.StoredAt) }

// EntryVersion is the encoding's first byte. Version 2 added Vary,
// version 3 the tenant; an entry of another version (from before an
// upgrade, or another build sharing a Redis) is never misread: it is a
// miss.
const EntryVersion = 3

// entryFixed is the size of the fixed part: version, flags, status,
// stored-at, tenant, header count.
const entryFixed = 1 + 1 + 2 + 8 + TenantIDSize + 4

var errCorruptEntry = errors.New("corrupt cache entry")

// MarshalBinary encodes the entry as: version, flags, status, stored-at
// (unix nanoseconds), the tenant id (TenantIDSize bytes, zeros for none), header count, each header name and value
// length-prefixed, the Vary name count, each name, its value count and
// values length-prefixed, then the body.
func (e *Entry) MarshalBinary() ([]byte, error) {
	size := entryFixed + 4 + len(e.Body)
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
	b = append(b, EntryVersion, flags)
	b = binary.BigEndian.AppendUint16(b, uint16(e.Status))
	b = binary.BigEndian.AppendUint64(b, uint64(e.StoredAt.UnixNano()))
	var tenant [TenantIDSize]byte
	copy(tenant[:], e.Tenant)
	b = append(b, tenant[:]...)
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
	tenant, ok := EntryTenant(data)
	if !ok {
		return errCorruptEntry
	}
	e.Tenant = tenant
	e.Stream = data[1]&1 != 0
	e.Status = int(binary.BigEndian.Uint16(data[2:]))
	e.StoredAt = time.Unix(0, int64(binary.BigEndian.Uint64(data[4:])))
	count := binary.BigEndian.Uint32(data[entryFixed-4:])
	rest := data[entryFixed:]
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

// EntryTenant reads the tenant id of an encoded entry without decoding
// the rest; ok is false for data that is not an entry of this version.
func EntryTenant(data []byte) (tenant string, ok bool) {
	if len(data) < entryFixed || data[0] != EntryVersion {
		return "", false
	}
	id := data[12 : 12+TenantIDSize]
	if allZero(id) {
		return "", true
	}
	return string(id), true
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
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
