// Package llm knows what LLM and RAG API requests look like: where the
// question is in an OpenAI chat or completions request, an Anthropic
// messages request or a RAG search body. It knows nothing of Caddy.
package llm

import "strings"

// queryFields are the top-level string fields that hold the question of a
// RAG or search request, in the order they are looked for.
var queryFields = []string{"query", "question", "q", "input"}

// TakeQuery finds the question in a decoded JSON request body, removes it
// (the field is set to ""), and returns it. What is left of the body is
// everything else about the request (model, system prompt, earlier turns,
// tools, sampling parameters…), which must match exactly for two requests
// to share an answer. field, if not empty, is a dotted path to a string
// field to use instead of looking for the question.
//
// The question is, in order: the last message of `messages` if it comes
// from the user (OpenAI chat, Anthropic messages; string content or text
// parts), `prompt` (completions), then `query`, `question`, `q`, `input`.
// A conversation whose last message is not the user's (a tool result, an
// assistant prefill) has no question: its answer depends on more than it.
func TakeQuery(body any, field string) (string, bool) {
	obj, ok := body.(map[string]any)
	if !ok {
		return "", false
	}
	if field != "" {
		path := strings.Split(field, ".")
		for _, seg := range path[:len(path)-1] {
			if obj, ok = obj[seg].(map[string]any); !ok {
				return "", false
			}
		}
		return takeString(obj, path[len(path)-1])
	}
	if msgs, ok := obj["messages"].([]any); ok {
		return takeLastUserMessage(msgs)
	}
	if q, ok := takeString(obj, "prompt"); ok {
		return q, true
	}
	for _, f := range queryFields {
		if q, ok := takeString(obj, f); ok {
			return q, true
		}
	}
	return "", false
}

func takeString(obj map[string]any, key string) (string, bool) {
	s, ok := obj[key].(string)
	if !ok || strings.TrimSpace(s) == "" {
		return "", false
	}
	obj[key] = ""
	return s, true
}

func takeLastUserMessage(msgs []any) (string, bool) {
	if len(msgs) == 0 {
		return "", false
	}
	msg, ok := msgs[len(msgs)-1].(map[string]any)
	if !ok || msg["role"] != "user" {
		return "", false
	}
	switch content := msg["content"].(type) {
	case string:
		return takeString(msg, "content")
	case []any:
		var texts []string
		for _, part := range content {
			p, ok := part.(map[string]any)
			if !ok {
				return "", false
			}
			if p["type"] != "text" {
				return "", false // an image or a file: not a question text alone can match
			}
			t, ok := p["text"].(string)
			if !ok {
				return "", false
			}
			texts = append(texts, t)
		}
		q := strings.Join(texts, "\n")
		if strings.TrimSpace(q) == "" {
			return "", false
		}
		msg["content"] = ""
		return q, true
	}
	return "", false
}
