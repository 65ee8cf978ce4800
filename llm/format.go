package llm

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Format is the JSON output a request asked for: any JSON object
// (json_object), or JSON valid against a schema (json_schema).
type Format struct {
	schema *jsonschema.Schema // nil: any JSON object
}

// RequestedFormat returns the JSON output a request body asks for, or
// nil if it asks for none: OpenAI chat's response_format, the Responses
// API's text.format, Anthropic's output_format, each {"type":
// "json_object"} or {"type": "json_schema", …schema…}. A schema that does
// not compile (or refers to anything outside itself: nothing is ever
// loaded from a file or the network) leaves only "a JSON object" to check.
func RequestedFormat(body []byte) *Format {
	var req struct {
		ResponseFormat *formatSpec `json:"response_format"`
		Text           *struct {
			Format *formatSpec `json:"format"`
		} `json:"text"`
		OutputFormat *formatSpec `json:"output_format"`
	}
	if json.Unmarshal(body, &req) != nil {
		return nil
	}
	spec := req.ResponseFormat
	if spec == nil && req.Text != nil {
		spec = req.Text.Format
	}
	if spec == nil {
		spec = req.OutputFormat
	}
	if spec == nil {
		return nil
	}
	switch spec.Type {
	case "json_object":
		return &Format{}
	case "json_schema":
		raw := spec.Schema // Responses and Anthropic
		if spec.JSONSchema != nil {
			raw = spec.JSONSchema.Schema // chat completions
		}
		return &Format{schema: compileSchema(raw)}
	}
	return nil
}

type formatSpec struct {
	Type       string          `json:"type"`
	Schema     json.RawMessage `json:"schema"`
	JSONSchema *struct {
		Schema json.RawMessage `json:"schema"`
	} `json:"json_schema"`
}

// noLoader refuses every URL a schema refers to: a client's schema must
// not make the proxy read a file or fetch a URL.
type noLoader struct{}

func (noLoader) Load(string) (any, error) {
	return nil, errors.New("external schema references are not loaded")
}

func compileSchema(raw json.RawMessage) *jsonschema.Schema {
	if len(raw) == 0 {
		return nil
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(noLoader{})
	const url = "request:///schema.json"
	if c.AddResource(url, doc) != nil {
		return nil
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil
	}
	return s
}

// Valid reports whether an answer's text is what was asked for: one JSON
// value that is an object (json_object, or a schema that did not
// compile) or valid against the schema.
func (f *Format) Valid(text string) bool {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(text)))
	if err != nil {
		return false
	}
	if f.schema == nil {
		_, ok := v.(map[string]any)
		return ok
	}
	return f.schema.Validate(v) == nil
}
