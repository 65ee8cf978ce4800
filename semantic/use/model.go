package use

import (
	"fmt"
	"runtime"
	"sync"
)

// Shape of the model, as the graph has it.
const (
	embedDim  = 256 // token embeddings and layer 0's input
	modelDim  = 512 // layer outputs, pooled vector, output
	ffnDim    = 1536
	numHeads  = 4
	vocabRows = 8002
	// maxTokens is the graph's ClipToMaxLength: tokens at positions 128
	// and beyond are dropped, so a long text is embedded from its start.
	maxTokens = 128
	// chunkTokens bounds the tokens of one forward pass, and so the scratch
	// memory, however many texts a call passes.
	chunkTokens = 512
	// parallelTokens is the least work worth a goroutine of its own.
	parallelTokens = 128
)

// Model is Universal Sentence Encoder lite. It is immutable and safe for
// concurrent use; scratch memory is pooled.
type Model struct {
	tok    *Tokenizer
	emb    matrix    // [vocabRows][embedDim]
	invTS  []float32 // the timing signal's inverse timescales, [embedDim/2]
	layers [2]layer
	head   linear // tanh_layer_0
	bufs   sync.Pool
}

// layer is one transformer layer with pre-layer-norm, as in the graph.
type layer struct {
	in, heads  int
	attnLN     layerNormParams
	qkv, out   linear
	adjust     *linear // layer 0 projects its input to 512 for the residual
	qScale     float32
	ffnLN      layerNormParams
	ffn1, ffn2 linear
}

// linear is x·W + b.
type linear struct {
	w matrix
	b []float32
}

// layerNormParams is a layer norm's scale and bias.
type layerNormParams struct{ scale, bias []float32 }

var (
	loadOnce sync.Once
	loaded   *Model
	loadErr  error
)

// Load returns the model decoded from the embedded file, once per process.
func Load() (*Model, error) {
	loadOnce.Do(func() {
		ts, err := files()
		if err != nil {
			loadErr = err
			return
		}
		loaded, loadErr = newModel(ts)
	})
	return loaded, loadErr
}

// Dim is the length of the vectors Embed returns.
func (m *Model) Dim() int { return modelDim }

// Storage names how the matrices are stored ("f16", "i8" or "f32").
func (m *Model) Storage() string { return m.head.w.storage() }

// Tokenizer returns the model's tokenizer.
func (m *Model) Tokenizer() *Tokenizer { return m.tok }

// newModel builds a model from a parsed model file.
func newModel(ts map[string]tensor) (*Model, error) {
	v, err := decodeVocab(ts)
	if err != nil {
		return nil, err
	}
	m := &Model{tok: newTokenizer(v)}
	m.bufs.New = func() any { return new(scratch) }
	for name, want := range map[string]int32{"max_length": maxTokens, "heads": numHeads, "layer0/head_dim": embedDim / numHeads, "layer1/head_dim": modelDim / numHeads} {
		t, ok := ts[name]
		if !ok || t.check(name, dtI32, 1) != nil || t.asI32()[0] != want {
			return nil, fmt.Errorf("use: the model's %s is not %d", name, want)
		}
	}
	if m.emb, err = loadMatrix(ts, "embeddings", vocabRows, embedDim, true); err != nil {
		return nil, err
	}
	if m.invTS, err = loadVector(ts, "timing/inv_timescales", embedDim/2); err != nil {
		return nil, err
	}
	lin := func(name string, in, out int) (linear, error) {
		w, err := loadMatrix(ts, name+"/kernel", in, out, false)
		if err != nil {
			return linear{}, err
		}
		b, err := loadVector(ts, name+"/bias", out)
		return linear{w, b}, err
	}
	nrm := func(name string, n int) (layerNormParams, error) {
		s, err := loadVector(ts, name+"/scale", n)
		if err != nil {
			return layerNormParams{}, err
		}
		b, err := loadVector(ts, name+"/bias", n)
		return layerNormParams{s, b}, err
	}
	for i, in := range []int{embedDim, modelDim} {
		p := fmt.Sprintf("layer%d/", i)
		l := &m.layers[i]
		l.in, l.heads = in, numHeads
		errs := make([]error, 0, 8)
		var e error
		l.attnLN, e = nrm(p+"attn_ln", in)
		errs = append(errs, e)
		l.qkv, e = lin(p+"qkv", in, 3*in)
		errs = append(errs, e)
		l.out, e = lin(p+"out", in, modelDim)
		errs = append(errs, e)
		l.ffnLN, e = nrm(p+"ffn_ln", modelDim)
		errs = append(errs, e)
		l.ffn1, e = lin(p+"ffn1", modelDim, ffnDim)
		errs = append(errs, e)
		l.ffn2, e = lin(p+"ffn2", ffnDim, modelDim)
		errs = append(errs, e)
		qs, e := loadVector(ts, p+"q_scale", 1)
		errs = append(errs, e)
		if in != modelDim {
			a, e := lin("layer0/dense", in, modelDim)
			l.adjust = &a
			errs = append(errs, e)
		}
		for _, e := range errs {
			if e != nil {
				return nil, e
			}
		}
		l.qScale = qs[0]
	}
	if m.head, err = lin("head", modelDim, modelDim); err != nil {
		return nil, err
	}
	return m, nil
}

