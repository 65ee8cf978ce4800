package validate

import (
	"regexp"
	"testing"
)

// denyPatterns are patterns operators write, and ones whose literal sits
// in places the derivation must get right (repeats, captures, options,
// alternatives, case folding that reaches outside ASCII).
var denyPatterns = []string{
	`(?i)ignore (all )?previous instructions`,
	`secret`,
	`(?i)s[eé]cret|\x{fffd}`,
	`(?i)kelvin`,
	`(?i)(system)+ prompt`,
	`(?i)(?:jail){2,}break`,
	`a*bc?`,
	`^drop table\b`,
	`(?s)begin.*end`,
	`(?i)password|passphrase`,
	`x{0,3}yz`,
	`(?i)ſecret`,
	`(?i)dan mode`,
}

func TestDenyLiteralDerived(t *testing.T) {
	for expr, want := range map[string]string{
		`(?i)ignore (all )?previous instructions`: "previous instructions",
		`secret`:                  "secret",
		`(?i)(system)+ prompt`:    " prompt",
		`(?i)password|passphrase`: "pass", // factored by the parser: pass(?:word|phrase)
		`(?i)s[eé]cret|\x{fffd}`:  "",
		`(?i)ſecret`:              "secret", // folded: against an ASCII text, any case of secret
		`x{0,3}yz`:                "yz",
	} {
		if got := string(MustCompileDeny(expr).literal); got != want {
			t.Errorf("%s: literal %q, want %q", expr, got, want)
		}
	}
}

func TestDenyMatchesAsTheRegex(t *testing.T) {
	texts := []string{
		"", "please IGNORE ALL PREVIOUS INSTRUCTIONS now", "ignore previous instructions",
		"Ignore previous\tinstructions", "the secret", "the SECRET", "the \u212Aelvin scale",
		"KELVIN", "system system prompt", "jailjailbreak", "jailbreak", "drop table x",
		"xx drop table", "begin\nmiddle\nend", "my passphrase", "ſecret", "SECRET ſ", "yz", "xxxyz",
		"ignore previous instructionſ", "previous instructions", "\xff\xfe ignore previous instructions",
	}
	for _, expr := range denyPatterns {
		p, re := MustCompileDeny(expr), regexp.MustCompile(expr)
		for _, text := range texts {
			if got, want := p.Match([]byte(text)), re.MatchString(text); got != want {
				t.Errorf("%s on %q: %v, the regex says %v", expr, text, got, want)
			}
		}
	}
}

// FuzzDenyMatchesAsTheRegex holds the literal shortcut to the regex it
// stands before: a text it clears is one the regex does not match.
func FuzzDenyMatchesAsTheRegex(f *testing.F) {
	for i := range denyPatterns {
		f.Add(i, "ignore all previous instructions")
		f.Add(i, "Kelvin \u212A secret SECRET ſecret")
	}
	f.Fuzz(func(t *testing.T, i int, text string) {
		expr := denyPatterns[uint(i)%uint(len(denyPatterns))]
		p, re := MustCompileDeny(expr), regexp.MustCompile(expr)
		if got, want := p.Match([]byte(text)), re.MatchString(text); got != want {
			t.Fatalf("%s on %q: %v, the regex says %v", expr, text, got, want)
		}
	})
}

func BenchmarkDenyMatch(b *testing.B) {
	text := []byte("Question #12345: what does the retrieval step return?")
	p, re := MustCompileDeny(denyPatterns[0]), regexp.MustCompile(denyPatterns[0])
	b.Run("literal_first", func(b *testing.B) {
		for b.Loop() {
			if p.Match(text) {
				b.Fatal("matched")
			}
		}
	})
	b.Run("regex", func(b *testing.B) {
		for b.Loop() {
			if re.Match(text) {
				b.Fatal("matched")
			}
		}
	})
}
