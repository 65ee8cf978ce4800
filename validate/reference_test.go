package validate

// The decoder-based validator as it was before the single-pass scanner
// (commit ac26fda's decode.go and validate.go, identifiers prefixed
// "ref"), kept as the oracle of FuzzCheckDifferential: the proxy's Check
// must judge every body as this did. Not used by the proxy.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ragproxy/ragproxy/llm"
)

// refDecodeStrict decodes one JSON value, numbers as json.Number, and fails
// on anything after it, on nesting deeper than maxDepth, and on a key
// that appears twice in one object — compared without regard to case,
// since lenient backends match keys so: of {"model":"a","Model":"b"} one
// backend reads a and another b, and the request must not be judged by
// the one the upstream does not read.
func refDecodeStrict(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	v, err := refDecodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

func refDecodeValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	if depth >= maxDepth {
		return nil, errTooDeep
	}
	switch d {
	case '{':
		obj := map[string]any{}
		var folded map[string]struct{} // keys in lower case, once there are several
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ := tok.(string)
			lower := strings.ToLower(key)
			if folded == nil {
				folded = map[string]struct{}{}
			}
			if _, dup := folded[lower]; dup {
				return nil, errDuplicate
			}
			folded[lower] = struct{}{}
			v, err := refDecodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			obj[key] = v
		}
		_, err := dec.Token() // '}'
		return obj, err
	case '[':
		arr := []any{}
		for dec.More() {
			v, err := refDecodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err := dec.Token() // ']'
		return arr, err
	}
	return nil, errors.New("unexpected delimiter")
}

// refCheck validates a request body sent to path (its API is llm.APIOf's).
// It returns the body to send on — body itself, or a rewrite when an
// output cap was clamped — or why the request is refused.
func (r *Rules) refCheck(path string, body []byte) ([]byte, *Refusal) {
	api := llm.APIOf(path)
	v, err := refDecodeStrict(body)
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
	if ref := r.refCheckShape(api, obj); ref != nil {
		return nil, ref
	}
	if r.MaxPromptTokens > 0 {
		if est := llm.EstimateTokens(len(body)); est > r.MaxPromptTokens {
			return nil, refuse(PromptTooLong, fmt.Sprintf("the prompt is about %d tokens, over the limit of %d", est, r.MaxPromptTokens))
		}
	}
	if ref := r.refCheckModel(api, obj); ref != nil {
		return nil, ref
	}
	clamped, ref := r.refCheckCap(obj)
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
	if ref := r.refCheckText(api, obj); ref != nil {
		return nil, ref
	}
	return body, nil
}

