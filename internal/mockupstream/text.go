package mockupstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"unicode"
)

// answerPrefix starts every generated answer.
const answerPrefix = "Mock answer to: "

// defaultModel is the model reported when a request names none.
const defaultModel = "mock-model"

// content is a chat message's content: a JSON string, null, or an array of
// content parts whose "text" parts are kept, joined by a space.
type content string

// UnmarshalJSON implements [json.Unmarshaler].
func (c *content) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*c = content(s)
		return nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(b, &parts); err != nil {
		return errors.New("content must be a string or an array of content parts")
	}
	var texts []string
	for _, p := range parts {
		if p.Type == "text" {
			texts = append(texts, p.Text)
		}
	}
	*c = content(strings.Join(texts, " "))
	return nil
}

// stringList is a JSON string or array of strings, like OpenAI's prompt and
// input fields. null leaves it nil.
type stringList []string

// UnmarshalJSON implements [json.Unmarshaler].
func (l *stringList) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = stringList{s}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return errors.New("must be a string or an array of strings")
	}
	*l = list
	return nil
}

// countWords returns the number of whitespace-separated words in texts,
// the mock's notion of tokens.
func countWords(texts ...string) int {
	n := 0
	for _, t := range texts {
		n += len(strings.Fields(t))
	}
	return n
}

// splitWords splits s into one piece per word, each carrying the whitespace
// that follows it (the first also carries any leading whitespace), so the
// pieces concatenate back to s exactly.
func splitWords(s string) []string {
	var pieces []string
	for s != "" {
		rest := strings.TrimLeftFunc(s, unicode.IsSpace)
		rest = strings.TrimLeftFunc(rest, isWordRune)
		rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
		pieces = append(pieces, s[:len(s)-len(rest)])
		s = rest
	}
	return pieces
}

// isWordRune reports whether r belongs to a word.
func isWordRune(r rune) bool { return !unicode.IsSpace(r) }

// usage is an OpenAI token usage block.
type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// newUsage returns the usage for the given token counts.
func newUsage(prompt, completion int) *usage {
	return &usage{prompt, completion, prompt + completion}
}
