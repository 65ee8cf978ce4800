package mockupstream

import (
	"cmp"
	"fmt"
	"net/http"
	"time"
)

// completionRequest is the part of a legacy completion request the mock
// reads; stream is ignored.
type completionRequest struct {
	Model  string     `json:"model"`
	Prompt stringList `json:"prompt"`
}

// textCompletion is a legacy text_completion answer.
type textCompletion struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []textChoice `json:"choices"`
	Usage   *usage       `json:"usage"`
}

// textChoice is one choice of a text_completion.
type textChoice struct {
	Index        int    `json:"index"`
	Text         string `json:"text"`
	FinishReason string `json:"finish_reason"`
}

// completion answers POST /v1/completions with one choice per prompt,
// "Mock answer to: " plus the prompt.
func (s *Server) completion(ex *exchange) {
	var req completionRequest
	if !ex.decode(&req) {
		return
	}
	if len(req.Prompt) == 0 {
		ex.invalid("prompt is required")
		return
	}
	choices := make([]textChoice, len(req.Prompt))
	completionTokens := 0
	for i, p := range req.Prompt {
		choices[i] = textChoice{Index: i, Text: answerPrefix + p, FinishReason: stop}
		completionTokens += countWords(choices[i].Text)
	}
	ex.json(http.StatusOK, textCompletion{
		ID:      fmt.Sprintf("cmpl-mock-%d", s.next()),
		Object:  "text_completion",
		Created: time.Now().Unix(),
		Model:   cmp.Or(req.Model, defaultModel),
		Choices: choices,
		Usage:   newUsage(countWords(req.Prompt...), completionTokens),
	})
}
