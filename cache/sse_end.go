package cache

import (
	"bytes"
	"encoding/json"
)

// StreamEnd judges a recorded Server-Sent Events answer before it is
// stored: a stream is replayed to every caller of the scope for the ttl, so
// it must be complete and free of errors. It returns Storable only for a
// stream whose last event is its API's terminal event — OpenAI's
// `data: [DONE]`, Anthropic's `message_stop`, the Responses API's
// `response.completed` — and that carried no error event: an `error`,
// `response.failed` or `response.incomplete` event (by its `event:` name or
// its data's top-level "type"), or a data JSON object with a top-level
// "error" member. A stream of any other API, which has no terminal event
// ragproxy knows, is not stored (SkipStreamEnd). Only complete events
// count: one cut before its blank line was never dispatched.
func StreamEnd(stream []byte) SkipReason {
	terminal := false
	var data []byte
	for len(stream) > 0 {
		end, sepLen := eventEnd(stream)
		if end < 0 {
			break // an incomplete event is not an event
		}
		event := stream[:end]
		stream = stream[end+sepLen:]
		name, d, dispatched := parseEvent(event, data[:0])
		data = d
		if !dispatched {
			continue // comments, keep-alives
		}
		kind := eventKind(name, data)
		if kind == kindError {
			return SkipStreamErr
		}
		terminal = kind == kindTerminal
	}
	if !terminal {
		return SkipStreamEnd
	}
	return Storable
}

const (
	kindOther = iota
	kindTerminal
	kindError
)

func eventKind(name, data []byte) int {
	switch string(name) {
	case "error", "response.failed", "response.incomplete":
		return kindError
	}
	if bytes.Equal(bytes.TrimSpace(data), []byte("[DONE]")) {
		return kindTerminal
	}
	typ, hasError := topLevelTypeAndError(data)
	switch {
	case hasError:
		return kindError
	case typ == "error" || typ == "response.failed" || typ == "response.incomplete":
		return kindError
	case typ == "message_stop" || typ == "response.completed":
		return kindTerminal
	case typ == "" && (string(name) == "message_stop" || string(name) == "response.completed"):
		return kindTerminal
	}
	return kindOther
}

// parseEvent reads one event's lines (any of the line endings SSE allows):
// its event name and its data lines joined by "\n", appended to data. An
// event with neither data nor name is not dispatched.
func parseEvent(event, data []byte) (name, out []byte, dispatched bool) {
	hasData := false
	for len(event) > 0 {
		i := bytes.IndexAny(event, "\r\n")
		line := event
		if i >= 0 {
			line = event[:i]
			if event[i] == '\r' && i+1 < len(event) && event[i+1] == '\n' {
				i++
			}
			event = event[i+1:]
		} else {
			event = nil
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "event":
			name = value
		case "data":
			if hasData {
				data = append(data, '\n')
			}
			data = append(data, value...)
			hasData = true
		}
	}
	return name, data, hasData || len(name) > 0
}

// topLevelTypeAndError reads a data payload that is a JSON object: its
// top-level "type" string and whether it has a top-level "error" member.
// Anything else gives "", false.
func topLevelTypeAndError(data []byte) (typ string, hasError bool) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' ||
		!bytes.Contains(data, []byte(`"error"`)) && !bytes.Contains(data, []byte(`"type"`)) {
		return "", false // most OpenAI chunks: no need to decode them
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(data, &members) != nil {
		return "", false
	}
	_, hasError = members["error"]
	if raw, ok := members["type"]; ok {
		_ = json.Unmarshal(raw, &typ)
	}
	return typ, hasError
}
