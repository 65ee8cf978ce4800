package semantic

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
)

func localNorm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func TestLocalDim(t *testing.T) {
	if got := NewLocal(0).Dim(); got != localDefaultDim {
		t.Errorf("NewLocal(0).Dim() = %d, want %d", got, localDefaultDim)
	}
	if got := NewLocal(-3).Dim(); got != localDefaultDim {
		t.Errorf("NewLocal(-3).Dim() = %d, want %d", got, localDefaultDim)
	}
	for _, dim := range []int{1, 7, 256, 384, 1024} {
		l := NewLocal(dim)
		if l.Dim() != dim {
			t.Errorf("NewLocal(%d).Dim() = %d", dim, l.Dim())
		}
		if v := l.EmbedOne("How can I reset my password?"); len(v) != dim {
			t.Errorf("dim %d: len(EmbedOne) = %d", dim, len(v))
		}
	}
}

func TestLocalUnitLength(t *testing.T) {
	l := NewLocal(0)
	for _, s := range []string{
		"How can I reset my password?",
		"a",
		"x",
		"42",
		"3.14159 is pi, 1,000 is a thousand",
		"ÉCOLE Straße İstanbul naïve café",
		"日本語のテキストも埋め込めますか",
		"مرحبا كيف حالك",
		"emoji 🙂 and tabs\tand\nnewlines",
		"repeat repeat repeat repeat repeat repeat repeat repeat repeat repeat",
		"what's what’s whatʼs",
	} {
		v := l.EmbedOne(s)
		if n := localNorm(v); math.Abs(n-1) > 1e-4 {
			t.Errorf("|EmbedOne(%q)| = %v, want 1", s, n)
		}
		for _, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("EmbedOne(%q) has %v", s, x)
			}
		}
	}
}

func TestLocalEmpty(t *testing.T) {
	l := NewLocal(0)
	for _, s := range []string{"", "   ", "?!?", "... --- ///", "\t\n", "'’`"} {
		v := l.EmbedOne(s)
		if len(v) != l.Dim() {
			t.Fatalf("len(EmbedOne(%q)) = %d", s, len(v))
		}
		for _, x := range v {
			if x != 0 {
				t.Fatalf("EmbedOne(%q) is not all zero", s)
			}
		}
		if d := Dot(v, l.EmbedOne("How can I reset my password?")); d != 0 {
			t.Errorf("Dot(empty, question) = %v", d)
		}
	}
}

