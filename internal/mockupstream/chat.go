package mockupstream

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// chatRequest is the part of an OpenAI chat request the mock reads.
// stream_options is ignored: streams always end with a usage chunk.
type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string  `json:"role"`
		Content content `json:"content"`
	} `json:"messages"`
	Stream bool `json:"stream"`
}

// chatCompletion is a chat.completion answer or a chat.completion.chunk.
type chatCompletion struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []chatChoice `json:"choices"`
	Usage   *usage       `json:"usage,omitempty"`
}

// chatChoice is a choice of a completion (Message) or of a chunk (Delta).
type chatChoice struct {
	Index        int          `json:"index"`
	Message      *chatMessage `json:"message,omitempty"`
	Delta        *chatMessage `json:"delta,omitempty"`
	FinishReason *string      `json:"finish_reason"`
}

// chatMessage is an answer message or a chunk's delta.
type chatMessage struct {
	Role    string `json:"role,omitempty"`
	Content string `json:"content,omitempty"`
}

// stop is the finish reason of every answer.
var stop = "stop"

// chat answers POST /v1/chat/completions with "Mock answer to: " plus the
// text of the last user message, as JSON or, when asked, as an SSE stream.
func (s *Server) chat(ex *exchange) {
	var req chatRequest
	if !ex.decode(&req) {
		return
	}
	if len(req.Messages) == 0 {
		ex.invalid("messages is required")
		return
	}
	texts := make([]string, len(req.Messages))
	last := ""
	for i, m := range req.Messages {
		texts[i] = string(m.Content)
		if m.Role == "user" {
			last = texts[i]
		}
	}
	answer := answerPrefix + last
	base := chatCompletion{
		ID:      fmt.Sprintf("chatcmpl-mock-%d", s.next()),
		Created: time.Now().Unix(),
		Model:   cmp.Or(req.Model, defaultModel),
	}
	u := newUsage(countWords(texts...), countWords(answer))

	if req.Stream {
		ex.stream(chatChunks(base, answer, u))
		return
	}
	base.Object = "chat.completion"
	base.Choices = []chatChoice{{
		Message:      &chatMessage{Role: "assistant", Content: answer},
		FinishReason: &stop,
	}}
	base.Usage = u
	ex.json(http.StatusOK, base)
}

// chatChunks returns the SSE event payloads of a streamed answer: one
// chunk per word, a finish chunk, a usage chunk and [DONE].
func chatChunks(base chatCompletion, answer string, u *usage) [][]byte {
	base.Object = "chat.completion.chunk"
	var events [][]byte
	add := func(c chatCompletion) {
		b, _ := json.Marshal(c) // cannot fail: plain structs
		events = append(events, b)
	}
	for i, word := range splitWords(answer) {
		delta := &chatMessage{Content: word}
		if i == 0 {
			delta.Role = "assistant"
		}
		c := base
		c.Choices = []chatChoice{{Delta: delta}}
		add(c)
	}
	c := base
	c.Choices = []chatChoice{{Delta: &chatMessage{}, FinishReason: &stop}}
	add(c)
	c.Choices = []chatChoice{}
	c.Usage = u
	add(c)
	return append(events, []byte("[DONE]"))
}
