package use

import "math"

// Constants of the graph's arithmetic.
const (
	lnEpsilon   = 9.999999974752427e-7 // layer_norm/Cast/x
	l2Epsilon   = 9.999999960041972e-13
	maskedScore = -1e9 // attention_bias_ignore_padding: never wins a softmax
)

// scratch holds one forward pass's buffers; Model pools them so a call
// allocates only its result.
type scratch struct {
	enc                        encodeScratch
	textIDs                    []int32 // a call's texts' ids, concatenated
	textLens                   []int
	ids                        []int32 // one forward pass's
	lens                       []int
	ways                       int // goroutines a product may use
	x0, h, qkv, att, y, f, out []float32
	pooled, fMean              []float32
	probs, kt                  []float32
}

// zeroed returns b resized to n elements, all zero: for buffers that
// products accumulate into.
func zeroed(b *[]float32, n int) []float32 {
	clear(sized(b, n))
	return *b
}

// sized returns b resized to n elements, whatever they hold: for buffers
// the next step writes whole (a layer norm, a bias fill): zeroing them
// showed as 15% of a semantic-hit-use profile through Caddy.
func sized(b *[]float32, n int) []float32 {
	if cap(*b) < n {
		*b = make([]float32, n)
	}
	*b = (*b)[:n]
	return *b
}

// atLeastOneRow is the rows to compute for n: at least one, so an all-empty
// batch still runs (and gives the graph's vector for no tokens).
func atLeastOneRow(n int) int { return max(n, 1) }

// forward embeds texts (their ids, concatenated, and lengths) into out.
func (m *Model) forward(s *scratch, ids []int32, lens []int, out [][]float32) {
	s.ids, s.lens = ids, lens
	n, b := len(s.ids), len(s.lens)
	rows, bRows := atLeastOneRow(n), atLeastOneRow(b)
	x0 := zeroed(&s.x0, rows*embedDim)
	m.embedTokens(s, x0)
	y := zeroed(&s.y, rows*modelDim)

	l0 := &m.layers[0]
	l0.attention(s, x0, rows, y)
	f := l0.ffnHidden(s, y, rows)
	addBias(y, rows, l0.ffn2.b)
	gemm(s.ways, f, rows, &l0.ffn2.w, y)

	// Layer 1's last product is linear and only its mean over each text
	// is used, so it runs once per text on the mean of its inputs:
	// mean(y + f·W + b) = mean(y) + mean(f)·W + b, a sixth of the work.
	l1 := &m.layers[1]
	l1.attention(s, y, rows, y)
	f = l1.ffnHidden(s, y, rows)
	pooled := zeroed(&s.pooled, bRows*modelDim)
	meanRows(pooled, y, s.lens, modelDim)
	for i, l := range s.lens {
		if l > 0 { // the graph's mask zeroes an empty text's whole sum
			addBias(pooled[i*modelDim:(i+1)*modelDim], 1, l1.ffn2.b)
		}
	}
	fMean := zeroed(&s.fMean, bRows*ffnDim)
	meanRows(fMean, f, s.lens, ffnDim)
	gemm(s.ways, fMean, bRows, &l1.ffn2.w, pooled)

	// tanh_layer_0 and L2 normalisation.
	res := zeroed(&s.out, bRows*modelDim)
	fillBias(res, b, m.head.b)
	gemm(s.ways, pooled, bRows, &m.head.w, res)
	for i := range b {
		r := res[i*modelDim : (i+1)*modelDim]
		var ss float32
		for j, v := range r {
			t := float32(math.Tanh(float64(v)))
			r[j] = t
			ss += t * t
		}
		inv := float32(1 / math.Sqrt(float64(max(ss, l2Epsilon))))
		for j, v := range r {
			out[i][j] = v * inv
		}
	}
}

// meanRows writes into dst's row i the mean of the i-th run of lens[i]
// rows of src (a zero row for an empty text, as the graph's max(len, 1)
// divisor gives).
func meanRows(dst, src []float32, lens []int, width int) {
	at := 0
	for i, l := range lens {
		d := dst[i*width : (i+1)*width]
		for t := at; t < at+l; t++ {
			for j, v := range src[t*width : (t+1)*width] {
				d[j] += v
			}
		}
		div := float32(max(l, 1))
		for j := range d {
			d[j] /= div
		}
		at += l
	}
}

// embedTokens writes layer 0's input: the graph adds the token embedding
// twice (once scattered alone, once with the timing signal), plus the
// sin/cos timing signal of the token's position in its text.
func (m *Model) embedTokens(s *scratch, x0 []float32) {
	half := embedDim / 2
	t := 0
	for _, l := range s.lens {
		for pos := range l {
			row := x0[t*embedDim : (t+1)*embedDim]
			m.emb.row(row, int(s.ids[t]), 1)
			for j, inv := range m.invTS {
				a := float64(float32(pos) * inv)
				row[j] += row[j] + float32(math.Sin(a))
				row[half+j] += row[half+j] + float32(math.Cos(a))
			}
			t++
		}
	}
}

