package use

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

const (
	shortQuestion = "How do I reset my password?" // 8 tokens
	longQuestion  = "I have been trying to connect my account to the reporting dashboard for two days, " +
		"but every time I paste the API key the page says the key is invalid, even though it works " +
		"from the command line; what exactly am I doing wrong and how can I fix it?" // 60 tokens
)

func TestBenchmarkQuestionLengths(t *testing.T) {
	m := testModel(t)
	if n := len(m.tok.Encode(shortQuestion)); n != 8 {
		t.Errorf("short question has %d tokens, want 8", n)
	}
	if n := len(m.tok.Encode(longQuestion)); n != 60 {
		t.Errorf("long question has %d tokens, want 60", n)
	}
}

// TestClipToMaxLength: only the first 128 tokens count, as in the graph.
func TestClipToMaxLength(t *testing.T) {
	m := testModel(t)
	base := strings.Repeat("alpha beta gamma delta ", 40) // well over 128 tokens
	if n := len(m.tok.Encode(base)); n <= maxTokens {
		t.Fatalf("text has only %d tokens", n)
	}
	a := m.EmbedOne(base)
	b := m.EmbedOne(base + " and then something entirely different about databases")
	if c := cosine(a, b); c < 0.999999 {
		t.Errorf("tokens past 128 changed the vector: cosine %v", c)
	}
	short := m.EmbedOne("alpha beta gamma delta")
	if c := cosine(a, short); c > 0.9999 {
		t.Errorf("clipped and short texts agree too well (%v): clipping at the wrong place?", c)
	}
}

// TestEmbedShape: unit vectors of Dim(), batch order kept, batch
// independent of companions and of the chunk boundaries.
func TestEmbedShape(t *testing.T) {
	m := testModel(t)
	texts := []string{"What is RAG?", "", "Can you explain what RAG is?", strings.Repeat("word ", 300)}
	for range 6 { // enough tokens for several forward chunks
		texts = append(texts, texts[3])
	}
	texts = append(texts, "What is RAG?")
	vs := m.Embed(texts)
	if len(vs) != len(texts) {
		t.Fatalf("%d vectors for %d texts", len(vs), len(texts))
	}
	for i, v := range vs {
		if len(v) != m.Dim() || m.Dim() != 512 {
			t.Fatalf("vector %d has %d floats, Dim %d", i, len(v), m.Dim())
		}
		var ss float64
		for _, x := range v {
			ss += float64(x) * float64(x)
		}
		if math.Abs(ss-1) > 1e-5 {
			t.Errorf("vector %d has norm² %v", i, ss)
		}
		if one := m.EmbedOne(texts[i]); cosine(one, v) < 0.99999 {
			t.Errorf("text %d alone and in a batch differ: %v", i, cosine(one, v))
		}
	}
	if c := cosine(vs[0], vs[len(vs)-1]); c < 0.99999 {
		t.Errorf("same text at both ends of a batch: cosine %v", c)
	}
	if c := cosine(vs[0], vs[2]); c < 0.5 || c > 0.99 {
		t.Errorf("paraphrases: cosine %v, want similar but not equal", c)
	}
	if len(m.Embed(nil)) != 0 {
		t.Error("Embed(nil) returned vectors")
	}
}

// TestEmbedParallelSplit: a batch split across goroutines gives each text
// the vector it has alone.
func TestEmbedParallelSplit(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	m := testModel(t)
	var texts []string
	for i := range 40 {
		texts = append(texts, fmt.Sprintf("question %d: %s", i, []string{shortQuestion, longQuestion, "", "What is RAG?"}[i%4]))
	}
	vs := m.Embed(texts)
	for i, v := range vs {
		if c := cosine(v, m.EmbedOne(texts[i])); c < 0.99999 {
			t.Errorf("text %d: batch and alone differ: cosine %v", i, c)
		}
	}
}

func TestEmbedConcurrent(t *testing.T) {
	m := testModel(t)
	texts := []string{shortQuestion, longQuestion, "What is RAG?"}
	want := m.Embed(texts)
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				got := m.Embed(texts[g%3:])
				for i, v := range got {
					if c := cosine(v, want[g%3+i]); c < 0.999999 {
						errs <- fmt.Sprintf("goroutine %d text %d: cosine %v", g, g%3+i, c)
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

// TestEmbedAllocations: after warm-up a call allocates its result only.
func TestEmbedAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	m := testModel(t)
	texts := []string{shortQuestion, longQuestion, shortQuestion, longQuestion}
	m.Embed(texts)
	if a := testing.AllocsPerRun(20, func() { m.Embed(texts) }); a > 4 {
		t.Errorf("Embed allocates %v times per call", a)
	}
}

func benchEmbed(b *testing.B, text string, batch int) {
	m := testModel(b)
	texts := make([]string, batch)
	for i := range texts {
		texts[i] = text
	}
	m.Embed(texts)
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	for b.Loop() {
		m.Embed(texts)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/question")
	b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N*batch), "cpu-ns/question")
}

func BenchmarkEmbedShort1(b *testing.B)  { benchEmbed(b, shortQuestion, 1) }
func BenchmarkEmbedShort8(b *testing.B)  { benchEmbed(b, shortQuestion, 8) }
func BenchmarkEmbedShort32(b *testing.B) { benchEmbed(b, shortQuestion, 32) }
func BenchmarkEmbedLong1(b *testing.B)   { benchEmbed(b, longQuestion, 1) }
func BenchmarkEmbedLong8(b *testing.B)   { benchEmbed(b, longQuestion, 8) }
func BenchmarkEmbedLong32(b *testing.B)  { benchEmbed(b, longQuestion, 32) }

// BenchmarkEmbedParallel: concurrent single-question calls, the proxy's
// pattern (run with -cpu 1,2).
func BenchmarkEmbedParallel(b *testing.B) {
	m := testModel(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.EmbedOne(shortQuestion)
		}
	})
}

// TestLoadAliasesEmbeddedFile: the weights are read in place from the
// embedded file, not copied to the heap.
func TestLoadAliasesEmbeddedFile(t *testing.T) {
	m, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	lo := uintptr(unsafe.Pointer(unsafe.StringData(modelFile)))
	hi := lo + uintptr(len(modelFile))
	for name, p := range map[string]unsafe.Pointer{
		"embeddings": unsafe.Pointer(&m.emb.f16[0]),
		"ffn1":       unsafe.Pointer(&m.layers[1].ffn1.w.f16[0]),
		"ffn1 bias":  unsafe.Pointer(&m.layers[1].ffn1.b[0]),
	} {
		if a := uintptr(p); a < lo || a >= hi {
			t.Errorf("%s was copied out of the embedded file", name)
		}
	}
	if m.Storage() != "f16" {
		t.Errorf("embedded storage %s, want f16", m.Storage())
	}
}
