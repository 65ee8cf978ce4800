package validate

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/ragproxy/ragproxy/llm"
)

// doc is a request body that checkJSON has checked, read where it is:
// the top-level members the checks look at (nil when absent), and the
// messages or input items. Values are the body's bytes (a JSON value
// each), walked with llm.EachMember and llm.EachElement.
type doc struct {
	body                                              []byte
	model, messages, input, prompt, prevID, maxTokens []byte
	rag                                               [3][]byte  // query, question, q
	caps                                              []capField // output caps, in the body's order
	items                                             []item     // elements of messages (chat, messages) or input (responses)
}

// item is a message (or Responses input item): its value and, if it is
// an object, the members the checks read (nil when absent), taken in one
// walk over it.
type item struct {
	value, role, content, typ []byte
}

// capField is a member that caps the answer's tokens: its decoded name
// and its value.
type capField struct {
	name  string
	value []byte
}

var docPool = sync.Pool{New: func() any { return new(doc) }}

// release returns d to the pool, holding on to no body, unless a large
// body grew it.
func (d *doc) release() {
	clear(d.items)
	if cap(d.items) > 4096 {
		return
	}
	*d = doc{caps: d.caps[:0], items: d.items[:0]}
	docPool.Put(d)
}

// read takes the top-level members of body, and the items of api's
// messages or input, and reports whether body is an object.
func (d *doc) read(api llm.API, body []byte) bool {
	d.body = body
	if !llm.EachMember(body, func(name, v []byte) {
		key, ok := text(name)
		if !ok {
			return
		}
		switch string(key) {
		case "model":
			d.model = v
		case "messages":
			d.messages = v
		case "input":
			d.input = v
		case "prompt":
			d.prompt = v
		case "previous_response_id":
			d.prevID = v
		case "query":
			d.rag[0] = v
		case "question":
			d.rag[1] = v
		case "q":
			d.rag[2] = v
		}
		if string(key) == "max_tokens" {
			d.maxTokens = v
		}
		if slices.ContainsFunc(capFields, func(f string) bool { return equalFold(f, key) }) {
			d.caps = append(d.caps, capField{name: string(key), value: v})
		}
	}) {
		return false
	}
	items := d.messages
	if api == llm.Responses {
		items = d.input
	}
	if kind(items) == '[' {
		llm.EachElement(items, func(v []byte) {
			it := item{value: v}
			if kind(v) == '{' {
				llm.EachMember(v, func(n, val []byte) {
					switch {
					case keyIs(n, "role"):
						it.role = val
					case keyIs(n, "content"):
						it.content = val
					case keyIs(n, "type"):
						it.typ = val
					}
				})
			}
			d.items = append(d.items, it)
		})
	}
	return true
}

// equalFold is strings.EqualFold of a name and a key's decoded bytes.
func equalFold(name string, key []byte) bool {
	if len(key) != len(name) {
		// Unicode folding can match keys of another length (the Kelvin
		// sign's K): only those need the string.
		for _, c := range key {
			if c >= utf8.RuneSelf {
				return strings.EqualFold(name, string(key))
			}
		}
		return false
	}
	return bytes.EqualFold([]byte(name), key)
}

// kind is what the JSON value v is: '{', '[', '"', 't', 'f', 'n' (null),
// '0' (a number), or 0 for none (an absent member).
func kind(v []byte) byte {
	if len(v) == 0 {
		return 0
	}
	switch c := v[0]; c {
	case '{', '[', '"', 't', 'f', 'n':
		return c
	}
	return '0'
}

// member returns the value of the object v's member named name (its
// decoded name, exactly), or nil.
func member(v []byte, name string) []byte {
	if kind(v) != '{' {
		return nil
	}
	var found []byte
	llm.EachMember(v, func(n, val []byte) {
		if found == nil && keyIs(n, name) {
			found = val
		}
	})
	return found
}

// keyIs reports whether the quoted key n decodes to name.
func keyIs(n []byte, name string) bool {
	if raw := n[1 : len(n)-1]; llm.PlainText(raw) {
		return string(raw) == name
	}
	return decodeString(n) == name
}

// get returns the value at path in the object v, as llm.Path.Get does
// in the decoded body, or nil.
func get(v []byte, path llm.Path) []byte {
	for _, name := range path[:len(path)-1] {
		if v = member(v, name); kind(v) != '{' {
			return nil
		}
	}
	return member(v, path[len(path)-1])
}

// count reads a non-negative whole number, as json.Number's Int64 does.
func count(v []byte) (int64, bool) {
	if kind(v) != '0' {
		return 0, false
	}
	i, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil || i < 0 {
		return 0, false
	}
	return i, true
}

// isText reports whether v is the string s once decoded.
func isText(v []byte, s string) bool {
	t, ok := text(v)
	return ok && string(t) == s
}

// userTexts calls fn with every text the user wrote: every user message
// (or Responses input), the prompt, the query. Deny patterns are matched
// against all of them, not the last question alone, so a denied text
// cannot hide in an earlier turn or a prompt array.
func (d *doc) userTexts(api llm.API, field string, fn func([]byte)) {
	switch api {
	case llm.Chat, llm.Messages:
		if kind(d.messages) == '[' {
			userMessages(d.items, fn)
		}
	case llm.Responses:
		switch kind(d.input) {
		case '"':
			strs(d.input, fn)
		case '[':
			userMessages(d.items, fn)
		}
	case llm.Completions:
		strs(d.prompt, fn)
	case llm.RAG:
		if field != "" {
			strs(get(d.body, llm.ParsePath(field)), fn)
			break
		}
		for _, v := range d.rag {
			strs(v, fn)
		}
	}
}

