package validate

import "net/http"

// Code is a refusal's stable reason: the `code` of the error the client
// gets and the reason label of the refusal metric. The set is fixed, so a
// metric labelled by it stays bounded.
type Code string

// The refusal codes, each with its status (see Status).
const (
	InvalidJSON       Code = "invalid_json"         // 400: not one well-formed JSON object
	DuplicateKey      Code = "duplicate_key"        // 400: a key twice in one object (backends disagree on which wins)
	MissingField      Code = "missing_field"        // 400: a field the API requires is absent
	InvalidField      Code = "invalid_field"        // 400: a field of the wrong type or value
	InvalidRole       Code = "invalid_role"         // 400: a message role the API does not have
	EmptyQuestion     Code = "empty_question"       // 400: the question is blank
	RequestTooLarge   Code = "request_too_large"    // 413: the body is over max_body
	TooManyMessages   Code = "too_many_messages"    // 413: more messages than max_messages
	PromptTooLong     Code = "prompt_too_long"      // 413: more estimated tokens than max_prompt_tokens
	QuestionTooLong   Code = "question_too_long"    // 413: a question over max_question_length characters
	MaxTokensTooLarge Code = "max_tokens_too_large" // 422: an output cap over max_tokens (without clamp)
	ModelNotAllowed   Code = "model_not_allowed"    // 422: a model not in models
	ContentDenied     Code = "content_denied"       // 422: the user's text matches a deny pattern
)

// Codes lists every code, for metrics that show each at zero.
var Codes = []Code{
	InvalidJSON, DuplicateKey, MissingField, InvalidField, InvalidRole, EmptyQuestion,
	RequestTooLarge, TooManyMessages, PromptTooLong, QuestionTooLong,
	MaxTokensTooLarge, ModelNotAllowed, ContentDenied,
}

// Status is the HTTP status a refusal with this code answers: 400 for a
// malformed request, 413 for one too large, 422 for one well-formed but
// against the operator's policy.
func (c Code) Status() int {
	switch c {
	case RequestTooLarge, TooManyMessages, PromptTooLong, QuestionTooLong:
		return http.StatusRequestEntityTooLarge
	case MaxTokensTooLarge, ModelNotAllowed, ContentDenied:
		return http.StatusUnprocessableEntity
	}
	return http.StatusBadRequest
}

// Refusal is why a request is refused: a stable code and a message for
// the client (which never echoes the request's text back).
type Refusal struct {
	Code    Code
	Message string
}

func (r *Refusal) Error() string { return string(r.Code) + ": " + r.Message }

func refuse(code Code, message string) *Refusal { return &Refusal{Code: code, Message: message} }
