package mockupstream

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// exchange is one request being answered: the request, its already-read
// body and its effective knobs. Every answer goes through its send, json,
// apiError or stream methods, which apply the "mid" drop knob.
type exchange struct {
	w    http.ResponseWriter
	r    *http.Request
	body []byte
	k    knobs
}

// send writes a complete answer; with the "mid" drop knob it writes only
// half of body, then cuts the connection.
func (ex *exchange) send(status int, contentType string, body []byte) {
	h := ex.w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	ex.w.WriteHeader(status)
	if ex.k.drop != DropMid {
		ex.w.Write(body)
		return
	}
	ex.w.Write(body[:len(body)/2])
	http.NewResponseController(ex.w).Flush()
	cut(ex.w)
}

// json writes v as a JSON answer.
func (ex *exchange) json(status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(ex.w, err.Error(), http.StatusInternalServerError)
		return
	}
	ex.send(status, "application/json", b)
}

// apiError writes an OpenAI-shaped error. code is a string, or nil for null.
func (ex *exchange) apiError(status int, typ string, code any, message string) {
	type body struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Code    any    `json:"code"`
	}
	ex.json(status, struct {
		Error body `json:"error"`
	}{body{message, typ, code}})
}

// invalid writes a 400 invalid_request_error.
func (ex *exchange) invalid(message string) {
	ex.apiError(http.StatusBadRequest, "invalid_request_error", nil, message)
}

// mockFailure writes the injected failure for the fail-status knob.
func (ex *exchange) mockFailure() {
	if ex.k.failStatus == http.StatusTooManyRequests || ex.k.failStatus == http.StatusServiceUnavailable {
		ex.w.Header().Set("Retry-After", "1")
	}
	ex.apiError(ex.k.failStatus, "server_error", "mock_failure", "mock failure")
}

// decode unmarshals the request body into v; on failure it answers 400
// and reports false.
func (ex *exchange) decode(v any) bool {
	if err := json.Unmarshal(ex.body, v); err != nil {
		ex.invalid("malformed JSON body: " + err.Error())
		return false
	}
	return true
}

// stream writes events as a server-sent event stream, one "data:" event
// each, flushed one by one and spaced by the stream-interval knob. With the
// "mid" drop knob it writes only half of the events, then cuts the
// connection.
func (ex *exchange) stream(events [][]byte) { ex.streamEvents(nil, events) }

// streamEvents is stream with an "event:" line naming each event, when
// names is not nil (Anthropic's streams name every event).
func (ex *exchange) streamEvents(names []string, events [][]byte) {
	h := ex.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	ex.w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(ex.w)
	if ex.k.drop == DropMid {
		events = events[:len(events)/2]
	}
	for i, ev := range events {
		if i > 0 && !pause(ex.r.Context(), ex.k.streamInterval) {
			return
		}
		msg := make([]byte, 0, len(ev)+40)
		if names != nil {
			msg = append(append(append(msg, "event: "...), names[i]...), '\n')
		}
		msg = append(append(append(msg, "data: "...), ev...), "\n\n"...)
		if _, err := ex.w.Write(msg); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
	if ex.k.drop == DropMid {
		cut(ex.w)
	}
}

// cut severs the client connection without finishing the answer: it
// hijacks and closes HTTP/1 connections and aborts the handler otherwise
// (HTTP/2 resets the stream). Anything written must be flushed before.
func cut(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}
