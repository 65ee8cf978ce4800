package llm

import (
	"encoding/json"
	"unicode/utf8"
)

// maxChoices bounds the "n" a reservation multiplies the output cap by.
const maxChoices = 128

// OutputCap returns the most output tokens a request body allows the
// answer: its max_tokens, max_completion_tokens or max_output_tokens (the
// largest, if several are given; keys matched as AskStreamUsage matches
// them), times its "n" (choices, at most 128) if it asks for several.
// ok is false if body is not a JSON object or names no such cap.
func OutputCap(body []byte) (tokens int64, ok bool) {
	var limit, n int64 = 0, 1
	eachMember(body, func(name, value []byte) {
		switch {
		case keyIs(name, "max_tokens"), keyIs(name, "max_completion_tokens"), keyIs(name, "max_output_tokens"):
			if v, good := parseCount(value); good {
				limit, ok = max(limit, v), true
			}
		case keyIs(name, "n"):
			if v, good := parseCount(value); good && v > 1 {
				n = max(n, min(v, maxChoices))
			}
		}
	})
	if !ok {
		return 0, false
	}
	return limit * n, true // limit ≤ 2^50, n ≤ 128: no overflow
}

// EstimateTokens is the token count of n bytes of text where no tokenizer
// is at hand: 4 bytes a token, rounded up. Rate limits reserve by it and
// rag_validate's max_prompt_tokens measures by it, so both count alike.
func EstimateTokens(n int) int64 { return (int64(n) + 3) / 4 }

// ModelOf returns the model a JSON request body names (its top-level
// "model" string, keys matched as OutputCap matches them), or "".
func ModelOf(body []byte) string {
	v := topLevelValue(body, "model")
	if len(v) == 0 || v[0] != '"' {
		return ""
	}
	if len(v) >= 2 && PlainText(v[1:len(v)-1]) {
		return string(v[1 : len(v)-1]) // the usual name: its bytes are its text
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return ""
	}
	return s
}

// PlainText reports whether a JSON string's content (quotes left off)
// decodes to its own bytes: no escape, no control character (which make
// it malformed), valid UTF-8. Such a string, the usual one, is read
// without decoding it.
func PlainText(raw []byte) bool {
	for _, c := range raw {
		if c < 0x20 || c == '\\' {
			return false
		}
	}
	return utf8.Valid(raw)
}
