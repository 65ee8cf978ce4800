package llm

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Why an answer fails its checks: the reason label of rag_fallback's
// metrics, a fixed set.
const (
	FailEmpty       = "empty"         // the fail_on_empty field is missing or empty
	FailInvalidJSON = "invalid_json"  // the request asked for JSON and the answer's text is not (or not of its schema)
	FailTruncated   = "finish_length" // the answer was cut at its token limit
	FailRefusal     = "refusal"       // the model refused
)

// AnswerChecks are what a 2xx answer must pass besides its status. The
// zero value checks nothing.
type AnswerChecks struct {
	Empty       Path // this JSON field must not be missing, null or empty; nil: not checked
	InvalidJSON bool // an answer to a request for JSON must be JSON of the requested schema
	Truncated   bool // an answer cut at its token limit fails
	Refusal     bool // a refusal fails
}

// Any reports whether any check is on.
func (c AnswerChecks) Any() bool { return c.Empty != nil || c.InvalidJSON || c.Truncated || c.Refusal }

// OnStreams reports whether any check applies to streamed answers: all
// but Empty, which reads a JSON body's field.
func (c AnswerChecks) OnStreams() bool { return c.InvalidJSON || c.Truncated || c.Refusal }

// Answer is what the checks read of an answer, JSON or streamed: the text
// of each choice, and whether it was cut short or refused.
type Answer struct {
	Texts     []string // the text of each choice (OpenAI), or of the message (Responses, Anthropic)
	Truncated bool     // finish_reason length, stop_reason max_tokens, status incomplete for max_output_tokens
	Refused   bool     // an OpenAI refusal, a Responses refusal part, Anthropic stop_reason refusal
	Overflow  bool     // a stream's text was longer than the judge keeps: its JSON cannot be judged
}

// JudgeJSON returns why a whole JSON answer body fails the checks, or ""
// if it passes. format is what the request asked for (RequestedFormat;
// nil: no JSON was asked for). A body that is not JSON fails nothing (as
// EmptyAt): it is not this kind of answer.
func (c AnswerChecks) JudgeJSON(body []byte, format *Format) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return ""
	}
	if c.Empty != nil && emptyAt(v, c.Empty) {
		return FailEmpty
	}
	if !c.OnStreams() {
		return ""
	}
	return c.Judge(AnswerOf(v), format)
}

// Judge returns why an answer fails the checks (all but Empty), or "".
func (c AnswerChecks) Judge(a Answer, format *Format) string {
	switch {
	case c.Refusal && a.Refused:
		return FailRefusal
	case c.Truncated && a.Truncated:
		return FailTruncated
	case c.InvalidJSON && format != nil && !a.Overflow:
		for _, t := range a.Texts {
			if !format.Valid(t) {
				return FailInvalidJSON
			}
		}
	}
	return ""
}

// AnswerOf reads an answer from a decoded JSON body of any of the APIs:
// OpenAI chat and legacy completions (choices), the Responses API
// (output), Anthropic messages (content and stop_reason).
func AnswerOf(v any) Answer {
	var a Answer
	obj, _ := v.(map[string]any)
	if choices, ok := obj["choices"].([]any); ok {
		for _, ch := range choices {
			ch, _ := ch.(map[string]any)
			if ch["finish_reason"] == "length" {
				a.Truncated = true
			}
			if msg, ok := ch["message"].(map[string]any); ok {
				if r, _ := msg["refusal"].(string); r != "" {
					a.Refused = true
				}
				s, _ := msg["content"].(string)
				a.Texts = append(a.Texts, s)
			} else if s, ok := ch["text"].(string); ok {
				a.Texts = append(a.Texts, s)
			}
		}
		return a
	}
	if output, ok := obj["output"].([]any); ok { // Responses API
		if obj["status"] == "incomplete" {
			a.Truncated = true
		}
		var text strings.Builder
		for _, item := range output {
			item, _ := item.(map[string]any)
			parts, _ := item["content"].([]any)
			for _, p := range parts {
				p, _ := p.(map[string]any)
				switch p["type"] {
				case "refusal":
					a.Refused = true
				case "output_text":
					s, _ := p["text"].(string)
					text.WriteString(s)
				}
			}
		}
		a.Texts = append(a.Texts, text.String())
		return a
	}
	if stop, ok := obj["stop_reason"].(string); ok || obj["type"] == "message" { // Anthropic
		a.Truncated = stop == "max_tokens"
		a.Refused = stop == "refusal"
		var text strings.Builder
		parts, _ := obj["content"].([]any)
		for _, p := range parts {
			p, _ := p.(map[string]any)
			if p["type"] == "text" {
				s, _ := p["text"].(string)
				text.WriteString(s)
			}
		}
		a.Texts = append(a.Texts, text.String())
	}
	return a
}
