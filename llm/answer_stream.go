package llm

import (
	"bytes"
	"encoding/json"
	"strings"
)

// maxJudgedText bounds the text a StreamJudge keeps per choice to check
// its JSON; a longer answer's JSON is not judged (Answer.Overflow).
const maxJudgedText = 1 << 20

// maxChoicesJudged bounds the choices a StreamJudge follows.
const maxChoicesJudged = 16

// StreamJudge reads a server-sent-events answer as it passes and gathers
// what AnswerChecks judge at its end: each choice's text, whether it was
// cut at its token limit, whether the model refused. It knows OpenAI chat
// and completions chunks, Responses API events and Anthropic events. It
// never blocks or fails the stream, and keeps at most one line (1 MiB)
// and 1 MiB of text per choice (16 choices).
type StreamJudge struct {
	line  []byte
	skip  bool // inside a line longer than maxSSELine
	texts []strings.Builder
	a     Answer
}

// Write reads more of the stream. It always returns len(p), nil.
func (j *StreamJudge) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			j.add(p)
			break
		}
		j.add(p[:i])
		if !j.skip {
			j.event(bytes.TrimSuffix(j.line, []byte("\r")))
		}
		j.line, j.skip = j.line[:0], false
		p = p[i+1:]
	}
	return n, nil
}

func (j *StreamJudge) add(p []byte) {
	if j.skip {
		return
	}
	if len(j.line)+len(p) > maxSSELine {
		j.line, j.skip = j.line[:0], true
		return
	}
	j.line = append(j.line, p...)
}

// streamEvent is the union of the events' fields the judge reads.
type streamEvent struct {
	Type    string `json:"type"`
	Choices []struct {
		Index        int     `json:"index"`
		Text         *string `json:"text"`
		FinishReason string  `json:"finish_reason"`
		Delta        struct {
			Content string `json:"content"`
			Refusal string `json:"refusal"`
		} `json:"delta"`
	} `json:"choices"`
	Delta json.RawMessage `json:"delta"` // Responses: a string; Anthropic: an object
	// Responses: response.completed / response.incomplete
	Response *struct {
		Status string `json:"status"`
	} `json:"response"`
}

func (j *StreamJudge) event(line []byte) {
	data, ok := bytes.CutPrefix(line, dataPrefix)
	if !ok {
		return
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return // [DONE], or not an event we read
	}
	var ev streamEvent
	if json.Unmarshal(data, &ev) != nil {
		return
	}
	for _, ch := range ev.Choices {
		if ch.FinishReason == "length" {
			j.a.Truncated = true
		}
		if ch.Delta.Refusal != "" {
			j.a.Refused = true
		}
		text := ch.Delta.Content
		if ch.Text != nil {
			text = *ch.Text
		}
		j.write(ch.Index, text)
	}
	switch ev.Type {
	case "response.output_text.delta":
		var s string
		if json.Unmarshal(ev.Delta, &s) == nil {
			j.write(0, s)
		}
	case "response.refusal.delta", "response.refusal.done":
		j.a.Refused = true
	case "response.incomplete":
		j.a.Truncated = true
	case "response.completed":
		if ev.Response != nil && ev.Response.Status == "incomplete" {
			j.a.Truncated = true
		}
	case "content_block_delta": // Anthropic
		var d struct{ Type, Text string }
		if json.Unmarshal(ev.Delta, &d) == nil && d.Type == "text_delta" {
			j.write(0, d.Text)
		}
	case "message_delta":
		var d struct {
			StopReason string `json:"stop_reason"`
		}
		if json.Unmarshal(ev.Delta, &d) == nil {
			j.a.Truncated = j.a.Truncated || d.StopReason == "max_tokens"
			j.a.Refused = j.a.Refused || d.StopReason == "refusal"
		}
	}
}

func (j *StreamJudge) write(index int, s string) {
	if index < 0 || index >= maxChoicesJudged {
		return
	}
	for len(j.texts) <= index {
		j.texts = append(j.texts, strings.Builder{})
	}
	if j.texts[index].Len()+len(s) > maxJudgedText {
		j.a.Overflow = true
		return
	}
	j.texts[index].WriteString(s)
}

// Answer returns what the stream said so far.
func (j *StreamJudge) Answer() Answer {
	a := j.a
	a.Texts = make([]string, len(j.texts))
	for i := range j.texts {
		a.Texts[i] = j.texts[i].String()
	}
	return a
}
