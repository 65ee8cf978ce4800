package use

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/ragproxy/ragproxy/semantic"
)

func loadStaticT(tb testing.TB) *Static {
	tb.Helper()
	s, err := LoadStatic()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// TestStaticShippedFile checks the embedded table covers the whole
// embedding table of the encoder with the documented width.
func TestStaticShippedFile(t *testing.T) {
	s := loadStaticT(t)
	if s.Dim() != 128 {
		t.Fatalf("Dim = %d, want 128", s.Dim())
	}
	if len(s.scales) != 8002 || len(s.rows) != 8002*s.Dim() {
		t.Fatalf("%d rows, %d values", len(s.scales), len(s.rows))
	}
}

// TestStaticParaphrasesAboveUnrelated checks that every paraphrase pair
// scores above every pair of unrelated questions.
func TestStaticParaphrasesAboveUnrelated(t *testing.T) {
	s := loadStaticT(t)
	para := [][2]string{
		{"What is RAG?", "Can you explain what RAG is?"},
		{"How do I reset my password?", "How can I reset my password?"},
		{"What is the capital of France?", "Which city is the capital of France?"},
		{"How do I learn to play the guitar?", "What is the best way to learn guitar?"},
	}
	unrelated := [][2]string{
		{"What is RAG?", "How do I bake sourdough bread?"},
		{"How do I reset my password?", "What is the capital of France?"},
		{"How do I learn to play the guitar?", "Why is the sky blue?"},
		{"Should I enable two-factor authentication?", "What do cats eat?"},
	}
	lowPara, highUnrel := float32(2), float32(-2)
	for _, p := range para {
		c := semantic.Dot(s.EmbedOne(p[0]), s.EmbedOne(p[1]))
		t.Logf("paraphrase %.3f %q %q", c, p[0], p[1])
		lowPara = min(lowPara, c)
	}
	for _, p := range unrelated {
		c := semantic.Dot(s.EmbedOne(p[0]), s.EmbedOne(p[1]))
		t.Logf("unrelated  %.3f %q %q", c, p[0], p[1])
		highUnrel = max(highUnrel, c)
	}
	if lowPara <= highUnrel {
		t.Fatalf("lowest paraphrase cosine %.3f <= highest unrelated %.3f", lowPara, highUnrel)
	}
}

// TestStaticVectors checks unit length, the zero vector for empty text, and
// that Embed agrees with EmbedOne.
func TestStaticVectors(t *testing.T) {
	s := loadStaticT(t)
	texts := []string{"What is RAG?", "", "über naïve café ☕", strings.Repeat("long question ", 50)}
	batch := s.Embed(texts)
	for i, text := range texts {
		one := s.EmbedOne(text)
		if len(one) != s.Dim() || len(batch[i]) != s.Dim() {
			t.Fatalf("%q: lengths %d, %d", text, len(one), len(batch[i]))
		}
		for j := range one {
			if one[j] != batch[i][j] {
				t.Fatalf("%q: Embed and EmbedOne differ at %d", text, j)
			}
		}
		n := math.Sqrt(float64(semantic.Dot(one, one)))
		if text == "" {
			if n != 0 {
				t.Fatalf("empty text: norm %v, want 0", n)
			}
		} else if math.Abs(n-1) > 1e-5 {
			t.Fatalf("%q: norm %v, want 1", text, n)
		}
	}
}

// TestStaticConcurrent embeds from several goroutines (meaningful under
// -race) and checks each result equals the sequential one.
func TestStaticConcurrent(t *testing.T) {
	s := loadStaticT(t)
	texts := make([]string, 64)
	for i := range texts {
		texts[i] = fmt.Sprintf("question number %d about topic %d?", i, i*7)
	}
	want := s.Embed(texts)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range texts {
				i := (k + g*8) % len(texts)
				got := s.EmbedOne(texts[i])
				for j := range got {
					if got[j] != want[i][j] {
						errs <- fmt.Sprintf("goroutine %d text %d differs", g, i)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestDecodeStaticRejectsCorrupt checks a bad magic and a wrong length fail.
func TestDecodeStaticRejectsCorrupt(t *testing.T) {
	if _, err := decodeStatic("NOTMAGIC" + staticFile[8:]); err == nil {
		t.Error("bad magic accepted")
	}
	if _, err := decodeStatic(staticFile[:len(staticFile)-1]); err == nil {
		t.Error("truncated file accepted")
	}
	if _, err := decodeStatic(staticFile); err != nil {
		t.Errorf("shipped file rejected: %v", err)
	}
}

// BenchmarkStaticEmbedOne measures one question, short (8 pieces) and long
// (60 pieces): the questions of model_test.go's transformer benchmarks, so
// the figures compare; ns/op is ns per question.
func BenchmarkStaticEmbedOne(b *testing.B) {
	s := loadStaticT(b)
	for _, c := range []struct{ name, text string }{
		{"short", shortQuestion},
		{"long", longQuestion},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.EmbedOne(c.text)
			}
		})
	}
}

// BenchmarkStaticSumRows measures the table part alone (the long question,
// tokenised beforehand); ns/op is per question.
func BenchmarkStaticSumRows(b *testing.B) {
	s := loadStaticT(b)
	ids := s.tok.Encode(longQuestion)
	dst := make([]float32, s.Dim())
	for b.Loop() {
		clear(dst)
		s.sumRows(dst, ids)
	}
	b.ReportMetric(float64(len(ids)), "pieces")
}
