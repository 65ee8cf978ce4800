package use

import (
	"testing"
	"unicode/utf8"
)

// FuzzEncode: any input, valid UTF-8 or not, gives ids of the vocabulary,
// never two unknowns in a row, and none for the empty string.
func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", " ", "What is RAG?", "\xff\xfe", "a\u0301", "😀😀", ":-)", "”5”5", "\u2581\u2581"} {
		f.Add(s)
	}
	tok, err := NewTokenizer()
	if err != nil {
		f.Fatal(err)
	}
	pieces, _ := Vocab()
	f.Fuzz(func(t *testing.T, s string) {
		ids := tok.Encode(s)
		if s == "" && len(ids) != 0 {
			t.Fatalf("Encode(\"\") = %v", ids)
		}
		if s != "" && len(ids) == 0 {
			t.Fatalf("Encode(%q) gave no ids", s)
		}
		for i, id := range ids {
			if id < 0 || int(id) >= len(pieces) || (id > 0 && id < reservedPieces) {
				t.Fatalf("Encode(%q) gave id %d", s, id)
			}
			if i > 0 && id == 0 && ids[i-1] == 0 {
				t.Fatalf("Encode(%q) = %v: unknowns not merged", s, ids)
			}
		}
		if utf8.ValidString(s) && len(ids) > utf8.RuneCountInString(s)*18+1 {
			t.Fatalf("Encode(%q) gave %d ids", s, len(ids))
		}
	})
}