func userMessages(items []item, fn func([]byte)) {
	for _, it := range items {
		if isText(it.role, "user") {
			messageTexts(it.content, fn)
		}
	}
}

// messageTexts calls fn with a message content's texts (a string, or the
// text of its parts, and of Anthropic tool results' content), and reports
// whether it holds text only.
func messageTexts(content []byte, fn func([]byte)) bool {
	switch kind(content) {
	case '"':
		strs(content, fn)
		return true
	case '[':
		textOnly := true
		llm.EachElement(content, func(p []byte) {
			if kind(p) != '{' {
				textOnly = false
				return
			}
			var txt, inner []byte
			llm.EachMember(p, func(n, v []byte) {
				switch {
				case keyIs(n, "text"):
					txt = v
				case keyIs(n, "content"):
					inner = v
				}
			})
			if t, ok := text(txt); ok {
				fn(t)
			} else {
				textOnly = false
			}
			if inner != nil {
				messageTexts(inner, fn)
			}
		})
		return textOnly
	}
	return false
}

// strs calls fn with v if it is a string, or with its strings if it is
// an array.
func strs(v []byte, fn func([]byte)) {
	switch kind(v) {
	case '"':
		t, _ := text(v)
		fn(t)
	case '[':
		llm.EachElement(v, func(e []byte) {
			if t, ok := text(e); ok {
				fn(t)
			}
		})
	}
}

// blankQuestion reports a question that is there but blank: the last
// message is the user's and says nothing, or the prompt, input or query
// is a blank string.
func (d *doc) blankQuestion(api llm.API, field string) bool {
	var v []byte
	switch {
	case api == llm.RAG && field != "":
		v = get(d.body, llm.ParsePath(field))
	case api == llm.RAG:
		for _, x := range d.rag {
			if x != nil {
				v = x
				break
			}
		}
	case api == llm.Completions:
		v = d.prompt
	case api == llm.Responses:
		switch kind(d.input) {
		case '"':
			v = d.input
		case '[':
			return lastUserBlank(d.items)
		}
	default: // Chat, Messages
		if kind(d.messages) != '[' {
			return false
		}
		return lastUserBlank(d.items)
	}
	s, ok := text(v)
	return ok && len(bytes.TrimSpace(s)) == 0
}

func lastUserBlank(items []item) bool {
	if len(items) == 0 {
		return false
	}
	msg := items[len(items)-1]
	if !isText(msg.role, "user") {
		return false
	}
	blank := true
	textOnly := messageTexts(msg.content, func(t []byte) {
		blank = blank && len(bytes.TrimSpace(t)) == 0
	})
	return textOnly && blank // an image or a file says something
}

// questionLength is the length in characters of the question
// llm.TakeQuery would take from the decoded body, and whether there is
// one.
func (d *doc) questionLength(api llm.API, field string) (int, bool) {
	if field != "" {
		path := llm.ParsePath(field)
		obj := d.body
		for _, name := range path[:len(path)-1] {
			if obj = member(obj, name); kind(obj) != '{' {
				return 0, false
			}
		}
		return nonBlank(member(obj, path[len(path)-1]))
	}
	switch api {
	case llm.Chat, llm.Messages:
		if kind(d.messages) == '[' {
			return lastUserQuestion(d.items)
		}
	case llm.Completions:
		return nonBlank(d.prompt)
	case llm.Responses:
		if kind(d.input) == '[' {
			return lastUserQuestion(d.items)
		}
		return nonBlank(d.input)
	case llm.RAG:
		for _, v := range d.rag {
			if n, ok := nonBlank(v); ok {
				return n, true
			}
		}
	}
	return 0, false
}

// nonBlank is the length in characters of v if it is a string that is
// not blank.
func nonBlank(v []byte) (int, bool) {
	t, ok := text(v)
	if !ok || len(bytes.TrimSpace(t)) == 0 {
		return 0, false
	}
	return utf8.RuneCount(t), true
}

// lastUserQuestion is the length of the question in the last item, if it
// is the user's message with text only (parts joined by newlines).
func lastUserQuestion(items []item) (int, bool) {
	if len(items) == 0 {
		return 0, false
	}
	msg := items[len(items)-1]
	if !isText(msg.role, "user") {
		return 0, false
	}
	if msg.typ != nil && !isText(msg.typ, "message") {
		return 0, false // a Responses API item that is not a message
	}
	content := msg.content
	switch kind(content) {
	case '"':
		return nonBlank(content)
	case '[':
		n, parts, blank, ok := 0, 0, true, true
		llm.EachElement(content, func(p []byte) {
			if !ok {
				return
			}
			typ := member(p, "type")
			t, isStr := text(member(p, "text"))
			if kind(p) != '{' || !isText(typ, "text") && !isText(typ, "input_text") || !isStr {
				ok = false // an image or a file: not a question text alone can match
				return
			}
			n += utf8.RuneCount(t)
			parts++
			blank = blank && len(bytes.TrimSpace(t)) == 0
		})
		if !ok || blank {
			return 0, false
		}
		return n + parts - 1, true // the newlines joining the parts
	}
	return 0, false
}
