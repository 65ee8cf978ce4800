package semantic

import (
	"hash/maphash"
	"strings"
	"sync/atomic"

	"github.com/kljensen/snowball/english"
)

// Stem reduces a lowercased word to its Porter2 (Snowball English) stem, so
// inflections compare equal: "enabled", "enables" and "enabling" are all
// "enabl". The contrast guard and its lexicon speak in stems.
//
// Stemming was a third of the guards' time on every lookup, and questions
// reuse few words, so recent stems are remembered: a direct-mapped table of
// stemSlots entries, each replaced whole (an atomic pointer), so readers
// never lock and memory stays bounded.
func Stem(word string) string {
	if len(word) > maxStemmedLen {
		return english.Stem(word, true)
	}
	slot := &stemSlots[maphash.String(stemSeed, word)%uint64(len(stemSlots))]
	if e := slot.Load(); e != nil && e.word == word {
		return e.stem
	}
	stem := english.Stem(word, true)
	slot.Store(&stemEntry{word: strings.Clone(word), stem: stem})
	return stem
}

// maxStemmedLen bounds the words Stem remembers: longer ones are rare, and
// a client's made-up words must not pin much memory.
const maxStemmedLen = 32

type stemEntry struct{ word, stem string }

var (
	stemSeed  = maphash.MakeSeed()
	stemSlots [4096]atomic.Pointer[stemEntry]
)

// functionWords carry the shape of a question, not what it asks about:
// which words two questions swap among these never makes them different
// questions ("how do I" and "how can I", "what" and "which", "is it
// possible to"). Words that are small but change the answer ("before",
// "after", "on", "off", "up", "down", "all", "some", "first", "last") are
// not here; the contrast lexicon knows them.
var functionWords = wordSet(`
a an the this that these those there here
i me my mine myself we us our ours you your yours yourself he him his she her hers it its they them their theirs
one someone somebody something anyone anybody anything everyone everything
is am are was were be been being do does did doing done have has had having
can could may might must shall should will would
what which who whom whose when where why how whether if
and or but so than then also too either neither
of to for with at by from into onto about as like via per
please kindly just really actually exactly basically simply quite very much many more most
possible possibly able way ways method methods thing things stuff
tell know let explain describe mean means meant meaning definition define
want wants wanted need needs needed wish try trying
get gets got getting go goes going make makes made making
help helps
anyway else ever any
whats hows whos wheres whys im ive id ill youre youve weve theyre
in on at into onto upon within during through throughout across along among between toward towards
some few several lot lots still yet already even only own such other another each every
best good better great top greatest favorite favourite ideal effective proper right correct nice
important necessary significant main major common usual typical general overall actual real
easiest easy easier simplest simple quickest fastest
hello hi hey thanks thank okay ok fine allowed permitted
`)

func wordSet(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// ContentStems returns the stems of the words of q that carry its content:
// lowercased, split at anything but letters and digits (apostrophes join),
// function words dropped, each stem once, in order of first appearance.
func ContentStems(q string) []string {
	f := guardAnalyze(q)
	return f.content
}
