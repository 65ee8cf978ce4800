package llm

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Usage is the LLM token usage an answer reports. Input counts every
// prompt token; CacheRead and CacheWrite are the part of it read from
// and written to the provider's prompt cache (OpenAI's
// prompt_tokens_details / input_tokens_details cached_tokens; Anthropic's
// cache_read_input_tokens and cache_creation_input_tokens).
type Usage struct {
	Input, Output, Total  int64
	CacheRead, CacheWrite int64
}

const (
	// maxSSELine is the longest server-sent-events line looked at; longer
	// lines are skipped without being buffered.
	maxSSELine = 1 << 20
	// maxUsageValue is the largest top-level "usage" value of a JSON
	// answer that is kept to be decoded; the rest of the answer is
	// scanned, never held.
	maxUsageValue = 64 << 10
	// maxKey is the longest top-level key looked at: "usage" spelled with
	// every character escaped is 32 bytes.
	maxKey = 40
	// maxPooledBuf is the largest buffer a meter keeps across Reset.
	maxPooledBuf = 64 << 10
	// maxCount bounds a token count, so that sums of counts cannot overflow.
	maxCount = 1 << 50
)

var (
	usageKey   = []byte(`"usage"`)
	dataPrefix = []byte("data:")
)

type meterMode uint8

const (
	modeInert meterMode = iota
	modeSSE
	modeJSON
)

// UsageMeter watches an answer body as it is written to the client and
// finds its token usage. It never fails and never blocks the body: Write
// always returns len(p), nil.
//
// What it reads depends on the answer's content type and encoding:
//
//   - a compressed answer (Content-Encoding other than "" or "identity") is
//     not read;
//   - text/event-stream is read line by line; only "data:" lines holding
//     the bytes `"usage"` (not followed by :null) are decoded, and lines
//     longer than 1 MiB are skipped. It knows OpenAI chat/completions
//     usage chunks, OpenAI Responses API events (response.usage), and
//     Anthropic message_start (message.usage) and message_delta (usage)
//     events. Streamed counts are cumulative: a later event's count
//     replaces an earlier one, not adds to it (the largest is kept, so a
//     stray zero cannot undo a count);
//   - JSON (application/json, anything+json, or no content type) is
//     scanned as it goes by, whatever its size, keeping nothing but the
//     value of a top-level "usage" key (up to 64 KiB), which is decoded;
//     as encoding/json would, the last such key wins and keys match
//     case-insensitively, escapes decoded. An answer that is not one
//     complete JSON object has no usage;
//   - anything else is not read.
//
// A UsageMeter is not safe for concurrent use. It can be reused with Reset,
// which keeps its buffers unless they grew large, so meters can be pooled.
type UsageMeter struct {
	mode meterMode

	// buf holds the top-level "usage" value being read (JSON mode) or the
	// unfinished line (SSE mode).
	buf []byte

	// JSON mode.
	js  jsonScan
	res counts // the usage of the last top-level "usage" value seen

	// SSE mode.
	skip bool     // inside a line longer than maxSSELine
	cr   bool     // the last line ended with '\r': a '\n' next is part of it
	st   counts   // usage found in the lines so far
	ev   sseEvent // reused decoding target
}

// NewUsageMeter returns a meter for an answer with the given Content-Type
// and Content-Encoding header values.
func NewUsageMeter(contentType, contentEncoding string) *UsageMeter {
	m := new(UsageMeter)
	m.Reset(contentType, contentEncoding)
	return m
}

// Reset readies m for a new answer with the given Content-Type and
// Content-Encoding. It keeps m's buffer unless it is larger than 64 KiB.
func (m *UsageMeter) Reset(contentType, contentEncoding string) {
	*m = UsageMeter{mode: modeFor(contentType, contentEncoding), buf: reusable(m.buf)}
}

// reusable returns b emptied, or nil if it is too large to keep.
func reusable(b []byte) []byte {
	if cap(b) > maxPooledBuf {
		return nil
	}
	return b[:0]
}

