// Package llm knows what LLM and RAG API requests look like: where the
// question is in an OpenAI chat or completions request, an Anthropic
// messages request or a RAG search body. It knows nothing of Caddy.
package llm

import "strings"

// API is the kind of request a path names, as far as finding its
// question goes.
type API int

// The APIs TakeQuery knows.
const (
	// NoQuestion: an API whose answer belongs to its exact input
	// (embeddings, moderations, files, audio, images, uploads, batches,
	// threads): never matched by meaning.
	NoQuestion  API = iota
	Chat            // OpenAI …/chat/completions: the last message, from the user
	Completions     // OpenAI legacy …/completions: prompt
	Responses       // OpenAI …/responses: input, a string or items ending with the user's message
	Messages        // Anthropic …/messages: the last message, from the user
	RAG             // any other path: a RAG or search body's query, question or q
)

// noQuestionSegments are path segments of APIs whose answer is a function
// of their exact input: another text's embedding, moderation verdict,
// transcription or image is a wrong answer however close the texts are.
var noQuestionSegments = []string{
	"embeddings", "embedding", "embed", "moderations", "files", "audio",
	"images", "uploads", "batches", "threads",
}

// APIOf tells what kind of request a URL path (a query string after "?"
// is ignored) is. A path with any segment naming an exact-input API
// (…/embeddings, …/moderations, …/files/…, …/audio/…, …/images/…) is
// NoQuestion wherever it sits; otherwise the last segments decide, and
// any other path is RAG.
func APIOf(path string) API {
	path, _, _ = strings.Cut(path, "?")
	path = strings.TrimRight(path, "/")
	var last, prev string
	for rest := path; rest != ""; {
		var seg string
		seg, rest, _ = strings.Cut(rest, "/")
		if seg == "" {
			continue
		}
		for _, no := range noQuestionSegments {
			if strings.EqualFold(seg, no) {
				return NoQuestion
			}
		}
		prev, last = last, seg
	}
	switch {
	case strings.EqualFold(last, "completions") && strings.EqualFold(prev, "chat"):
		return Chat
	case strings.EqualFold(last, "completions"):
		return Completions
	case strings.EqualFold(last, "responses"):
		return Responses
	case strings.EqualFold(last, "messages"):
		return Messages
	}
	return RAG
}

// ragFields are the top-level string fields that hold the question of a
// RAG or search request, in the order they are looked for. `input` is not
// one: it is the text of embeddings, moderations and speech requests.
var ragFields = []string{"query", "question", "q"}

// TakeQuery finds the question in a decoded JSON request body sent to
// path, removes it (the field is set to ""), and returns it. What is left
// of the body is everything else about the request (model, system prompt,
// earlier turns, tools, sampling parameters…), which must match exactly
// for two requests to share an answer.
//
// Where the question is depends on the API the path names (see APIOf):
// the last message of `messages` if it comes from the user (OpenAI chat,
// Anthropic messages; string content or text parts), `prompt` (legacy
// completions), `input` (Responses API: a string, or items whose last is
// the user's message), or for any other path `query`, `question` or `q`.
// field, if not empty, is a dotted path to a string field to use instead,
// on any path but a NoQuestion one. A NoQuestion path never has a
// question, nor has a conversation whose last message is not the user's
// (a tool result, an assistant prefill): its answer depends on more than
// the question.
func TakeQuery(path string, body any, field string) (string, bool) {
	obj, ok := body.(map[string]any)
	if !ok {
		return "", false
	}
	api := APIOf(path)
	if api == NoQuestion {
		return "", false
	}
	if field != "" {
		at := ParsePath(field)
		if obj, ok = at.Parent(obj); !ok {
			return "", false
		}
		return takeString(obj, at.last())
	}
	switch api {
	case Chat, Messages:
		if msgs, ok := obj["messages"].([]any); ok {
			return takeLastUserMessage(msgs)
		}
	case Completions:
		return takeString(obj, "prompt")
	case Responses:
		if items, ok := obj["input"].([]any); ok {
			return takeLastUserMessage(items)
		}
		return takeString(obj, "input")
	case RAG:
		for _, f := range ragFields {
			if q, ok := takeString(obj, f); ok {
				return q, true
			}
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
	if typ, ok := msg["type"]; ok && typ != "message" { // a Responses API item that is not a message
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
			if p["type"] != "text" && p["type"] != "input_text" {
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
