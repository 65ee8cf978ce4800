package semantic

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
)

func TestContrastVetoes(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want Guard
	}{
		// antonyms, from WordNet and contrast_words.txt
		{"Should I enable two-factor authentication?", "Should I disable two-factor authentication?", GuardContrast},
		{"How do I remove a team member?", "How do I add a team member?", GuardContrast},
		{"What is included in the free plan?", "What is included in the premium plan?", GuardContrast},
		{"What is my daily quota?", "What is my monthly quota?", GuardContrast},
		{"What is the minimum order quantity?", "What is the maximum order quantity?", GuardContrast},
		{"Is the office open on Saturday?", "Is the office open on Sunday?", GuardContrast},
		{"Who is the CEO of Acme?", "Who is the CTO of Acme?", GuardContrast},
		{"Does the warehouse ship on weekends?", "Does the warehouse ship on weekdays?", GuardContrast},
		{"Is the black model waterproof?", "Is the white model waterproof?", GuardContrast},
		// opposite prefixes
		{"How do I connect my bank account?", "How do I disconnect my bank account?", GuardContrast},
		{"How do I upload a backup?", "How do I download a backup?", GuardContrast},
		{"How do I import contacts?", "How do I export contacts?", GuardContrast},
		{"Why can't I log in to the dashboard?", "Why can't I log out of the dashboard?", GuardContrast},
		{"Where are inbound calls routed?", "Where are outbound calls routed?", GuardContrast},
		// the same contrasting words in opposite orders
		{"How do I switch from monthly to annual billing?", "How do I switch from annual to monthly billing?", GuardContrast},
		// one unknown content word swapped
		{"How do I install Fortran on the build server?", "How do I install Cobol on the build server?", GuardSubstitution},
		{"Can I pay my invoice with Klarna?", "Can I pay my invoice with Affirm?", GuardSubstitution},
		{"What is the return policy for shoes?", "What is the return policy for jackets?", GuardSubstitution},
	} {
		if got := Veto(c.a, c.b); got != c.want {
			t.Errorf("Veto(%q, %q) = %q, want %q", c.a, c.b, got, c.want)
		}
		if got := Veto(c.b, c.a); got != c.want {
			t.Errorf("Veto(%q, %q) = %q, want %q (not symmetric)", c.b, c.a, got, c.want)
		}
	}
}

func TestContrastLetsParaphrasesThrough(t *testing.T) {
	for _, c := range [][2]string{
		{"How do I reset my password?", "How can I reset my password?"},
		{"Which plan is best for small teams?", "What plan is best for small teams?"},
		{"Is it possible to export my data?", "Can I export my data?"},
		{"How do I purchase a gift card?", "How do I buy a gift card?"},
		{"How do I pay my invoice?", "How do I make a payment on my invoice?"},
		{"Where do I find the API docs?", "Where do I find the API documentation?"},
		{"Can I cancel my order?", "My order, can I cancel it?"},
		{"How do I change my email address?", "How do I update my email address?"},
		{"How long does shipping usually take?", "How long does shipping typically take?"},
		{"What is the difference between Python and Ruby?", "What is the difference between Ruby and Python?"},
		{"Hello! Do you ship to Brazil?", "Do you ship to Brazil?"},
		{"Why were the women upset?", "Why was the woman upset?"},
	} {
		if got := Veto(c[0], c[1]); got != GuardNone {
			t.Errorf("Veto(%q, %q) = %q, want none", c[0], c[1], got)
		}
	}
}

func TestOpposite(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"enable", "disable", true},
		{"install", "uninstall", true},
		{"activate", "deactivate", true},
		{"upgrade", "downgrade", true},
		{"increase", "decrease", true},
		{"encrypt", "decrypt", true},
		{"prepaid", "postpaid", true},
		{"checkin", "checkout", true},
		{"helpful", "helpless", true},
		{"in", "out", false}, // too short for a prefix rule: the lexicon knows it
		{"able", "table", false},
		{"install", "instal", false},
	} {
		if got := opposite(c.a, c.b); got != c.want {
			t.Errorf("opposite(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestLexiconGroups(t *testing.T) {
	l := loadLexicon("a b c\nx | y z | w\n= y z\n# comment | q\n", gzipOf(t, "! foo bar\n= baz qux\n= a b\n"))
	for _, c := range []struct {
		a, b           string
		contrast, same bool
	}{
		{"a", "b", true, false}, // the hand-written line overrides WordNet's "="
		{"a", "c", true, false},
		{"x", "y", true, false},
		{"x", "w", true, false},
		{"y", "w", true, false},
		{"y", "z", false, true},
		{"foo", "bar", true, false},
		{"baz", "qux", false, true},
		{"comment", "q", false, false},
	} {
		p := stemPair(Stem(c.a), Stem(c.b))
		if l.contrast[p] != c.contrast || l.same[p] != c.same {
			t.Errorf("%s/%s: contrast %v same %v, want %v %v", c.a, c.b, l.contrast[p], l.same[p], c.contrast, c.same)
		}
	}
}

func gzipOf(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestTooLong(t *testing.T) {
	words := strings.Repeat("word ", MaxQueryWords)
	if TooLong(words) {
		t.Errorf("%d words: TooLong, want not", MaxQueryWords)
	}
	if !TooLong(words + "more") {
		t.Errorf("%d words: not TooLong", MaxQueryWords+1)
	}
}
