// Package validate checks LLM and RAG API requests before they cost
// anything: well-formed JSON, the fields and roles each API requires, a
// question that is not blank, and the operator's limits (messages,
// estimated prompt tokens, output cap, models, question length, denied
// patterns). It knows nothing of Caddy.
package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ragproxy/ragproxy/llm"
)

// Rules are the limits a request is checked against. The zero value
// checks only the shape of the request.
type Rules struct {
	MaxMessages       int              // most messages (or Responses input items); 0: no limit
	MaxPromptTokens   int64            // most estimated prompt tokens (body bytes / 4); 0: no limit
	MaxTokens         int64            // largest output cap a request may name; 0: no limit
	ClampMaxTokens    bool             // lower a larger cap to MaxTokens instead of refusing
	Models            []string         // models allowed (exact names); empty: any
	MaxQuestionLength int              // most characters in the question; 0: no limit
	Deny              []*regexp.Regexp // patterns the user's text must not match
	Field             string           // dotted path of a RAG body's question; "": query, question or q
}

// capFields are the members that cap an answer's tokens (llm.OutputCap reads the same).
var capFields = []string{"max_tokens", "max_completion_tokens", "max_output_tokens"}

// roles per API: what a message's role may be.
var (
	chatRoles      = []string{"system", "developer", "user", "assistant", "tool", "function"}
	messagesRoles  = []string{"user", "assistant"}
	responsesRoles = []string{"system", "developer", "user", "assistant"}
)

