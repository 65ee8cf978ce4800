package validate

import (
	"bytes"
	"regexp"
	"regexp/syntax"
)

// DenyPattern is a deny regex with, where its form allows, a literal that
// every match contains (the longest one the pattern requires, such as
// "previous instructions" of `(?i)ignore (all )?previous instructions`). A
// text without that literal cannot match, so most texts are cleared with
// one substring search instead of running the regex.
type DenyPattern struct {
	re      *regexp.Regexp
	literal []byte // "" when the pattern requires none we can use
	fold    bool   // the literal matches without regard to case (ASCII, lower-cased)
}

// CompileDeny compiles a deny pattern (Go regexp syntax).
func CompileDeny(expr string) (*DenyPattern, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	p := &DenyPattern{re: re}
	if tree, err := syntax.Parse(expr, syntax.Perl); err == nil {
		if lit, fold, ok := requiredLiteral(tree.Simplify()); ok {
			p.literal, p.fold = lit, fold
			if fold {
				p.literal = bytes.ToLower(lit)
			}
		}
	}
	return p, nil
}

// MustCompileDeny is CompileDeny for patterns known to be valid.
func MustCompileDeny(expr string) *DenyPattern {
	p, err := CompileDeny(expr)
	if err != nil {
		panic(err)
	}
	return p
}

// String is the pattern as written.
func (p *DenyPattern) String() string { return p.re.String() }

// Match reports whether text matches the pattern.
//
// The literal clears a text only where the answer is certain: an ASCII
// literal against an ASCII text. Case folding reaches outside ASCII (the
// Kelvin sign folds to k, the long s to s), so a text with any non-ASCII
// byte goes to the regex.
func (p *DenyPattern) Match(text []byte) bool {
	if len(p.literal) > 0 && ascii(text) {
		var found bool
		if p.fold {
			found = indexFoldASCII(text, p.literal)
		} else {
			found = bytes.Contains(text, p.literal)
		}
		if !found {
			return false
		}
	}
	return p.re.Match(text)
}

// requiredLiteral returns the longest ASCII literal every match of re
// contains, and whether it is matched without regard to case.
func requiredLiteral(re *syntax.Regexp) (lit []byte, fold, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		b := make([]byte, 0, len(re.Rune))
		for _, r := range re.Rune {
			if r >= 0x80 {
				return nil, false, false
			}
			b = append(b, byte(r))
		}
		return b, re.Flags&syntax.FoldCase != 0, len(b) > 0
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLiteral(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLiteral(re.Sub[0])
		}
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if l, f, o := requiredLiteral(sub); o && len(l) > len(lit) {
				lit, fold, ok = l, f, true
			}
		}
		return lit, fold, ok
	}
	return nil, false, false
}

func ascii(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// indexFoldASCII reports whether s contains lower (lower-case ASCII)
// without regard to ASCII case.
func indexFoldASCII(s, lower []byte) bool {
	first := lower[0]
	for i := 0; i+len(lower) <= len(s); i++ {
		if s[i]|0x20 != first|0x20 || !equalFoldASCII(s[i:i+len(lower)], lower) {
			continue
		}
		return true
	}
	return false
}

func equalFoldASCII(s, lower []byte) bool {
	for i, c := range s {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
