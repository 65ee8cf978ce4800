package cache

import (
	"bytes"
	"mime"
	"net/http"
)

// IsEventStream reports whether a Content-Type is Server-Sent Events.
func IsEventStream(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "text/event-stream"
}

// Events splits a recorded event stream into its events, each with the
// blank line that ends it. A trailing incomplete event is returned too, so
// replay never loses bytes.
func Events(stream []byte) [][]byte {
	var events [][]byte
	for len(stream) > 0 {
		end, sepLen := eventEnd(stream)
		if end < 0 {
			events = append(events, stream)
			break
		}
		events = append(events, stream[:end+sepLen])
		stream = stream[end+sepLen:]
	}
	return events
}

// eventEnd finds the first blank line, accepting the LF, CRLF and CR line
// endings the SSE specification allows.
func eventEnd(b []byte) (int, int) {
	for i := 0; i < len(b); i++ {
		switch {
		case bytes.HasPrefix(b[i:], []byte("\r\n\r\n")):
			return i, 4
		case bytes.HasPrefix(b[i:], []byte("\n\n")), bytes.HasPrefix(b[i:], []byte("\r\r")):
			return i, 2
		}
	}
	return -1, 0
}

// Replay writes a stored entry's body to w. A stream is written event by
// event, flushing after each, so an SSE client sees the same events it
// would have seen from the upstream.
func Replay(w http.ResponseWriter, e *Entry) error {
	if !e.Stream {
		_, err := w.Write(e.Body)
		return err
	}
	rc := http.NewResponseController(w)
	for _, ev := range Events(e.Body) {
		if _, err := w.Write(ev); err != nil {
			return err
		}
		if err := rc.Flush(); err != nil {
			return err
		}
	}
	return nil
}