func modeFor(contentType, contentEncoding string) meterMode {
	if ce := strings.TrimSpace(contentEncoding); ce != "" && !strings.EqualFold(ce, "identity") {
		return modeInert
	}
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.TrimSpace(mt)
	switch {
	case mt == "":
		return modeJSON
	case strings.EqualFold(mt, "text/event-stream"):
		return modeSSE
	case strings.EqualFold(mt, "application/json"),
		len(mt) > len("+json") && strings.EqualFold(mt[len(mt)-len("+json"):], "+json"):
		return modeJSON
	}
	return modeInert
}

// Streaming reports whether the answer is read as server-sent events.
func (m *UsageMeter) Streaming() bool { return m.mode == modeSSE }

// Write watches p. It always returns len(p), nil.
func (m *UsageMeter) Write(p []byte) (int, error) {
	switch m.mode {
	case modeSSE:
		m.writeSSE(p)
	case modeJSON:
		m.writeJSON(p)
	}
	return len(p), nil
}

// Usage returns the usage found in what was written so far; it is meant to
// be called once the body is complete or cut short. ok is false if no
// usage was found.
func (m *UsageMeter) Usage() (u Usage, ok bool) {
	switch m.mode {
	case modeSSE:
		st := m.st
		if !m.skip && len(m.buf) > 0 {
			// The last line was not ended: take it as it is.
			m.sseLine(m.buf, &st)
		}
		return st.usage()
	case modeJSON:
		if m.js.bad || !m.js.closed {
			return Usage{}, false
		}
		return m.res.usage()
	}
	return Usage{}, false
}

// --- JSON ---

// jsonScan is the state of a scan through a JSON answer that is looking
// for its top-level "usage" member. It checks the answer is one object
// (strings closed, brackets balanced in number, nothing after it) but
// not the spelling of what it steps over.
type jsonScan struct {
	depth     int64
	started   bool // the top-level '{' was seen
	closed    bool // and its '}'
	bad       bool // not one JSON object
	inStr     bool
	esc       bool // the last byte in a string was an unescaped '\'
	expectKey bool // at depth 1, the next string is a key
	inKey     bool // inside a top-level key
	keyLong   bool // the key outgrew key
	isUsage   bool // the last top-level key was "usage": its value comes next
	capturing bool // inside the value of a top-level "usage" (held in buf)
	capOver   bool // that value outgrew maxUsageValue
	keyLen    int
	key       [maxKey]byte
}

