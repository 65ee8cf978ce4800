package use

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestTokenizerMatchesReference compares Encode with the ids the JavaScript
// reference gave (testdata/tokenizer.js wrote testdata/tokenizer.json).
func TestTokenizerMatchesReference(t *testing.T) {
	raw, err := os.ReadFile("testdata/tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		S   string  `json:"s"`
		IDs []int32 `json:"ids"`
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 50 {
		t.Fatalf("only %d fixture cases", len(cases))
	}
	tok, err := NewTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for _, c := range cases {
		got := tok.Encode(c.S)
		if !slices.Equal(got, c.IDs) && !(len(got) == 0 && len(c.IDs) == 0) {
			bad++
			t.Errorf("Encode(%q) = %v, want %v", c.S, got, c.IDs)
		}
	}
	t.Logf("%d/%d strings match", len(cases)-bad, len(cases))
}

func TestVocab(t *testing.T) {
	pieces, scores := Vocab()
	if len(pieces) != 8000 || len(scores) != len(pieces) {
		t.Fatalf("vocab has %d pieces and %d scores, want 8000", len(pieces), len(scores))
	}
	if pieces[9] != "▁the" || scores[9] != float32(-3.56637144089) {
		t.Errorf("piece 9 = %q %v, want ▁the -3.56637144089", pieces[9], scores[9])
	}
	if pieces[57] != ":" || scores[57] != 0 {
		t.Errorf("piece 57 = %q %v, want \":\" with its null score as 0", pieces[57], scores[57])
	}
	pieces[9] = "changed"
	if p, _ := Vocab(); p[9] != "▁the" {
		t.Error("Vocab returned shared slices")
	}
}

func TestTokenizerConcurrent(t *testing.T) {
	tok, err := NewTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	want := tok.Encode(strings.Repeat("What is RAG? ", 20))
	done := make(chan []int32)
	for range 8 {
		go func() { done <- tok.Encode(strings.Repeat("What is RAG? ", 20)) }()
	}
	for range 8 {
		if got := <-done; !slices.Equal(got, want) {
			t.Errorf("concurrent Encode = %v, want %v", got, want)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	tok, err := NewTokenizer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		tok.Encode("How do I reset my password if I lost access to my email?")
	}
}
