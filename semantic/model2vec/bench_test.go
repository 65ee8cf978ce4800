package model2vec

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ragproxy/ragproxy/semantic/model2vec/model2vectest"
)

// BenchmarkEmbedOne embeds a typical question with a model the size of
// potion-base-8M (about 30,000 tokens × 256 dimensions, float32).
func BenchmarkEmbedOne(b *testing.B) {
	const vocab, dim = 30000, 256
	questions := []string{
		"How do I reset my password on the website?",
		"What is the refund policy for annual subscriptions purchased in Europe?",
		"Can you explain the difference between TCP and UDP, with examples?",
		"Café opening hours in Zürich on public holidays?",
	}
	tokens := append([]string(nil), testTokens...)
	seen := map[string]bool{}
	for _, t := range tokens {
		seen[t] = true
	}
	for _, q := range questions {
		for _, w := range strings.Fields(strings.ToLower(q)) {
			w = strings.Trim(w, "?,.")
			if len(w) > 4 { // long words become a stem and a ## piece
				for _, p := range []string{w[:3], "##" + w[3:]} {
					if !seen[p] {
						seen[p] = true
						tokens = append(tokens, p)
					}
				}
			} else if !seen[w] {
				seen[w] = true
				tokens = append(tokens, w)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for len(tokens) < vocab {
		t := fmt.Sprintf("%c%c%c%c%d", 'a'+rng.IntN(26), 'a'+rng.IntN(26), 'a'+rng.IntN(26), 'a'+rng.IntN(26), len(tokens))
		tokens = append(tokens, t, "##"+t)
	}
	vecs := make([][]float32, len(tokens))
	for i := range vecs {
		vecs[i] = make([]float32, dim)
		for j := range vecs[i] {
			vecs[i][j] = rng.Float32() - 0.5
		}
	}
	m, _ := writeTestModel(b, model2vectest.Spec{Tokens: tokens, Vectors: vecs})
	for _, q := range questions {
		if ids, _ := m.tokenIDs(q); len(ids) < 5 {
			b.Fatalf("%q: too few known tokens for a fair benchmark: %q", q, pieces(m, q))
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		m.EmbedOne(questions[i%len(questions)])
	}
}