// Check validates a request body sent to path (its API is llm.APIOf's).
// It returns the body to send on — body itself, or a rewrite when an
// output cap was clamped — or why the request is refused.
func (r *Rules) Check(path string, body []byte) ([]byte, *Refusal) {
	api := llm.APIOf(path)
	v, err := decodeStrict(body)
	switch {
	case errors.Is(err, errDuplicate):
		return nil, refuse(DuplicateKey, "the request body has a key twice in one object")
	case errors.Is(err, errTooDeep):
		return nil, refuse(InvalidJSON, fmt.Sprintf("the request body is nested deeper than %d levels", maxDepth))
	case err != nil:
		return nil, refuse(InvalidJSON, "the request body is not well-formed JSON")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, refuse(InvalidJSON, "the request body must be a JSON object")
	}
	if ref := r.checkShape(api, obj); ref != nil {
		return nil, ref
	}
	if r.MaxPromptTokens > 0 {
		if est := llm.EstimateTokens(len(body)); est > r.MaxPromptTokens {
			return nil, refuse(PromptTooLong, fmt.Sprintf("the prompt is about %d tokens, over the limit of %d", est, r.MaxPromptTokens))
		}
	}
	if ref := r.checkModel(api, obj); ref != nil {
		return nil, ref
	}
	clamped, ref := r.checkCap(obj)
	if ref != nil {
		return nil, ref
	}
	if clamped {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if enc.Encode(obj) != nil {
			return nil, refuse(InvalidJSON, "the request body could not be re-encoded")
		}
		body = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	if ref := r.checkText(api, obj); ref != nil {
		return nil, ref
	}
	return body, nil
}

// checkShape checks the fields and roles the API requires.
func (r *Rules) checkShape(api llm.API, obj map[string]any) *Refusal {
	switch api {
	case llm.Chat, llm.Messages:
		if ref := needModel(obj); ref != nil {
			return ref
		}
		msgs, ok := obj["messages"].([]any)
		if !ok {
			return missingOrInvalid(obj, "messages", "an array of messages")
		}
		if len(msgs) == 0 {
			return refuse(InvalidField, "messages must not be empty")
		}
		roles := chatRoles
		if api == llm.Messages {
			roles = messagesRoles
			if ref := needCount(obj, "max_tokens"); ref != nil {
				return ref
			}
		}
		if ref := r.checkCount(len(msgs)); ref != nil {
			return ref
		}
		for i, m := range msgs {
			msg, ok := m.(map[string]any)
			if !ok {
				return refuse(InvalidField, fmt.Sprintf("messages[%d] must be an object", i))
			}
			role, ok := msg["role"].(string)
			if !ok {
				return refuse(MissingField, fmt.Sprintf("messages[%d] has no role", i))
			}
			if !slices.Contains(roles, role) {
				return refuse(InvalidRole, fmt.Sprintf("messages[%d] has role %q; this API takes %s", i, clip(role), strings.Join(roles, ", ")))
			}
		}
	case llm.Completions:
		if ref := needModel(obj); ref != nil {
			return ref
		}
		if _, ok := obj["prompt"]; !ok {
			return refuse(MissingField, "prompt is required")
		}
	case llm.Responses:
		if ref := needModel(obj); ref != nil {
			return ref
		}
		switch in := obj["input"].(type) {
		case string:
		case []any:
			if ref := r.checkCount(len(in)); ref != nil {
				return ref
			}
			for i, it := range in {
				item, ok := it.(map[string]any)
				if !ok {
					return refuse(InvalidField, fmt.Sprintf("input[%d] must be an object", i))
				}
				role, has := item["role"]
				if !has {
					continue // a tool call, tool output or reasoning item
				}
				if s, ok := role.(string); !ok || !slices.Contains(responsesRoles, s) {
					return refuse(InvalidRole, fmt.Sprintf("input[%d] has a role this API does not have; it takes %s", i, strings.Join(responsesRoles, ", ")))
				}
			}
		case nil:
			if _, ok := obj["previous_response_id"]; !ok {
				return missingOrInvalid(obj, "input", "a string or an array of items")
			}
		default:
			return refuse(InvalidField, "input must be a string or an array of items")
		}
	case llm.RAG:
		if r.Field != "" {
			if _, ok := llm.ParsePath(r.Field).Get(obj); !ok {
				return refuse(MissingField, r.Field+" is required")
			}
			return nil
		}
		for _, f := range []string{"query", "question", "q"} {
			if _, ok := obj[f]; ok {
				return nil
			}
		}
		return refuse(MissingField, "one of query, question or q is required")
	}
	return nil
}

func (r *Rules) checkCount(n int) *Refusal {
	if r.MaxMessages > 0 && n > r.MaxMessages {
		return refuse(TooManyMessages, fmt.Sprintf("%d messages, over the limit of %d", n, r.MaxMessages))
	}
	return nil
}

func needModel(obj map[string]any) *Refusal {
	if s, ok := obj["model"].(string); !ok || s == "" {
		return missingOrInvalid(obj, "model", "a non-empty string")
	}
	return nil
}

func needCount(obj map[string]any, field string) *Refusal {
	if _, ok := count(obj[field]); !ok {
		return missingOrInvalid(obj, field, "a whole number")
	}
	return nil
}

func missingOrInvalid(obj map[string]any, field, want string) *Refusal {
	if v, ok := obj[field]; !ok || v == nil {
		return refuse(MissingField, field+" is required")
	}
	return refuse(InvalidField, field+" must be "+want)
}

// count reads a non-negative whole number.
func count(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	if err != nil || i < 0 {
		return 0, false
	}
	return i, true
}

// checkModel enforces the allowed models. A RAG body need not name one;
// if it does, it must be allowed too.
func (r *Rules) checkModel(api llm.API, obj map[string]any) *Refusal {
	if len(r.Models) == 0 {
		return nil
	}
	m, has := obj["model"]
	if !has && api == llm.RAG {
		return nil
	}
	if s, ok := m.(string); !ok || !slices.Contains(r.Models, s) {
		return refuse(ModelNotAllowed, "this model is not allowed here; allowed: "+strings.Join(r.Models, ", "))
	}
	return nil
}

// checkCap enforces MaxTokens on every output cap the body names (keys
// matched without regard to case, as the rate limiter reads them), and
// reports whether it lowered one.
func (r *Rules) checkCap(obj map[string]any) (clamped bool, _ *Refusal) {
	for key, v := range obj {
		if !slices.ContainsFunc(capFields, func(f string) bool { return strings.EqualFold(f, key) }) || v == nil {
			continue
		}
		n, ok := count(v)
		if !ok {
			return false, refuse(InvalidField, key+" must be a whole number")
		}
		if r.MaxTokens <= 0 || n <= r.MaxTokens {
			continue
		}
		if !r.ClampMaxTokens {
			return false, refuse(MaxTokensTooLarge, fmt.Sprintf("%s is %d, over the limit of %d", key, n, r.MaxTokens))
		}
		obj[key] = json.Number(fmt.Sprint(r.MaxTokens))
		clamped = true
	}
	return clamped, nil
}

// checkText checks the question (not blank, not too long) and every text
// the user wrote against the deny patterns. It takes the question out of
// obj (llm.TakeQuery), so it runs last.
func (r *Rules) checkText(api llm.API, obj map[string]any) *Refusal {
	if api == llm.NoQuestion {
		return nil
	}
	if len(r.Deny) > 0 {
		for _, t := range userTexts(api, obj, r.Field) {
			for _, re := range r.Deny {
				if re.MatchString(t) {
					return refuse(ContentDenied, "the request's text is not allowed here")
				}
			}
		}
	}
	if blankQuestion(api, obj, r.Field) {
		return refuse(EmptyQuestion, "the question is empty")
	}
	q, ok := llm.TakeQuery("/"+apiPath[api], obj, r.Field)
	if ok && r.MaxQuestionLength > 0 && utf8.RuneCountInString(q) > r.MaxQuestionLength {
		return refuse(QuestionTooLong, fmt.Sprintf("the question is %d characters, over the limit of %d", utf8.RuneCountInString(q), r.MaxQuestionLength))
	}
	return nil
}

// apiPath is a path of each API, for llm functions that take a path.
var apiPath = map[llm.API]string{
	llm.Chat: "chat/completions", llm.Completions: "completions", llm.Responses: "responses",
	llm.Messages: "messages", llm.RAG: "query",
}

// blankQuestion reports a question that is there but blank: the last
// message is the user's and says nothing, or the prompt, input or query
// is a blank string.
func blankQuestion(api llm.API, obj map[string]any, field string) bool {
	var v any
	switch {
	case api == llm.RAG && field != "":
		v, _ = llm.ParsePath(field).Get(obj)
	case api == llm.RAG:
		for _, f := range []string{"query", "question", "q"} {
			if x, ok := obj[f]; ok {
				v = x
				break
			}
		}
	case api == llm.Completions:
		v = obj["prompt"]
	case api == llm.Responses:
		if s, ok := obj["input"].(string); ok {
			v = s
		} else if items, ok := obj["input"].([]any); ok {
			return lastUserBlank(items)
		}
	default: // Chat, Messages
		items, _ := obj["messages"].([]any)
		return lastUserBlank(items)
	}
	s, ok := v.(string)
	return ok && strings.TrimSpace(s) == ""
}

func lastUserBlank(items []any) bool {
	if len(items) == 0 {
		return false
	}
	msg, ok := items[len(items)-1].(map[string]any)
	if !ok || msg["role"] != "user" {
		return false
	}
	var texts []string
	if !messageTexts(msg["content"], &texts) {
		return false // an image or a file says something
	}
	return strings.TrimSpace(strings.Join(texts, "")) == ""
}

// userTexts gathers every text the user wrote: every user message (or
// Responses input), the prompt, the query. Deny patterns are matched
// against all of them, not the last question alone, so a denied text
// cannot hide in an earlier turn or a prompt array.
func userTexts(api llm.API, obj map[string]any, field string) []string {
	var out []string
	switch api {
	case llm.Chat, llm.Messages:
		msgs, _ := obj["messages"].([]any)
		userMessages(msgs, &out)
	case llm.Responses:
		switch in := obj["input"].(type) {
		case string:
			out = append(out, in)
		case []any:
			userMessages(in, &out)
		}
	case llm.Completions:
		strs(obj["prompt"], &out)
	case llm.RAG:
		if field != "" {
			v, _ := llm.ParsePath(field).Get(obj)
			strs(v, &out)
			break
		}
		for _, f := range []string{"query", "question", "q"} {
			strs(obj[f], &out)
		}
	}
	return out
}

func userMessages(items []any, out *[]string) {
	for _, it := range items {
		msg, ok := it.(map[string]any)
		if ok && msg["role"] == "user" {
			messageTexts(msg["content"], out)
		}
	}
}

// messageTexts appends a message content's texts (a string, or the text
// of its parts), and reports whether it holds text only.
func messageTexts(content any, out *[]string) bool {
	switch c := content.(type) {
	case string:
		*out = append(*out, c)
		return true
	case []any:
		textOnly := true
		for _, p := range c {
			part, ok := p.(map[string]any)
			if !ok {
				textOnly = false
				continue
			}
			if t, ok := part["text"].(string); ok {
				*out = append(*out, t)
			} else {
				textOnly = false
			}
			if inner, ok := part["content"]; ok { // Anthropic tool_result blocks
				messageTexts(inner, out)
			}
		}
		return textOnly
	}
	return false
}

// strs appends v if it is a string, or its strings if it is an array.
func strs(v any, out *[]string) {
	switch v := v.(type) {
	case string:
		*out = append(*out, v)
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				*out = append(*out, s)
			}
		}
	}
}

// clip shortens a client's value quoted back in a message.
func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
