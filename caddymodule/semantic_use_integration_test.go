package caddymodule_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ragproxy/ragproxy/internal/mockupstream"
)

// The built-in sentence encoders through a real Caddy: the demo's
// paraphrase hits, a one-word contrast is vetoed and counted, and a
// question longer than the transformer reads never matches by meaning.
func TestUseEmbedders(t *testing.T) {
	for _, c := range []struct{ name, question, paraphrase string }{
		{"use", "What is RAG?", "Can you explain what RAG is?"},
		{"use-static", "How do I reset my password on the website?", "How can I reset my password on the website?"},
	} {
		name := c.name
		t.Run(name, func(t *testing.T) {
			mock, upstream := startMock(t, mockupstream.Options{})
			p := startCaddy(t, semanticSite(upstream, fmt.Sprintf("{\n\t\t\tembedder %s\n\t\t}", name)))
			client := newClient(p, "tenant-a")
			contrast := p.counter("ragproxy_semantic_vetoes_total", `cache="semantic_test"`, `guard="contrast"`)

			first, r1 := ask(t, client, chatParams(c.question))
			second, r2 := ask(t, client, chatParams(c.paraphrase))
			if r1.Header.Get("X-Cache") != "MISS" || r2.Header.Get("X-Cache") != "SEMANTIC-HIT" || second.ID != first.ID {
				t.Fatalf("X-Cache = %s then %s (similarity %s), want MISS then SEMANTIC-HIT with the cached answer",
					r1.Header.Get("X-Cache"), r2.Header.Get("X-Cache"), r2.Header.Get("X-Cache-Similarity"))
			}

			ask(t, client, chatParams("Should I enable two-factor authentication?"))
			if _, r := ask(t, client, chatParams("Should I disable two-factor authentication?")); r.Header.Get("X-Cache") != "MISS" {
				t.Errorf("disable after enable: X-Cache = %q, want MISS", r.Header.Get("X-Cache"))
			}
			if contrast() != 1 {
				t.Errorf("contrast vetoes = %v, want 1 (the two scored above the threshold: the guard refused them)", contrast())
			}
			if mock.Calls() != 3 {
				t.Errorf("upstream calls = %d, want 3", mock.Calls())
			}
		})
	}
}

func TestUseSkipsQuestionsLongerThanItReads(t *testing.T) {
	_, upstream := startMock(t, mockupstream.Options{})
	p := startCaddy(t, semanticSite(upstream, "{\n\t\t\tembedder use\n\t\t}"))
	client := newClient(p, "tenant-a")
	errors := p.counter("ragproxy_semantic_lookups_total", `cache="semantic_test"`, `result="error"`)
	// Two questions equal for their first 140 words, then different: with
	// the text cut at 128 tokens they would embed the same.
	long := strings.Repeat("please explain the refund policy in detail ", 20) // 140 words: under MaxQueryWords, over 128 tokens
	ask(t, client, chatParams(long+"for shoes?"))
	if _, r := ask(t, client, chatParams(long+"for jackets?")); r.Header.Get("X-Cache") != "MISS" {
		t.Errorf("long questions differing past the cut: X-Cache = %q, want MISS", r.Header.Get("X-Cache"))
	}
	if errors() != 2 {
		t.Errorf("semantic lookups skipped as errors = %v, want 2", errors())
	}
}

// A question of more words than the guards compare is never matched by
// meaning: the pairwise word comparisons stay bounded whatever a client
// sends.
func TestSemanticSkipsQuestionsOfTooManyWords(t *testing.T) {
	_, upstream := startMock(t, mockupstream.Options{})
	p := startCaddy(t, semanticSite(upstream, "{\n\t\t\tthreshold 0.5\n\t\t}"))
	client := newClient(p, "tenant-a")
	skipped := p.counter("ragproxy_semantic_lookups_total", `cache="semantic_test"`, `result="skipped"`)
	long := strings.Repeat("how do refunds work for orders ", 60) // 300 words
	ask(t, client, chatParams(long+"today?"))
	if _, r := ask(t, client, chatParams(long+"now?")); r.Header.Get("X-Cache") != "MISS" {
		t.Errorf("X-Cache = %q, want MISS", r.Header.Get("X-Cache"))
	}
	if skipped() != 2 {
		t.Errorf("semantic lookups skipped = %v, want 2", skipped())
	}
}
