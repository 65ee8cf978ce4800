package llm

import "strings"

// Path is a dotted path into a decoded JSON value (map[string]any and
// []any, as encoding/json decodes into any): the names of nested object
// members, outermost first, so "result.hits" is ["result", "hits"]. It
// walks objects only; a path never indexes into an array. Every dotted
// field in the configuration (a cache's ignored fields, the question
// field, set_json, fail_on_empty) is read with it, so they all mean the
// same thing by a dot.
type Path []string

// ParsePath splits a dotted path into its member names. It does not trim
// or check them: "" is the path to the member named "".
func ParsePath(s string) Path { return strings.Split(s, ".") }

// String gives the path back in its dotted form.
func (p Path) String() string { return strings.Join(p, ".") }

// last is the name of the member the path ends at.
func (p Path) last() string { return p[len(p)-1] }

// Parent returns the object that holds the path's last member, if v is an
// object and every member before the last is one too.
func (p Path) Parent(v any) (map[string]any, bool) {
	obj, ok := v.(map[string]any)
	if !ok || len(p) == 0 {
		return nil, false
	}
	for _, name := range p[:len(p)-1] {
		if obj, ok = obj[name].(map[string]any); !ok {
			return nil, false
		}
	}
	return obj, true
}

// Get returns the value at the path, and whether it is there.
func (p Path) Get(v any) (any, bool) {
	obj, ok := p.Parent(v)
	if !ok {
		return nil, false
	}
	val, ok := obj[p.last()]
	return val, ok
}

// Delete removes the member at the path, if it is there.
func (p Path) Delete(v any) {
	if obj, ok := p.Parent(v); ok {
		delete(obj, p.last())
	}
}

// Set puts val at the path in the object v, making the objects on the
// way: a member on the way that is missing or not an object is replaced
// by a new object. It reports false, changing nothing, if v is not an
// object.
func (p Path) Set(v any, val any) bool {
	obj, ok := v.(map[string]any)
	if !ok || obj == nil || len(p) == 0 {
		return false
	}
	for _, name := range p[:len(p)-1] {
		next, ok := obj[name].(map[string]any)
		if !ok || next == nil {
			next = map[string]any{}
			obj[name] = next
		}
		obj = next
	}
	obj[p.last()] = val
	return true
}
