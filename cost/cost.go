// Package cost turns an LLM answer's token usage into dollars, by a price
// table per model. It knows nothing of Caddy.
package cost

import (
	"sort"
	"strings"
)

// Price is what a model costs, in US dollars per million tokens.
type Price struct {
	Input       float64 // prompt tokens not read from the provider's prompt cache
	CachedInput float64 // prompt tokens read from the prompt cache
	CacheWrite  float64 // prompt tokens written to the prompt cache (Anthropic); 0: priced as Input
	Output      float64 // answer tokens
}

// Usage is what an answer used, as the cost needs it.
type Usage struct {
	Input      int64 // every prompt token, cached, written to cache or not
	CacheRead  int64 // of Input, read from the prompt cache
	CacheWrite int64 // of Input, written to the prompt cache
	Output     int64
}

// Of returns the cost of usage at price p, in dollars.
func (p Price) Of(u Usage) float64 {
	write := p.CacheWrite
	if write == 0 {
		write = p.Input
	}
	plain := max(u.Input-u.CacheRead-u.CacheWrite, 0)
	return (float64(plain)*p.Input + float64(u.CacheRead)*p.CachedInput +
		float64(u.CacheWrite)*write + float64(u.Output)*p.Output) / 1e6
}

// Table is a price table: each model name (or prefix ending in "*") with
// its price.
type Table struct {
	exact    map[string]Price
	prefixes []prefix // longest first
	dearest  Price    // each field's largest value in the table
}

type prefix struct {
	p     string
	label string // p + "*", as Lookup names it (made once, not per request)
	price Price
}

// NewTable builds a table from the defaults, overridden and extended by
// the given prices. A name ending in "*" is a prefix: "gpt-4o-mini*"
// prices "gpt-4o-mini-2024-07-18" too.
func NewTable(overrides map[string]Price) *Table {
	t := &Table{exact: map[string]Price{}}
	for _, src := range []map[string]Price{Defaults, overrides} {
		for name, p := range src {
			if pre, ok := strings.CutSuffix(name, "*"); ok {
				t.setPrefix(pre, p)
			} else {
				t.exact[name] = p
			}
		}
	}
	sort.Slice(t.prefixes, func(i, j int) bool { return len(t.prefixes[i].p) > len(t.prefixes[j].p) })
	for _, p := range t.exact {
		t.dearest = t.dearest.dearer(p)
	}
	for _, pre := range t.prefixes {
		t.dearest = t.dearest.dearer(pre.price)
	}
	return t
}

// dearer returns each field's larger value of p and q.
func (p Price) dearer(q Price) Price {
	return Price{
		Input: max(p.Input, q.Input), CachedInput: max(p.CachedInput, q.CachedInput),
		CacheWrite: max(p.CacheWrite, q.CacheWrite, p.Input, q.Input), Output: max(p.Output, q.Output),
	}
}

// PriceOrDearest returns the price of a model, or, for a model the table
// does not know, the dearest price in the table (each of its fields the
// largest in the table), so that a budget is never spent by a model
// priced at nothing. A table with a "*" entry knows every model.
func (t *Table) PriceOrDearest(model string) Price {
	if p, _, ok := t.Lookup(model); ok {
		return p
	}
	return t.dearest
}

func (t *Table) setPrefix(pre string, p Price) {
	for i := range t.prefixes {
		if t.prefixes[i].p == pre {
			t.prefixes[i].price = p
			return
		}
	}
	t.prefixes = append(t.prefixes, prefix{p: pre, label: pre + "*", price: p})
}

// Lookup returns the price of a model and the table's name for it (the
// name, or the prefix pattern it matched: a bounded label), and whether
// the table knows it. Names are matched exactly first, then by the
// longest prefix, so a dated snapshot is priced as its family.
func (t *Table) Lookup(model string) (Price, string, bool) {
	if p, ok := t.exact[model]; ok {
		return p, model, true
	}
	for _, pre := range t.prefixes {
		if strings.HasPrefix(model, pre.p) {
			return pre.price, pre.label, true
		}
	}
	return Price{}, "", false
}
