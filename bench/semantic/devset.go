package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Pair kinds of the hand-written sets (see DATASET.md).
const (
	// kindParaphrase marks a pair one answer serves: the cache should hit.
	kindParaphrase = "paraphrase"
	// kindContrast marks a pair whose answers differ: a hit is a wrong answer.
	kindContrast = "contrast"
)

// setPair is one line of devset.jsonl or testset.jsonl.
type setPair struct {
	A      string `json:"a"`
	B      string `json:"b"`
	Kind   string `json:"kind"`
	Domain string `json:"domain"`
	Note   string `json:"note"`
}

// readPairSet reads a JSONL file of setPairs and checks each line on its
// own: strict JSON (unknown fields are typos), every field set, a known
// kind, a and b different. Checks across lines (duplicates, counts,
// balance) belong to the caller, which may join several files.
func readPairSet(path string) ([]setPair, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var pairs []setPair
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var p setPair
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("%s:%d: more than one JSON value on the line", path, n)
		}
		if err := p.check(); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		pairs = append(pairs, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pairs, nil
}

// check reports what is wrong with one pair on its own.
func (p setPair) check() error {
	for _, f := range []struct{ name, v string }{
		{"a", p.A}, {"b", p.B}, {"kind", p.Kind}, {"domain", p.Domain}, {"note", p.Note},
	} {
		if strings.TrimSpace(f.v) == "" {
			return fmt.Errorf("field %q missing or empty", f.name)
		}
	}
	if p.Kind != kindParaphrase && p.Kind != kindContrast {
		return fmt.Errorf("unknown kind %q", p.Kind)
	}
	if pairText(p.A) == pairText(p.B) {
		return fmt.Errorf("a and b are the same question: %q", p.A)
	}
	return nil
}

// key names the pair regardless of order, case and spacing, so the same
// two questions written twice (or swapped) count as a duplicate.
func (p setPair) key() string {
	a, b := pairText(p.A), pairText(p.B)
	if b < a {
		a, b = b, a
	}
	return a + "\x00" + b
}

// pairText is a question reduced to lower-case words, for comparisons.
func pairText(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}
