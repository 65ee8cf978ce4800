package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The shipped sets and the sizes DATASET.md promises.
var shippedSets = []struct {
	path string
	min  int
}{
	{"devset.jsonl", 240},
	{"testset.jsonl", 120},
}

func TestShippedPairSets(t *testing.T) {
	seen := map[string]string{}
	for _, s := range shippedSets {
		pairs, err := readPairSet(s.path)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkPairSet(s.path, pairs, s.min, seen); err != nil {
			t.Error(err)
		}
	}
}

// checkPairSet checks what readPairSet cannot see line by line: at least
// min pairs, the two kinds within 10% of each other, and no pair already
// in seen (which collects keys across files).
func checkPairSet(name string, pairs []setPair, min int, seen map[string]string) error {
	var errs []string
	count := map[string]int{}
	for i, p := range pairs {
		at := fmt.Sprintf("%s pair %d", name, i+1)
		if prev, ok := seen[p.key()]; ok {
			errs = append(errs, fmt.Sprintf("%s duplicates %s: %q / %q", at, prev, p.A, p.B))
		}
		seen[p.key()] = at
		count[p.Kind]++
	}
	if len(pairs) < min {
		errs = append(errs, fmt.Sprintf("%s: %d pairs, want at least %d", name, len(pairs), min))
	}
	para, con := count[kindParaphrase], count[kindContrast]
	if d := para - con; d*10 > len(pairs) || -d*10 > len(pairs) {
		errs = append(errs, fmt.Sprintf("%s: %d paraphrases vs %d contrasts, more than 10%% apart", name, para, con))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return nil
}

// writeSet writes lines to a temporary file and returns its path.
func writeSet(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "set.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const (
	goodPara = `{"a":"How do I reset my password?","b":"How can I reset my password?","kind":"paraphrase","domain":"support","note":"how do/how can"}`
	goodCon  = `{"a":"How do I enable 2FA?","b":"How do I disable 2FA?","kind":"contrast","domain":"support","note":"enable→disable"}`
)

func TestReadPairSetRejectsBadLines(t *testing.T) {
	for _, tc := range []struct{ name, line, want string }{
		{"bad JSON", `{"a":"x",`, "unexpected"},
		{"unknown field", `{"a":"x","b":"y","kind":"contrast","domain":"d","note":"n","extra":1}`, "unknown field"},
		{"missing b", `{"a":"x","kind":"contrast","domain":"d","note":"n"}`, `"b"`},
		{"empty domain", `{"a":"x","b":"y","kind":"contrast","domain":" ","note":"n"}`, `"domain"`},
		{"missing note", `{"a":"x","b":"y","kind":"contrast","domain":"d"}`, `"note"`},
		{"unknown kind", `{"a":"x","b":"y","kind":"duplicate","domain":"d","note":"n"}`, "unknown kind"},
		{"a equals b", `{"a":"Where is it?","b":"where  is IT?","kind":"paraphrase","domain":"d","note":"n"}`, "same question"},
		{"two values", goodPara + goodCon, "more than one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readPairSet(writeSet(t, goodPara, tc.line))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), ":2:") {
				t.Errorf("err = %v, want it to name line 2", err)
			}
		})
	}
}

func TestReadPairSetReadsGoodLines(t *testing.T) {
	pairs, err := readPairSet(writeSet(t, goodPara, "", goodCon))
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) != 2 || pairs[1].Kind != kindContrast || pairs[1].B != "How do I disable 2FA?" || pairs[0].Note != "how do/how can" {
		t.Fatalf("pairs = %+v", pairs)
	}
}

func TestCheckPairSet(t *testing.T) {
	p := setPair{A: "How do I enable 2FA?", B: "How do I disable 2FA?", Kind: kindContrast, Domain: "d", Note: "n"}
	swapped := setPair{A: "how do i disable 2fa?", B: "How do I  enable 2FA?", Kind: kindContrast, Domain: "d", Note: "n"}
	q := setPair{A: "Where is my order?", B: "Where's my order?", Kind: kindParaphrase, Domain: "d", Note: "n"}
	r := setPair{A: "Can I pay by card?", B: "Can I pay with a card?", Kind: kindParaphrase, Domain: "d", Note: "n"}
	for _, tc := range []struct {
		name  string
		pairs []setPair
		min   int
		want  string // "" when the set is fine
	}{
		{"fine", []setPair{p, q}, 2, ""},
		{"too few", []setPair{p, q}, 3, "want at least 3"},
		{"imbalanced", []setPair{p, q, r}, 3, "more than 10% apart"},
		{"duplicate swapped", []setPair{p, q, swapped}, 2, "duplicates"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkPairSet("set", tc.pairs, tc.min, map[string]string{})
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// Duplicates across files: the second file repeats the first's pair.
	seen := map[string]string{}
	if err := checkPairSet("dev", []setPair{p, q}, 2, seen); err != nil {
		t.Fatal(err)
	}
	if err := checkPairSet("test", []setPair{swapped, r}, 2, seen); err == nil || !strings.Contains(err.Error(), "dev pair 1") {
		t.Fatalf("err = %v, want a duplicate of dev pair 1", err)
	}
}

// TestPairSetsSurfaceOverlap keeps the sets honest about lexical tricks:
// contrasts differ in one word, so if paraphrases drift towards free
// rewordings, word overlap alone would tell the kinds apart and a guard
// could score well by measuring overlap instead of meaning.
func TestPairSetsSurfaceOverlap(t *testing.T) {
	for _, s := range shippedSets {
		pairs, err := readPairSet(s.path)
		if err != nil {
			t.Fatal(err)
		}
		var con, para []float64
		for _, p := range pairs {
			j := wordJaccard(p.A, p.B)
			if p.Kind == kindContrast {
				con = append(con, j)
			} else {
				para = append(para, j)
			}
		}
		auc := overlapAUC(con, para)
		t.Logf("%s: word-Jaccard AUC, contrast over paraphrase: %.3f", s.path, auc)
		if auc > 0.85 {
			t.Errorf("%s: word overlap alone separates the kinds (AUC %.3f > 0.85); add paraphrases that change one word", s.path, auc)
		}
	}
}

// wordJaccard is |A∩B| / |A∪B| over the lower-case words of a and b.
func wordJaccard(a, b string) float64 {
	words := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '\'')
		}) {
			m[w] = true
		}
		return m
	}
	wa, wb := words(a), words(b)
	both := 0
	for w := range wa {
		if wb[w] {
			both++
		}
	}
	return float64(both) / float64(len(wa)+len(wb)-both)
}

// overlapAUC is the chance that a random x from hi beats a random y from
// lo, ties counting half.
func overlapAUC(hi, lo []float64) float64 {
	var wins float64
	for _, x := range hi {
		for _, y := range lo {
			switch {
			case x > y:
				wins++
			case x == y:
				wins += 0.5
			}
		}
	}
	return wins / float64(len(hi)*len(lo))
}

func TestOverlapMeasures(t *testing.T) {
	if j := wordJaccard("How do I enable 2FA?", "how do I disable 2FA"); j != 4.0/6 {
		t.Errorf("wordJaccard = %v, want 4/6", j)
	}
	if a := overlapAUC([]float64{0.9, 0.5}, []float64{0.5, 0.1}); a != 0.875 {
		t.Errorf("overlapAUC = %v, want 0.875", a)
	}
}