// refCheckShape checks the fields and roles the API requires.
func (r *Rules) refCheckShape(api llm.API, obj map[string]any) *Refusal {
	switch api {
	case llm.Chat, llm.Messages:
		if ref := refNeedModel(obj); ref != nil {
			return ref
		}
		msgs, ok := obj["messages"].([]any)
		if !ok {
			return refMissingOrInvalid(obj, "messages", "an array of messages")
		}
		if len(msgs) == 0 {
			return refuse(InvalidField, "messages must not be empty")
		}
		roles := chatRoles
		if api == llm.Messages {
			roles = messagesRoles
			if ref := refNeedCount(obj, "max_tokens"); ref != nil {
				return ref
			}
		}
		if ref := r.refCheckCount(len(msgs)); ref != nil {
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
		if ref := refNeedModel(obj); ref != nil {
			return ref
		}
		if _, ok := obj["prompt"]; !ok {
			return refuse(MissingField, "prompt is required")
		}
	case llm.Responses:
		if ref := refNeedModel(obj); ref != nil {
			return ref
		}
		switch in := obj["input"].(type) {
		case string:
		case []any:
			if ref := r.refCheckCount(len(in)); ref != nil {
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
				return refMissingOrInvalid(obj, "input", "a string or an array of items")
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

func (r *Rules) refCheckCount(n int) *Refusal {
	if r.MaxMessages > 0 && n > r.MaxMessages {
		return refuse(TooManyMessages, fmt.Sprintf("%d messages, over the limit of %d", n, r.MaxMessages))
	}
	return nil
}

func refNeedModel(obj map[string]any) *Refusal {
	if s, ok := obj["model"].(string); !ok || s == "" {
		return refMissingOrInvalid(obj, "model", "a non-empty string")
	}
	return nil
}

func refNeedCount(obj map[string]any, field string) *Refusal {
	if _, ok := refCount(obj[field]); !ok {
		return refMissingOrInvalid(obj, field, "a whole number")
	}
	return nil
}

func refMissingOrInvalid(obj map[string]any, field, want string) *Refusal {
	if v, ok := obj[field]; !ok || v == nil {
		return refuse(MissingField, field+" is required")
	}
	return refuse(InvalidField, field+" must be "+want)
}

// refCount reads a non-negative whole number.
func refCount(v any) (int64, bool) {
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

// refCheckModel enforces the allowed models. A RAG body need not name one;
// if it does, it must be allowed too.
func (r *Rules) refCheckModel(api llm.API, obj map[string]any) *Refusal {
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

// refCheckCap enforces MaxTokens on every output cap the body names (keys
// matched without regard to case, as the rate limiter reads them), and
// reports whether it lowered one.
func (r *Rules) refCheckCap(obj map[string]any) (clamped bool, _ *Refusal) {
	for key, v := range obj {
		if !slices.ContainsFunc(capFields, func(f string) bool { return strings.EqualFold(f, key) }) || v == nil {
			continue
		}
		n, ok := refCount(v)
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

// refCheckText checks the question (not blank, not too long) and every text
// the user wrote against the deny patterns. It takes the question out of
// obj (llm.TakeQuery), so it runs last.
func (r *Rules) refCheckText(api llm.API, obj map[string]any) *Refusal {
	if api == llm.NoQuestion {
		return nil
	}
	if len(r.Deny) > 0 {
		for _, t := range refUserTexts(api, obj, r.Field) {
			for _, re := range r.Deny {
				if re.re.MatchString(t) { // the regex alone, without the literal that clears most texts
					return refuse(ContentDenied, "the request's text is not allowed here")
				}
			}
		}
	}
	if refBlankQuestion(api, obj, r.Field) {
		return refuse(EmptyQuestion, "the question is empty")
	}
	q, ok := llm.TakeQuery("/"+refAPIPath[api], obj, r.Field)
	if ok && r.MaxQuestionLength > 0 && utf8.RuneCountInString(q) > r.MaxQuestionLength {
		return refuse(QuestionTooLong, fmt.Sprintf("the question is %d characters, over the limit of %d", utf8.RuneCountInString(q), r.MaxQuestionLength))
	}
	return nil
}

// refApiPath is a path of each API, for llm functions that take a path.
var refAPIPath = map[llm.API]string{
	llm.Chat: "chat/completions", llm.Completions: "completions", llm.Responses: "responses",
	llm.Messages: "messages", llm.RAG: "query",
}

// refBlankQuestion reports a question that is there but blank: the last
// message is the user's and says nothing, or the prompt, input or query
// is a blank string.
func refBlankQuestion(api llm.API, obj map[string]any, field string) bool {
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
			return refLastUserBlank(items)
		}
	default: // Chat, Messages
		items, _ := obj["messages"].([]any)
		return refLastUserBlank(items)
	}
	s, ok := v.(string)
	return ok && strings.TrimSpace(s) == ""
}

func refLastUserBlank(items []any) bool {
	if len(items) == 0 {
		return false
	}
	msg, ok := items[len(items)-1].(map[string]any)
	if !ok || msg["role"] != "user" {
		return false
	}
	var texts []string
	if !refMessageTexts(msg["content"], &texts) {
		return false // an image or a file says something
	}
	return strings.TrimSpace(strings.Join(texts, "")) == ""
}

// refUserTexts gathers every text the user wrote: every user message (or
// Responses input), the prompt, the query. Deny patterns are matched
// against all of them, not the last question alone, so a denied text
// cannot hide in an earlier turn or a prompt array.
func refUserTexts(api llm.API, obj map[string]any, field string) []string {
	var out []string
	switch api {
	case llm.Chat, llm.Messages:
		msgs, _ := obj["messages"].([]any)
		refUserMessages(msgs, &out)
	case llm.Responses:
		switch in := obj["input"].(type) {
		case string:
			out = append(out, in)
		case []any:
			refUserMessages(in, &out)
		}
	case llm.Completions:
		refStrs(obj["prompt"], &out)
	case llm.RAG:
		if field != "" {
			v, _ := llm.ParsePath(field).Get(obj)
			refStrs(v, &out)
			break
		}
		for _, f := range []string{"query", "question", "q"} {
			refStrs(obj[f], &out)
		}
	}
	return out
}

func refUserMessages(items []any, out *[]string) {
	for _, it := range items {
		msg, ok := it.(map[string]any)
		if ok && msg["role"] == "user" {
			refMessageTexts(msg["content"], out)
		}
	}
}

// refMessageTexts appends a message content's texts (a string, or the text
// of its parts), and reports whether it holds text only.
func refMessageTexts(content any, out *[]string) bool {
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
				refMessageTexts(inner, out)
			}
		}
		return textOnly
	}
	return false
}

// refStrs appends v if it is a string, or its strings if it is an array.
func refStrs(v any, out *[]string) {
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