func TestLocalDeterministic(t *testing.T) {
	a, b := NewLocal(0), NewLocal(0)
	const q = "What is the best way to learn Go in 2024?"
	v1, v2, v3 := a.EmbedOne(q), a.EmbedOne(q), b.EmbedOne(q)
	for i := range v1 {
		if v1[i] != v2[i] || v1[i] != v3[i] {
			t.Fatalf("EmbedOne not deterministic at %d: %v %v %v", i, v1[i], v2[i], v3[i])
		}
	}
	// Concurrent calls share pooled buffers: they must not mix.
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			text := []string{q, "How can I reset my password?", "", "ÉCOLE 123"}[g%4]
			want := a.EmbedOne(text)
			for range 200 {
				got := a.EmbedOne(text)
				for i := range got {
					if got[i] != want[i] {
						t.Errorf("concurrent EmbedOne(%q) differs at %d", text, i)
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
}

func TestLocalNormalisation(t *testing.T) {
	l := NewLocal(0)
	same := [][2]string{
		{"How can I reset my password?", "how can i reset my password"},
		{"How can I reset my password?", "  HOW   can I\treset my password!!! "},
		{"What's new?", "whats new"},
		{"Straße in MÜNCHEN", "straße in münchen"},
		{"version 1.5 released", "Version 1.5 released."},
		{"costs 1,000 dollars", "costs 1000 dollars"},
	}
	for _, p := range same {
		if d := Dot(l.EmbedOne(p[0]), l.EmbedOne(p[1])); d < 0.9999 {
			t.Errorf("cos(%q, %q) = %v, want 1", p[0], p[1], d)
		}
	}
	// Digits are kept, and a decimal point between digits too.
	differ := [][2]string{
		{"top 5 movies", "top 10 movies"},
		{"version 1.5", "version 15"},
	}
	for _, p := range differ {
		if d := Dot(l.EmbedOne(p[0]), l.EmbedOne(p[1])); d > 0.999 {
			t.Errorf("cos(%q, %q) = %v, want < 1", p[0], p[1], d)
		}
	}
}

func TestLocalParaphraseScoresHigher(t *testing.T) {
	l := NewLocal(0)
	cases := []struct{ q, para, other string }{
		{"How can I reset my password?", "How do I reset my password?", "What is the capital of France?"},
		{"What is the best way to learn Python?", "How should I learn Python?", "How do I reset my password?"},
		{"How do I lose weight fast?", "What is the fastest way to lose weight?", "How do I learn to play the guitar?"},
		{"Why is the sky blue?", "Why does the sky look blue?", "Why is the ocean salty?"},
		{"Transformers is a state-of-the-art machine learning library for Pytorch, TensorFlow, and JAX.",
			"Transformers is a cutting-edge machine learning library for Pytorch, TensorFlow, and JAX.",
			"Hugging Face Hub is a platform to host Git-based models, datasets, and Spaces."},
	}
	for _, c := range cases {
		q := l.EmbedOne(c.q)
		sp, so := Dot(q, l.EmbedOne(c.para)), Dot(q, l.EmbedOne(c.other))
		if sp <= so {
			t.Errorf("%q: paraphrase %.3f <= unrelated %.3f", c.q, sp, so)
		}
	}
	// The headline paraphrase clears the shipped threshold; unrelated
	// questions stay far below it.
	a, b := l.EmbedOne("How can I reset my password?"), l.EmbedOne("How do I reset my password?")
	if d := Dot(a, b); d < DefaultLocalThreshold {
		t.Errorf("cos(paraphrase) = %.3f < DefaultLocalThreshold %.2f", d, DefaultLocalThreshold)
	}
	if d := Dot(a, l.EmbedOne("What is the capital of France?")); d > DefaultLocalThreshold/2 {
		t.Errorf("cos(unrelated) = %.3f, want well below the threshold", d)
	}
}

func TestLocalEmbed(t *testing.T) {
	l := NewLocal(128)
	texts := []string{"How can I reset my password?", "", "Why is the sky blue?"}
	vs, err := l.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != len(texts) {
		t.Fatalf("len = %d", len(vs))
	}
	for i, s := range texts {
		want := l.EmbedOne(s)
		for j := range want {
			if vs[i][j] != want[j] {
				t.Fatalf("Embed[%d] != EmbedOne", i)
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Embed(ctx, texts); !errors.Is(err, context.Canceled) {
		t.Errorf("Embed(cancelled) err = %v", err)
	}
}

func TestDot(t *testing.T) {
	a := []float32{1, 2, 3, 4, 5}
	b := []float32{5, 4, 3, 2, 1}
	if got := Dot(a, b); got != 35 {
		t.Errorf("Dot = %v, want 35", got)
	}
	if got := Dot(a, b[:2]); got != 13 {
		t.Errorf("Dot(common prefix) = %v, want 13", got)
	}
	if got := Dot(nil, b); got != 0 {
		t.Errorf("Dot(nil) = %v", got)
	}
	v := NewLocal(0).EmbedOne("How can I reset my password?")
	if d := Dot(v, v); math.Abs(float64(d)-1) > 1e-5 {
		t.Errorf("Dot(v, v) = %v", d)
	}
}

func BenchmarkLocalEmbed(b *testing.B) {
	const q = "How can I reset my password when I no longer have the email?" // 60 characters
	l := NewLocal(0)
	b.ReportAllocs()
	b.SetBytes(int64(len(q)))
	for b.Loop() {
		l.EmbedOne(q)
	}
}

func BenchmarkLocalEmbedLong(b *testing.B) {
	q := "Transformers is a state-of-the-art machine learning library for Pytorch, TensorFlow, and JAX. " +
		"It provides thousands of pretrained models to perform tasks on different modalities such as text, vision, and audio."
	l := NewLocal(0)
	b.ReportAllocs()
	b.SetBytes(int64(len(q)))
	for b.Loop() {
		l.EmbedOne(q)
	}
}