func (m *UsageMeter) writeJSON(p []byte) {
	s := &m.js
	for i := 0; i < len(p); i++ {
		if s.bad {
			return
		}
		c := p[i]
		if s.inStr {
			if !s.capturing && !s.inKey && !s.esc {
				// Step over the string's plain bytes at once.
				j := i
				for j < len(p) && p[j] != '"' && p[j] != '\\' {
					j++
				}
				if i = j; i == len(p) {
					return
				}
				c = p[i]
			}
			m.capture(c)
			if s.inKey {
				if s.keyLen < maxKey {
					s.key[s.keyLen] = c
					s.keyLen++
				} else {
					s.keyLong = true
				}
			}
			switch {
			case s.esc:
				s.esc = false
			case c == '\\':
				s.esc = true
			case c == '"':
				s.inStr = false
				if s.inKey {
					s.inKey = false
					s.isUsage = !s.keyLong && keyIs(s.key[:s.keyLen], "usage")
				}
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			if s.capturing {
				m.capture(c)
			}
		case '"':
			if s.depth == 0 {
				s.bad = true
				return
			}
			s.inStr = true
			if s.depth == 1 && s.expectKey {
				s.expectKey, s.inKey, s.keyLong = false, true, false
				s.key[0], s.keyLen = '"', 1
			} else {
				m.capture(c)
			}
		case '{', '[':
			if s.depth == 0 {
				if s.started || c != '{' {
					s.bad = true
					return
				}
				s.started, s.depth, s.expectKey = true, 1, true
				continue
			}
			m.capture(c)
			s.depth++
		case '}', ']':
			if s.depth == 1 {
				m.endUsage()
				s.depth, s.closed = 0, true
				continue
			}
			if s.depth == 0 {
				s.bad = true
				return
			}
			m.capture(c)
			s.depth--
			if s.depth == 1 {
				m.endUsage()
			}
		case ':':
			if s.depth == 1 {
				if s.isUsage {
					s.isUsage, s.capturing, s.capOver = false, true, false
					m.buf = m.buf[:0]
				}
				continue
			}
			m.capture(c)
		case ',':
			if s.depth == 1 {
				m.endUsage()
				s.expectKey = true
				continue
			}
			m.capture(c)
		default:
			if s.depth == 0 {
				s.bad = true
				return
			}
			m.capture(c)
		}
	}
}

// capture adds c to the "usage" value being read, if one is.
func (m *UsageMeter) capture(c byte) {
	if !m.js.capturing || m.js.capOver {
		return
	}
	if len(m.buf) >= maxUsageValue {
		m.js.capOver = true
		return
	}
	m.buf = append(m.buf, c)
}

// endUsage decodes the "usage" value just read, if one was: it replaces
// any earlier one, as the last of repeated keys wins.
func (m *UsageMeter) endUsage() {
	if !m.js.capturing {
		return
	}
	m.js.capturing = false
	m.res = counts{}
	if m.js.capOver {
		return
	}
	v := bytes.TrimSpace(m.buf)
	if len(v) == 0 || v[0] != '{' {
		return
	}
	var u usageObj
	if u.UnmarshalJSON(v) == nil && u.ok {
		m.res = u.c
	}
}

// --- server-sent events ---

func (m *UsageMeter) writeSSE(p []byte) {
	for len(p) > 0 {
		if m.cr {
			m.cr = false
			if p[0] == '\n' {
				p = p[1:]
				continue
			}
		}
		if m.skip || len(m.buf) > 0 {
			// Finish the line begun in an earlier Write.
			i := firstEOL(p)
			if i < 0 {
				m.partial(p)
				return
			}
			if m.skip {
				m.skip = false
			} else if len(m.buf)+i <= maxSSELine {
				m.buf = append(m.buf, p[:i]...)
				m.sseLine(m.buf, &m.st)
			}
			m.buf = m.buf[:0]
			m.cr = p[i] == '\r'
			p = p[i+1:]
			continue
		}
		// At the start of a line. Lines without `"usage"` are of no
		// interest: step over all of them at once.
		u := indexUsage(p)
		if u < 0 {
			if k := lastEOL(p); k >= 0 {
				m.cr = p[k] == '\r'
				p = p[k+1:]
			}
			m.partial(p)
			return
		}
		// Step over the lines before the one holding `"usage"`.
		for {
			i := firstEOL(p[:u])
			if i < 0 {
				break
			}
			i++
			if p[i-1] == '\r' && p[i] == '\n' { // p[u] is '"': p[i] is in p
				i++
			}
			p, u = p[i:], u-i
		}
		// p begins with the line holding `"usage"`.
		i := firstEOL(p)
		if i < 0 {
			m.partial(p)
			return
		}
		if i <= maxSSELine && bytes.HasPrefix(p, dataPrefix) && hasUsageAt(p[:i], u) {
			m.decodeEvent(p[len(dataPrefix):i], &m.st)
		}
		m.cr = p[i] == '\r'
		p = p[i+1:]
	}
}

// partial keeps the start of a line not yet ended, unless the line is too
// long, in which case the line is skipped up to its end.
func (m *UsageMeter) partial(p []byte) {
	if m.skip || len(p) == 0 {
		return
	}
	if len(m.buf)+len(p) > maxSSELine {
		m.skip = true
		m.buf = m.buf[:0]
		return
	}
	m.buf = append(m.buf, p...)
}

// firstEOL returns the index of the first '\r' or '\n' in p, or -1.
func firstEOL(p []byte) int {
	n := bytes.IndexByte(p, '\n')
	if n < 0 {
		return bytes.IndexByte(p, '\r')
	}
	if r := bytes.IndexByte(p[:n], '\r'); r >= 0 {
		return r
	}
	return n
}

// lastEOL returns the index of the last '\r' or '\n' in p, or -1.
func lastEOL(p []byte) int {
	for i := len(p) - 1; i >= 0; i-- {
		if c := p[i]; c == '\n' || c == '\r' {
			return i
		}
	}
	return -1
}

// sseEvent is the part of an event's data looked at: usage (OpenAI chat
// chunks, Anthropic message_delta), message.usage (Anthropic
// message_start) and response.usage (OpenAI Responses API).
type sseEvent struct {
	Usage    usageObj    `json:"usage"`
	Message  usageHolder `json:"message"`
	Response usageHolder `json:"response"`
}

// sseLine merges the usage in one line, if any, into st.
func (m *UsageMeter) sseLine(line []byte, st *counts) {
	data, ok := bytes.CutPrefix(line, dataPrefix)
	if ok && hasUsage(data) {
		m.decodeEvent(data, st)
	}
}

// decodeEvent merges the usage in an event's data into st.
func (m *UsageMeter) decodeEvent(data []byte, st *counts) {
	m.ev = sseEvent{}
	if json.Unmarshal(data, &m.ev) != nil {
		return
	}
	for _, u := range [...]*usageObj{&m.ev.Usage, &m.ev.Message.Usage, &m.ev.Response.Usage} {
		if u.ok {
			st.merge(&u.c)
		}
	}
}

// --- usage objects ---

// hasUsage reports whether JSON text may hold a usage object: whether it
// has a "usage" key whose value is not null. OpenAI streams with usage
// have "usage":null in every chunk but the last; this keeps them from
// being decoded.
func hasUsage(b []byte) bool { return hasUsageAt(b, indexUsage(b)) }

// hasUsageAt is hasUsage for b whose first `"usage"` is at i (-1: none).
func hasUsageAt(b []byte, i int) bool {
	for ; i >= 0; i = indexUsage(b) {
		b = b[skipSpaceAt(b, i+len(usageKey)):]
		if len(b) == 0 || b[0] != ':' {
			continue // not a key
		}
		b = b[skipSpaceAt(b, 1):]
		if !bytes.HasPrefix(b, []byte("null")) {
			return true
		}
	}
	return false
}

// indexUsage returns the index of the first `"usage"` in b, or -1. It looks
// for `usage"` first: JSON is full of '"', which would make bytes.Index
// stop at every one of them.
func indexUsage(b []byte) int {
	for off := 0; ; {
		i := bytes.Index(b[off:], usageKey[1:])
		if i < 0 {
			return -1
		}
		if i += off; i > 0 && b[i-1] == '"' {
			return i - 1
		}
		off = i + 1
	}
}

// count is one token count of a usage object.
type count struct {
	n   int64
	set bool
}

// counts are the token counts of a usage object, as they were given.
type counts struct {
	prompt, completion, input, output, total, cacheCreation, cacheRead count
	cached                                                             count // OpenAI's *_tokens_details.cached_tokens
}

func (c *counts) fields() [8]*count {
	return [...]*count{&c.prompt, &c.completion, &c.input, &c.output, &c.total, &c.cacheCreation, &c.cacheRead, &c.cached}
}

// merge takes the counts o gives. Streamed counts are cumulative, so the
// larger count is the later one.
func (c *counts) merge(o *counts) {
	dst, src := c.fields(), o.fields()
	for i, s := range src {
		if s.set && (!dst[i].set || s.n > dst[i].n) {
			*dst[i] = *s
		}
	}
}

func (c *counts) usage() (Usage, bool) {
	var u Usage
	found := false
	for _, f := range c.fields() {
		found = found || f.set
	}
	if !found {
		return u, false
	}
	if c.input.set {
		u.Input = c.input.n
	} else {
		u.Input = c.prompt.n
	}
	if !c.prompt.set {
		// Anthropic's input_tokens leaves out the tokens written to or read
		// from the prompt cache, which are billed input too. (OpenAI-style
		// prompt_tokens already counts them.)
		u.Input += c.cacheCreation.n + c.cacheRead.n
	}
	if c.output.set {
		u.Output = c.output.n
	} else {
		u.Output = c.completion.n
	}
	if c.total.set {
		u.Total = c.total.n
	} else {
		u.Total = u.Input + u.Output
	}
	u.CacheWrite = c.cacheCreation.n
	u.CacheRead = max(c.cacheRead.n, c.cached.n)
	return u, true
}

// usageObj decodes a usage object. It never fails: a usage that is not an
// object, or has a count that is not a non-negative number, is left unset.
type usageObj struct {
	c  counts
	ok bool // an object with at least one count, all of them valid
}

// countNames are the keys of a usage object's counts, in the order of
// counts.fields.
var countNames = [...]string{"prompt_tokens", "completion_tokens", "input_tokens", "output_tokens",
	"total_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "cached_tokens"}

// detailNames are the objects of a usage object that hold cached_tokens.
var detailNames = [...]string{"prompt_tokens_details", "input_tokens_details"}

// UnmarshalJSON reads the counts the way encoding/json would decode them
// into fields tagged with countNames (keys matched case-insensitively, the
// last of repeated keys wins), without reflection.
func (o *usageObj) UnmarshalJSON(b []byte) error {
	*o = usageObj{}
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	var fs [len(countNames)]struct {
		count
		bad bool
	}
	cachedAt := len(countNames) - 1
	wellFormed := eachMember(b, func(name, value []byte) {
		for _, d := range detailNames {
			if keyIs(name, d) {
				// only cached_tokens is read from a details object; a bad
				// one is ignored, not a reason to drop the whole usage
				eachMember(value, func(name, value []byte) {
					if keyIs(name, countNames[cachedAt]) {
						fs[cachedAt].n, fs[cachedAt].set = parseCount(value)
					}
				})
				return
			}
		}
		for i, want := range countNames[:cachedAt] {
			if !keyIs(name, want) {
				continue
			}
			fs[i].count, fs[i].bad = count{}, false
			if string(value) != "null" {
				fs[i].n, fs[i].set = parseCount(value)
				fs[i].bad = !fs[i].set
			}
			return
		}
	})
	if !wellFormed {
		return nil
	}
	dst := o.c.fields()
	for i := range fs {
		if fs[i].bad {
			*o = usageObj{}
			return nil
		}
		*dst[i] = fs[i].count
		o.ok = o.ok || fs[i].set
	}
	return nil
}

// parseCount parses a JSON number that must be a whole number in
// [0, maxCount].
func parseCount(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return parseFloatCount(b)
		}
		n = n*10 + int64(c-'0')
		if n > maxCount {
			return 0, false
		}
	}
	return n, true
}

// parseFloatCount parses counts such as 12.0 or 1e3.
func parseFloatCount(b []byte) (int64, bool) {
	if b[0] == '"' {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil || v < 0 || v > maxCount || v != math.Trunc(v) {
		return 0, false
	}
	return int64(v), true
}

// usageHolder decodes an object holding a usage object (an Anthropic
// message, an OpenAI response). It never fails.
type usageHolder struct {
	Usage usageObj
}

func (h *usageHolder) UnmarshalJSON(b []byte) error {
	*h = usageHolder{}
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	var inner struct {
		Usage usageObj `json:"usage"`
	}
	if json.Unmarshal(b, &inner) == nil {
		h.Usage = inner.Usage
	}
	return nil
}
