package main

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/ragproxy/ragproxy/semantic"
	"github.com/ragproxy/ragproxy/semantic/use"
)

// The semantic-hit scenarios of the built-in encoders ask sameQuestion in
// a new wording on every request: a semantic hit embeds the question it is
// asked, so repeating one paraphrase would measure the embedder's LRU of
// recent vectors, not the embedder. The wordings are the product of these
// lists (25,600 in all); a pool keeps those the embedder matches.
var (
	paraOpenings = []string{"", "So", "Hi,", "Hello,", "Hey,", "Okay,", "Well,", "Quick question:", "Please,", "Sorry,",
		"Hi there,", "Good morning,", "Excuse me,", "Hey there,", "Hmm,", "Right,", "Now,", "Alright,", "Yo,", "Greetings,"}
	paraBodies = []string{
		"what does retrieval-augmented generation add to a language model",
		"what does retrieval-augmented generation add to a language model exactly",
		"what exactly does retrieval-augmented generation add to a language model",
		"what does retrieval-augmented generation really add to a language model",
		"what does retrieval-augmented generation add to a large language model",
		"what is it that retrieval-augmented generation adds to a language model",
		"what does retrieval-augmented generation bring to a language model",
		"what does retrieval augmented generation add to a language model",
	}
	paraEndings = []string{"?", "? Thanks!", "? Thank you.", "? Cheers.", "? Thanks in advance.", "?!", "??", " ?", "? Many thanks.",
		"? Thx.", "? Ta.", "? Much appreciated.", "? Please explain.", "? Curious.", "? Just wondering.", "? TIA.",
		"? Regards.", "? Thanks a lot!", "? Cheers!", "? Best."}
	paraContexts = []string{"", " I am new to this.", " Asking for a project.", " I read about it today.",
		" It came up at work.", " My team wants to know.", " I keep hearing about it.", " Help me understand."}
)

// paraphrasePool returns the wordings of sameQuestion that embed scores at
// least margin above threshold against it and no guard vetoes, so each is
// a semantic hit; fewer than least is an error.
func paraphrasePool(embed func([]string) [][]float32, threshold, margin float32, least int) ([]string, error) {
	var texts []string
	for _, opening := range paraOpenings {
		for _, body := range paraBodies {
			if opening == "" {
				body = string(body[0]-'a'+'A') + body[1:]
			} else {
				body = opening + " " + body
			}
			for _, ending := range paraEndings {
				for _, context := range paraContexts {
					if text := body + ending + context; text != sameQuestion && semantic.Compatible(sameQuestion, text) {
						texts = append(texts, text)
					}
				}
			}
		}
	}
	vecs := embedAll(embed, append(texts, sameQuestion))
	q := vecs[len(texts)]
	var pool []string
	for i, text := range texts {
		if semantic.Dot(q, vecs[i]) >= threshold+margin {
			pool = append(pool, text)
		}
	}
	if len(pool) < least {
		return nil, fmt.Errorf("only %d wordings of the question reach cosine %.2f, want %d", len(pool), threshold+margin, least)
	}
	return pool, nil
}

// embedAll embeds texts in batches on every core.
func embedAll(embed func([]string) [][]float32, texts []string) [][]float32 {
	const batch = 64
	vecs := make([][]float32, len(texts))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(batch)) - batch
				if lo >= len(texts) {
					return
				}
				hi := min(lo+batch, len(texts))
				copy(vecs[lo:hi], embed(texts[lo:hi]))
			}
		}()
	}
	wg.Wait()
	return vecs
}

// rotation hands out a pool's texts in turn, as chat bodies: with more
// texts than an LRU holds, each is evicted before it comes round again.
type rotation struct {
	bodies [][]byte
	next   atomic.Uint64
}

func newRotation(texts []string) *rotation {
	r := &rotation{bodies: make([][]byte, len(texts))}
	for i, t := range texts {
		r.bodies[i] = chatBody(t)
	}
	return r
}

func (r *rotation) body() []byte {
	return r.bodies[(r.next.Add(1)-1)%uint64(len(r.bodies))]
}

// encoderFront is a rag_cache front whose semantic layer uses a built-in
// encoder, with the pool of wordings its scenario asks.
type encoderFront struct {
	embedder string // use or use-static
	url      string
	pool     *rotation
}

// startEncoderFronts builds the wording pools of the semantic-hit-use
// scenarios the run has: for use, more wordings than the embedder's LRU
// holds (caddymodule's useRecentVectors, 10,000), so no hit is served a
// remembered vector.
func startEncoderFronts(scenarios []string) ([]encoderFront, error) {
	var fronts []encoderFront
	if slices.Contains(scenarios, "semantic-hit-use") {
		m, err := use.Load()
		if err != nil {
			return nil, err
		}
		texts, err := paraphrasePool(m.Embed, use.DefaultThreshold, 0.01, 10_001)
		if err != nil {
			return nil, fmt.Errorf("semantic-hit-use: %w", err)
		}
		fronts = append(fronts, encoderFront{embedder: "use", pool: newRotation(texts)})
	}
	if slices.Contains(scenarios, "semantic-hit-use-static") {
		s, err := use.LoadStatic()
		if err != nil {
			return nil, err
		}
		texts, err := paraphrasePool(s.Embed, use.DefaultStaticThreshold, 0.01, 1000)
		if err != nil {
			return nil, fmt.Errorf("semantic-hit-use-static: %w", err)
		}
		fronts = append(fronts, encoderFront{embedder: "use-static", pool: newRotation(texts)})
	}
	return fronts, nil
}