// attention runs the layer's attention half on x (rows × l.in) and leaves
// the residual stream in y (rows × modelDim); y may be x when the widths
// agree.
func (l *layer) attention(s *scratch, x []float32, rows int, y []float32) {
	in := l.in
	h := sized(&s.h, rows*in)
	layerNorm(h, x, rows, in, l.attnLN)
	qkv := sized(&s.qkv, rows*3*in)
	fillBias(qkv, rows, l.qkv.b)
	gemm(s.ways, h, rows, &l.qkv.w, qkv)
	att := zeroed(&s.att, rows*in)
	l.attend(s, qkv, att)
	if l.adjust != nil {
		fillBias(y, rows, l.adjust.b)
		gemm(s.ways, x, rows, &l.adjust.w, y)
	}
	addBias(y, rows, l.out.b)
	gemm(s.ways, att, rows, &l.out.w, y)
}

// ffnHidden returns the FFN's hidden activations relu(LN(y)·W1 + b1),
// rows × ffnDim, in scratch.
func (l *layer) ffnHidden(s *scratch, y []float32, rows int) []float32 {
	h := sized(&s.h, rows*modelDim)
	layerNorm(h, y, rows, modelDim, l.ffnLN)
	f := sized(&s.f, rows*ffnDim)
	fillBias(f, rows, l.ffn1.b)
	gemm(s.ways, h, rows, &l.ffn1.w, f)
	for i, v := range f {
		f[i] = max(v, 0)
	}
	return f
}

// attend is multi-head dot-product attention within each text: qkv rows
// are [q | k | v], each split into l.heads heads. Per text and head, the
// scores are Q·Kᵀ (K transposed into scratch, its columns padded to 16
// with zeros) and the output P·V, both on the matrix kernels.
func (l *layer) attend(s *scratch, qkv, att []float32) {
	in := l.in
	dh := in / l.heads
	stride := 3 * in
	at := 0
	for _, n := range s.lens {
		if n == 0 {
			continue
		}
		np := (n + 15) &^ 15
		for i := at; i < at+n; i++ {
			q := qkv[i*stride : i*stride+in]
			for j := range q {
				q[j] *= l.qScale
			}
		}
		for hd := range l.heads {
			kt := zeroed(&s.kt, dh*np)
			for j := range n {
				k := qkv[(at+j)*stride+in+hd*dh : (at+j)*stride+in+hd*dh+dh]
				for e, v := range k {
					kt[e*np+j] = v
				}
			}
			scores := zeroed(&s.probs, n*np)
			gemmStrided(qkv[at*stride+hd*dh:], stride, n, dh, kt, np, np, scores, np)
			for i := range n {
				softmax(scores[i*np : i*np+n])
			}
			gemmStrided(scores, np, n, n, qkv[at*stride+2*in+hd*dh:], stride, dh, att[at*in+hd*dh:], in)
		}
		at += n
	}
}

// softmax replaces p with exp(p − max p) / Σ.
func softmax(p []float32) {
	top := float32(math.Inf(-1))
	for _, v := range p {
		top = max(top, v)
	}
	var sum float32
	for j, v := range p {
		e := float32(math.Exp(float64(v - top)))
		p[j] = e
		sum += e
	}
	for j := range p {
		p[j] /= sum
	}
}

// layerNorm writes scale·(x−mean)/sqrt(var+ε) + bias per row, in the
// graph's order of operations.
func layerNorm(dst, x []float32, rows, width int, n layerNormParams) {
	for r := range rows {
		xr := x[r*width : (r+1)*width]
		dr := dst[r*width : (r+1)*width]
		var sum float32
		for _, v := range xr {
			sum += v
		}
		mean := sum / float32(width)
		var sq float32
		for _, v := range xr {
			d := v - mean
			sq += d * d
		}
		rs := float32(1 / math.Sqrt(float64(sq/float32(width)+lnEpsilon)))
		for j, v := range xr {
			dr[j] = n.scale[j]*rs*(v-mean) + n.bias[j]
		}
	}
}

// fillBias sets each of the rows of c to b.
func fillBias(c []float32, rows int, b []float32) {
	for r := range rows {
		copy(c[r*len(b):(r+1)*len(b)], b)
	}
}

// addBias adds b to each of the rows of c.
func addBias(c []float32, rows int, b []float32) {
	for r := range rows {
		cr := c[r*len(b) : (r+1)*len(b)]
		for j, v := range b {
			cr[j] += v
		}
	}
}
