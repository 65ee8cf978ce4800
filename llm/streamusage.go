package llm

import (
	"bytes"
	"encoding/json"
)

// OpenAI chat completion streams report usage only when the request asks
// for it with stream_options.include_usage, and most clients do not ask.
// A token budget would then never see what such streams cost. A proxy can
// ask on the client's behalf (AskStreamUsage) and take the usage chunk
// back out of the stream the client reads (UsageChunkStripper), so the
// client gets the stream it asked for.

var (
	streamKey        = []byte(`"stream"`)
	streamOptionsKey = []byte(`"stream_options"`)
	includeUsageKey  = []byte(`"include_usage"`)
	choicesKey       = []byte(`"choices"`)
	includeUsageTrue = []byte(`"include_usage":true`)
)

// AskStreamUsage returns body with stream_options.include_usage set to
// true, when body is a JSON object that streams ("stream": true) without
// already asking for usage. Other members of stream_options are kept. It
// returns ok false, and nil, for anything else: not valid JSON (left for
// the upstream to refuse as the client sent it), not streaming, or
// include_usage already true.
func AskStreamUsage(body []byte) (asked []byte, ok bool) {
	if !bytes.Contains(body, streamKey) {
		return nil, false
	}
	var streaming bool
	var options []byte // the stream_options value, if any
	if !eachMember(body, func(name, value []byte) {
		switch {
		case bytes.Equal(name, streamKey):
			streaming = bytes.Equal(value, []byte("true"))
		case bytes.Equal(name, streamOptionsKey):
			options = value
		}
	}) || !streaming || !json.Valid(body) {
		return nil, false
	}
	if options == nil {
		// Insert the member first: the object has at least "stream" after it.
		open := bytes.IndexByte(body, '{') + 1
		asked = make([]byte, 0, len(body)+len(`"stream_options":{"include_usage":true},`))
		asked = append(asked, body[:open]...)
		asked = append(asked, `"stream_options":{`...)
		asked = append(asked, includeUsageTrue...)
		asked = append(asked, "},"...)
		return append(asked, body[open:]...), true
	}
	// Rebuild the stream_options object: its other members, then
	// include_usage (replacing any include_usage it had, which would
	// otherwise win as the later duplicate).
	merged := make([]byte, 0, len(options)+len(includeUsageTrue)+2)
	merged = append(merged, '{')
	if options[0] == '{' {
		already := false
		eachMember(options, func(name, value []byte) {
			if bytes.Equal(name, includeUsageKey) {
				already = bytes.Equal(value, []byte("true"))
				return
			}
			merged = append(merged, name...)
			merged = append(merged, ':')
			merged = append(merged, value...)
			merged = append(merged, ',')
		})
		if already {
			return nil, false
		}
	}
	merged = append(merged, includeUsageTrue...)
	merged = append(merged, '}')
	// options is a subslice of body: its offset follows from the capacities.
	start := cap(body) - cap(options)
	end := start + len(options)
	asked = make([]byte, 0, len(body)-len(options)+len(merged))
	asked = append(asked, body[:start]...)
	asked = append(asked, merged...)
	return append(asked, body[end:]...), true
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