// EmbedOne embeds one text.
func (m *Model) EmbedOne(text string) []float32 {
	return m.Embed([]string{text})[0]
}

// Embed returns one L2-normalised vector of Dim() floats per text, in
// order. Only the first 128 tokens of a text count, as in the graph. A
// text's vector does not depend on its companions: texts are embedded
// together in chunks of at most chunkTokens tokens, and a batch of at
// least 2×parallelTokens tokens is split across up to GOMAXPROCS
// goroutines.
func (m *Model) Embed(texts []string) [][]float32 {
	out := make([][]float32, len(texts))
	flat := make([]float32, len(texts)*modelDim)
	for i := range out {
		out[i] = flat[i*modelDim : (i+1)*modelDim : (i+1)*modelDim]
	}
	s := m.bufs.Get().(*scratch)
	defer m.bufs.Put(s)
	s.textIDs, s.textLens = s.textIDs[:0], s.textLens[:0]
	for _, t := range texts {
		ids := m.tok.encode(t, &s.enc)
		if len(ids) > maxTokens {
			ids = ids[:maxTokens]
		}
		s.textIDs = append(s.textIDs, ids...)
		s.textLens = append(s.textLens, len(ids))
	}
	ids, lens := s.textIDs, s.textLens
	parts := min(runtime.GOMAXPROCS(0), len(ids)/parallelTokens, len(texts))
	if parts <= 1 {
		// One run: its large products may use the other cores.
		s.ways = runtime.GOMAXPROCS(0)
		m.run(s, ids, lens, out)
		return out
	}
	s.ways = 1
	// Contiguous runs of texts with about equal token counts; the last
	// runs on this goroutine.
	var wg sync.WaitGroup
	first, idAt, tokens, done := 0, 0, 0, 0
	for i, l := range lens {
		tokens += l
		if i == len(lens)-1 || done == parts-1 || (idAt+tokens)*parts < len(ids)*(done+1) {
			continue
		}
		p := ids[idAt : idAt+tokens]
		pl, po := lens[first:i+1], out[first:i+1]
		wg.Go(func() {
			s := m.bufs.Get().(*scratch)
			s.ways = 1
			m.run(s, p, pl, po)
			m.bufs.Put(s)
		})
		done++
		first, idAt, tokens = i+1, idAt+tokens, 0
	}
	m.run(s, ids[idAt:], lens[first:], out[first:])
	wg.Wait()
	return out
}

// run embeds texts (their ids, concatenated, and lengths) into out, in
// chunks of at most chunkTokens tokens.
func (m *Model) run(s *scratch, ids []int32, lens []int, out [][]float32) {
	first, idAt, tokens := 0, 0, 0
	for i, l := range lens {
		if tokens+l > chunkTokens && i > first {
			m.forward(s, ids[idAt:idAt+tokens], lens[first:i], out[first:i])
			first, idAt, tokens = i, idAt+tokens, 0
		}
		tokens += l
	}
	if first < len(lens) {
		m.forward(s, ids[idAt:idAt+tokens], lens[first:], out[first:])
	}
}
