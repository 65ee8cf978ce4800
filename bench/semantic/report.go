package main

import (
	"fmt"
	"io"
	"time"

	"github.com/ragproxy/ragproxy/semantic"
)

// evalSummary is one embedder's line of the summary table.
type evalSummary struct {
	name               string
	threshold, suggest float32
	bytes              int
	auc                float64
	llmHit             float64
	sim                [2][3]float64 // per simulation, guards on: precision raw, chains, recall
	dev, test          [2]float64    // guards on: paraphrases hit, contrasts hit
	nsShort, nsBatched time.Duration
}

func evalPrintSummary(w io.Writer, rows []evalSummary) {
	fmt.Fprintln(w, "## Summary (guards on, each embedder at its threshold)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| embedder | threshold | QQP AUC | 300/1000 P raw / R | 5000/15000 P raw / chains / R | LLM paraphrases hit | dev: paraphrases / contrasts hit | test: paraphrases / contrasts hit | a question, one core | batched, CPU | suggested threshold |")
	fmt.Fprintln(w, "|---|---:|---:|---|---|---:|---|---|---:|---:|---:|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %.2f | %.4f | %.3f / %.3f | %.3f / %.3f / %.3f | %.1f%% | %.1f%% / %.1f%% | %.1f%% / %.1f%% | %v | %v | %.2f |\n",
			r.name, r.threshold, r.auc, r.sim[0][0], r.sim[0][2], r.sim[1][0], r.sim[1][1], r.sim[1][2], 100*r.llmHit,
			100*r.dev[0], 100*r.dev[1], 100*r.test[0], 100*r.test[1], r.nsShort.Round(100*time.Nanosecond), r.nsBatched.Round(100*time.Nanosecond), r.suggest)
	}
	fmt.Fprintln(w)
}

// evalSetScore is a hand-written set's cosines and guard verdicts.
type evalSetScore struct {
	pairs []setPair
	cos   []float32
	veto  []semantic.Guard // or "short"
}

func evalSetScores(emb *evalEmbedder, pairs []setPair) *evalSetScore {
	s := &evalSetScore{pairs: pairs, cos: make([]float32, len(pairs)), veto: make([]semantic.Guard, len(pairs))}
	for i, p := range pairs {
		s.cos[i] = semantic.Dot(emb.EmbedOne(p.A), emb.EmbedOne(p.B))
		s.veto[i] = evalVeto(p.A, p.B)
	}
	return s
}

// at returns the shares of paraphrases and of contrasts that hit.
func (s *evalSetScore) at(t float32, guards bool) (para, contrast float64) {
	var np, nc, hp, hc int
	for i, p := range s.pairs {
		hit := s.cos[i] >= t && (!guards || s.veto[i] == semantic.GuardNone)
		if p.Kind == kindParaphrase {
			np++
			if hit {
				hp++
			}
		} else {
			nc++
			if hit {
				hc++
			}
		}
	}
	return evalRatio(hp, np), evalRatio(hc, nc)
}

// evalVeto is what the semantic store does: too short a question never
// matches; otherwise the first guard that vetoes.
func evalVeto(a, b string) semantic.Guard {
	if semantic.TooShort(a) || semantic.TooShort(b) {
		return "too short"
	}
	return semantic.Veto(a, b)
}

// evalGuardEffects prints, for each guard, the pairs above the threshold it
// refuses: on Quora, duplicates (a refusal that costs a hit) against
// non-duplicates (a wrong answer avoided); on the dev set, paraphrases
// against contrasts.
func evalGuardEffects(w io.Writer, pc *evalPairScores, pairs []evalPair, dev *evalSetScore, t float32) {
	type count struct{ right, wrong int }
	quora := map[semantic.Guard]*count{}
	hand := map[semantic.Guard]*count{}
	bump := func(m map[semantic.Guard]*count, g semantic.Guard, right bool) {
		if m[g] == nil {
			m[g] = &count{}
		}
		if right {
			m[g].right++
		} else {
			m[g].wrong++
		}
	}
	for i, c := range pc.cos {
		if c >= t {
			bump(quora, pc.veto[i], pairs[i].Dup)
		}
	}
	for i, c := range dev.cos {
		if c >= t {
			bump(hand, dev.veto[i], dev.pairs[i].Kind == kindParaphrase)
		}
	}
	fmt.Fprintf(w, "### What each guard refuses (pairs with cos ≥ %.2f; the first guard that vetoes)\n\n", t)
	fmt.Fprintln(w, "| guard | QQP duplicates refused | QQP non-duplicates refused | share duplicates | dev paraphrases refused | dev contrasts refused |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
	for _, g := range append([]semantic.Guard{"too short"}, append(semantic.Guards, semantic.GuardNone)...) {
		q, h := quora[g], hand[g]
		if q == nil {
			q = &count{}
		}
		if h == nil {
			h = &count{}
		}
		name := string(g)
		if g == semantic.GuardNone {
			name = "(none: a hit)"
		}
		fmt.Fprintf(w, "| %s | %d | %d | %.2f | %d | %d |\n", name, q.right, q.wrong, evalRatio(q.right, q.right+q.wrong), h.right, h.wrong)
	}
	fmt.Fprintln(w)
}
