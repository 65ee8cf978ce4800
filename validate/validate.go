// Package validate checks LLM and RAG API requests before they cost
// anything: well-formed JSON, the fields and roles each API requires, a
// question that is not blank, and the operator's limits (messages,
// estimated prompt tokens, output cap, models, question length, denied
// patterns). It knows nothing of Caddy.
package validate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ragproxy/ragproxy/llm"
)

// Rules are the limits a request is checked against. The zero value
// checks only the shape of the request.
type Rules struct {
	MaxMessages       int            // most messages (or Responses input items); 0: no limit
	MaxPromptTokens   int64          // most estimated prompt tokens (body bytes / 4); 0: no limit
	MaxTokens         int64          // largest output cap a request may name; 0: no limit
	ClampMaxTokens    bool           // lower a larger cap to MaxTokens instead of refusing
	Models            []string       // models allowed (exact names); empty: any
	MaxQuestionLength int            // most characters in the question; 0: no limit
	Deny              []*DenyPattern // patterns the user's text must not match
	Field             string         // dotted path of a RAG body's question; "": query, question or q
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
//
// The body is checked in one pass over its bytes (checkJSON) and then
// read where it is, never decoded into Go values: only the strings a
// check compares or matches are decoded, and only when they hold escapes
// or invalid UTF-8.
func (r *Rules) Check(path string, body []byte) ([]byte, *Refusal) {
	api := llm.APIOf(path)
	switch err := checkJSON(body); err {
	case nil:
	case errDuplicate:
		return nil, refuse(DuplicateKey, "the request body has a key twice in one object")
	case errTooDeep:
		return nil, refuse(InvalidJSON, fmt.Sprintf("the request body is nested deeper than %d levels", maxDepth))
	default:
		return nil, refuse(InvalidJSON, "the request body is not well-formed JSON")
	}
	d := docPool.Get().(*doc)
	defer d.release()
	if !d.read(api, body) {
		return nil, refuse(InvalidJSON, "the request body must be a JSON object")
	}
	if ref := r.checkShape(api, d); ref != nil {
		return nil, ref
	}
	if r.MaxPromptTokens > 0 {
		if est := llm.EstimateTokens(len(body)); est > r.MaxPromptTokens {
			return nil, refuse(PromptTooLong, fmt.Sprintf("the prompt is about %d tokens, over the limit of %d", est, r.MaxPromptTokens))
		}
	}
	if ref := r.checkModel(api, d); ref != nil {
		return nil, ref
	}
	clamp, ref := r.checkCap(d)
	if ref != nil {
		return nil, ref
	}
	if ref := r.checkText(api, d); ref != nil {
		return nil, ref
	}
	if len(clamp) > 0 {
		out, ok := r.clamped(body, clamp)
		if !ok {
			return nil, refuse(InvalidJSON, "the request body could not be re-encoded")
		}
		return out, nil
	}
	return body, nil
}

// checkShape checks the fields and roles the API requires.
func (r *Rules) checkShape(api llm.API, d *doc) *Refusal {
	switch api {
	case llm.Chat, llm.Messages:
		if ref := needModel(d.model); ref != nil {
			return ref
		}
		if kind(d.messages) != '[' {
			return missingOrInvalid(d.messages, "messages", "an array of messages")
		}
		if len(d.items) == 0 {
			return refuse(InvalidField, "messages must not be empty")
		}
		roles := chatRoles
		if api == llm.Messages {
			roles = messagesRoles
			if _, ok := count(d.maxTokens); !ok {
				return missingOrInvalid(d.maxTokens, "max_tokens", "a whole number")
			}
		}
		if ref := r.checkCount(len(d.items)); ref != nil {
			return ref
		}
		for i, m := range d.items {
			if kind(m.value) != '{' {
				return refuse(InvalidField, fmt.Sprintf("messages[%d] must be an object", i))
			}
			role, ok := text(m.role)
			if !ok {
				return refuse(MissingField, fmt.Sprintf("messages[%d] has no role", i))
			}
			if !slices.Contains(roles, string(role)) {
				return refuse(InvalidRole, fmt.Sprintf("messages[%d] has role %q; this API takes %s", i, clip(string(role)), strings.Join(roles, ", ")))
			}
		}
	case llm.Completions:
		if ref := needModel(d.model); ref != nil {
			return ref
		}
		if d.prompt == nil {
			return refuse(MissingField, "prompt is required")
		}
	case llm.Responses:
		if ref := needModel(d.model); ref != nil {
			return ref
		}
		switch kind(d.input) {
		case '"':
		case '[':
			if ref := r.checkCount(len(d.items)); ref != nil {
				return ref
			}
			for i, it := range d.items {
				if kind(it.value) != '{' {
					return refuse(InvalidField, fmt.Sprintf("input[%d] must be an object", i))
				}
				if it.role == nil {
					continue // a tool call, tool output or reasoning item
				}
				if s, ok := text(it.role); !ok || !slices.Contains(responsesRoles, string(s)) {
					return refuse(InvalidRole, fmt.Sprintf("input[%d] has a role this API does not have; it takes %s", i, strings.Join(responsesRoles, ", ")))
				}
			}
		case 0, 'n': // absent or null
			if d.prevID == nil {
				return missingOrInvalid(d.input, "input", "a string or an array of items")
			}
		default:
			return refuse(InvalidField, "input must be a string or an array of items")
		}
	case llm.RAG:
		if r.Field != "" {
			if get(d.body, llm.ParsePath(r.Field)) == nil {
				return refuse(MissingField, r.Field+" is required")
			}
			return nil
		}
		for _, v := range d.rag {
			if v != nil {
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

func needModel(model []byte) *Refusal {
	if s, ok := text(model); !ok || len(s) == 0 {
		return missingOrInvalid(model, "model", "a non-empty string")
	}
	return nil
}

// missingOrInvalid refuses a field that is absent or null as missing,
// any other as invalid.
func missingOrInvalid(v []byte, field, want string) *Refusal {
	if k := kind(v); k == 0 || k == 'n' {
		return refuse(MissingField, field+" is required")
	}
	return refuse(InvalidField, field+" must be "+want)
}

// checkModel enforces the allowed models. A RAG body need not name one;
// if it does, it must be allowed too.
func (r *Rules) checkModel(api llm.API, d *doc) *Refusal {
	if len(r.Models) == 0 || d.model == nil && api == llm.RAG {
		return nil
	}
	if s, ok := text(d.model); !ok || !slices.Contains(r.Models, string(s)) {
		return refuse(ModelNotAllowed, "this model is not allowed here; allowed: "+strings.Join(r.Models, ", "))
	}
	return nil
}

// checkCap enforces MaxTokens on every output cap the body names (keys
// matched without regard to case, as the rate limiter reads them), in
// the body's order, and returns the names of those to lower to it.
func (r *Rules) checkCap(d *doc) (clamp []string, _ *Refusal) {
	for _, c := range d.caps {
		if kind(c.value) == 'n' {
			continue
		}
		n, ok := count(c.value)
		if !ok {
			return nil, refuse(InvalidField, c.name+" must be a whole number")
		}
		if r.MaxTokens <= 0 || n <= r.MaxTokens {
			continue
		}
		if !r.ClampMaxTokens {
			return nil, refuse(MaxTokensTooLarge, fmt.Sprintf("%s is %d, over the limit of %d", c.name, n, r.MaxTokens))
		}
		clamp = append(clamp, c.name)
	}
	return clamp, nil
}

// clamped is body with the output caps named lowered to MaxTokens: the
// body decoded and encoded again (keys sorted), which only a clamp pays.
func (r *Rules) clamped(body []byte, names []string) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var obj map[string]any
	if dec.Decode(&obj) != nil {
		return nil, false
	}
	for _, name := range names {
		obj[name] = json.Number(strconv.FormatInt(r.MaxTokens, 10))
	}
	return llm.EncodeJSON(obj)
}

// checkText checks the question (not blank, not too long) and every text
// the user wrote against the deny patterns.
func (r *Rules) checkText(api llm.API, d *doc) *Refusal {
	if api == llm.NoQuestion {
		return nil
	}
	if len(r.Deny) > 0 {
		denied := false
		d.userTexts(api, r.Field, func(t []byte) {
			for _, re := range r.Deny {
				if !denied && re.Match(t) {
					denied = true
				}
			}
		})
		if denied {
			return refuse(ContentDenied, "the request's text is not allowed here")
		}
	}
	if d.blankQuestion(api, r.Field) {
		return refuse(EmptyQuestion, "the question is empty")
	}
	if r.MaxQuestionLength > 0 {
		if n, ok := d.questionLength(api, r.Field); ok && n > r.MaxQuestionLength {
			return refuse(QuestionTooLong, fmt.Sprintf("the question is %d characters, over the limit of %d", n, r.MaxQuestionLength))
		}
	}
	return nil
}

// clip shortens a client's value quoted back in a message.
func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
