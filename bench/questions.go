package main

import (
	_ "embed"
	"strings"
	"sync/atomic"
)

// realDistinctBody is distinctBody with questions that differ in their
// words, not only in a number: the pipeline-miss scenario asks one on
// every request. distinctBody's questions ("Question #N: what does the
// retrieval step return?") are all near-duplicates of each other (cosine
// 0.88-0.94 under the local embedder): every one scores above the
// threshold against every cached one and is vetoed by the number guard,
// so each miss scores the whole index, a case no index can search in
// less than a scan. Real traffic's new questions are mostly far from
// each other; these are too, and every one is still new: 3 nouns in a
// template of stop words, no two questions sharing more than one noun
// (realQuestion; TestRealQuestionsAreMisses: the first 30,000 are all
// semantic misses).
func realDistinctBody() []byte {
	return chatBody(realQuestion(realQuestions.Add(1) - 1))
}

var realQuestions atomic.Int64

//go:embed nouns.txt
var nounsTxt string

var nouns = func() []string {
	var ws []string
	for _, l := range strings.Split(nounsTxt, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			ws = append(ws, l)
		}
	}
	return ws
}()

// questionTemplates are made of stop words only (the local embedder's
// list), so that the nouns make the question.
var questionTemplates = [8][4]string{
	{"What is the ", " of the ", " in a ", "?"},
	{"How can a ", " with a ", " get to the ", "?"},
	{"Why does the ", " of my ", " have a ", "?"},
	{"Where is the ", " for the ", " at the ", "?"},
	{"Which ", " should I get from the ", " of a ", "?"},
	{"Who has the ", " and the ", " of the ", "?"},
	{"When can my ", " be at the ", " of our ", "?"},
	{"Is there a ", " on the ", " of your ", "?"},
}

// realQuestion returns question n (from 0). Each slot draws from its own
// third of the nouns, and the slots are an arithmetic progression modulo
// the prime questionP, (u, u+v, u+2v) for n = u + p(v-1): two questions
// share at most one noun, and that in the same slot, so none is the other
// with a word or two changed (which the local embedder could score above
// the threshold). Distinct for n below p(p-1) = 457,652.
func realQuestion(n int64) string {
	const p = questionP
	k := n % (p * (p - 1))
	u, v := k%p, 1+k/p
	t := questionTemplates[(u+v)%int64(len(questionTemplates))]
	a, b, c := nouns[u], nouns[p+(u+v)%p], nouns[2*p+(u+2*v)%p]
	return t[0] + a + t[1] + b + t[2] + c + t[3]
}

// questionP is the largest prime with 3p ≤ 2,048 nouns.
const questionP = 677
