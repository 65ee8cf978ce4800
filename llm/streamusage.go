package llm

import (
	"bytes"
	"errors"
	"strconv"
)

// OpenAI chat completion streams report usage only when the request asks
// for it with stream_options.include_usage, and most clients do not ask.
// A token budget would then never see what such streams cost. A proxy can
// ask on the client's behalf (AskStreamUsage) and take the usage chunk
// back out of the stream the client reads (UsageChunkStripper), so the
// client gets the stream it asked for.

var (
	choicesKey       = []byte(`"choices"`)
	includeUsageTrue = []byte(`"include_usage":true`)
	streamOptionsKey = []byte(`"stream_options"`)
)

// AskStreamUsage returns body rewritten to ask for a streamed answer's
// usage, when body is a JSON object that streams and does not already
// ask for it unambiguously. ok is false, and asked nil, when body is not
// an object, does not stream, or already asks.
//
// Keys are matched as the most lenient backend would: escapes decoded
// ("str\u0065am") and case-insensitively (Go's encoding/json). The body
// streams if any "stream" member is truthy as Python backends coerce it:
// true, a non-zero number, a non-empty string, array or object. It asks
// already only if it has exactly one stream_options member, spelled
// plainly, holding exactly one include_usage member, spelled plainly,
// whose value is true.
//
// The rewrite keeps every other top-level member, in order and byte for
// byte, and puts first exactly one "stream_options" member: the members
// of the last stream_options object (what a last-key-wins parser saw),
// less every include_usage, then "include_usage":true. Whichever of
// repeated keys a backend takes, it sees include_usage true.
func AskStreamUsage(body []byte) (asked []byte, ok bool) {
	var (
		streaming bool
		nOptions  int
		options   []byte // the last stream_options value
		plain     bool   // that member's key is spelled "stream_options"
		others    int    // bytes of the other members
	)
	if !eachMember(body, func(name, value []byte) {
		switch {
		case keyIs(name, "stream_options"):
			nOptions++
			options, plain = value, bytes.Equal(name, streamOptionsKey)
			return
		case keyIs(name, "stream"):
			streaming = streaming || truthy(value)
		}
		others += len(name) + len(value) + 2
	}) || !streaming {
		return nil, false
	}
	if nOptions == 1 && plain && asksUsage(options) {
		return nil, false
	}
	asked = make([]byte, 0, others+len(options)+len(`{"stream_options":{"include_usage":true}}`))
	asked = append(asked, '{')
	asked = append(asked, streamOptionsKey...)
	asked = append(asked, ':', '{')
	if len(options) > 0 && options[0] == '{' {
		eachMember(options, func(name, value []byte) {
			if keyIs(name, "include_usage") {
				return
			}
			asked = append(asked, name...)
			asked = append(asked, ':')
			asked = append(asked, value...)
			asked = append(asked, ',')
		})
	}
	asked = append(asked, includeUsageTrue...)
	asked = append(asked, '}')
	eachMember(body, func(name, value []byte) {
		if keyIs(name, "stream_options") {
			return
		}
		asked = append(asked, ',')
		asked = append(asked, name...)
		asked = append(asked, ':')
		asked = append(asked, value...)
	})
	return append(asked, '}'), true
}

// asksUsage reports whether a stream_options value is an object with
// exactly one include_usage member, spelled plainly, set to true.
func asksUsage(options []byte) bool {
	n, yes := 0, false
	if !eachMember(options, func(name, value []byte) {
		if keyIs(name, "include_usage") {
			n++
			yes = bytes.Equal(name, []byte(`"include_usage"`)) && bytes.Equal(value, []byte("true"))
		}
	}) {
		return false
	}
	return n == 1 && yes
}

// truthy reports whether a JSON value is true as Python coerces it (bool()
// of the decoded value): anything but false, null, zero and empty strings,
// arrays and objects. Malformed values count as true.
func truthy(v []byte) bool {
	switch v[0] {
	case 'f', 'n':
		return !bytes.Equal(v, []byte("false")) && !bytes.Equal(v, []byte("null"))
	case 't':
		return true
	case '"':
		return len(v) > 2
	case '[', '{':
		return len(bytes.TrimSpace(v[1:len(v)-1])) > 0
	}
	f, err := strconv.ParseFloat(string(v), 64)
	return err != nil && !errors.Is(err, strconv.ErrRange) || f != 0
}

// UsageChunkStripper removes from a chat completion stream the chunks
// that carry only usage (an empty "choices" and a "usage" object), the
// ones stream_options.include_usage adds, with the blank line that ends
// each. Every other line passes unchanged. A line is held back until its
// end arrives; Rest returns what is held when the stream ends.
//
// A line longer than 1 MiB is not a usage chunk: it is passed on as it
// comes instead of being held, so memory stays bounded.
type UsageChunkStripper struct {
	out       []byte // what Strip returns, reused
	line      []byte // the start of a line whose end has not come yet
	dropBlank bool   // the last line was a dropped chunk: drop its terminator
	long      bool   // inside a line too long to hold: pass it through
}

// Strip returns the bytes of p the client should get, in a buffer that is
// valid until the next call.
func (s *UsageChunkStripper) Strip(p []byte) []byte {
	s.out = s.strip(s.out[:0], p)
	return s.out
}

// strip appends to out the bytes of p the client should get.
func (s *UsageChunkStripper) strip(out, p []byte) []byte {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if s.long {
			if i < 0 {
				return append(out, p...)
			}
			out = append(out, p[:i+1]...)
			s.long = false
			p = p[i+1:]
			continue
		}
		if i < 0 {
			if len(s.line)+len(p) > maxSSELine {
				out = append(append(out, s.line...), p...)
				s.line, s.long, s.dropBlank = s.line[:0], true, false
				return out
			}
			s.line = append(s.line, p...)
			return out
		}
		line := p[:i+1]
		if len(s.line) > 0 {
			s.line = append(s.line, line...)
			line = s.line
		}
		out = s.pass(out, line)
		s.line = s.line[:0]
		p = p[i+1:]
	}
	return out
}

// pass appends line (which ends in '\n') to out unless it is dropped.
func (s *UsageChunkStripper) pass(out, line []byte) []byte {
	content := bytes.TrimRight(line, "\r\n")
	if s.dropBlank {
		s.dropBlank = false
		if len(content) == 0 {
			return out
		}
	}
	if data, ok := bytes.CutPrefix(content, dataPrefix); ok && usageOnlyChunk(data) {
		s.dropBlank = true
		return out
	}
	return append(out, line...)
}

// Rest returns the start of a line the stream ended in the middle of.
func (s *UsageChunkStripper) Rest() []byte { return s.line }

// Reset readies s for a new stream, keeping its buffers unless they grew
// larger than 64 KiB.
func (s *UsageChunkStripper) Reset() {
	*s = UsageChunkStripper{out: reusable(s.out), line: reusable(s.line)}
}

// usageOnlyChunk reports whether data (an SSE data field) is a chat
// completion chunk with an empty "choices" array and a "usage" object.
func usageOnlyChunk(data []byte) bool {
	if !bytes.Contains(data, usageKey) {
		return false
	}
	var emptyChoices, usage bool
	if !eachMember(bytes.TrimSpace(data), func(name, value []byte) {
		switch {
		case bytes.Equal(name, choicesKey):
			emptyChoices = value[0] == '[' && len(bytes.TrimSpace(value[1:len(value)-1])) == 0
		case bytes.Equal(name, usageKey):
			usage = value[0] == '{'
		}
	}) {
		return false
	}
	return emptyChoices && usage
}
