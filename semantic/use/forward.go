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
	ids                        []int32
	lens                       []int
	x0, h, qkv, att, y, f, out []float32
	probs                      []float32
}

func (s *scratch) reset() { s.ids, s.lens = s.ids[:0], s.lens[:0] }

// zeroed returns b resized to n elements, all zero.
func zeroed(b *[]float32, n int) []float32 {
	if cap(*b) < n {
		*b = make([]float32, n)
	}
	*b = (*b)[:n]
	clear(*b)
	return *b
}

// padRows rounds a row count up to whole kernel tiles.
func padRows(n int) int { return max(tileRows, (n+tileRows-1)/tileRows*tileRows) }

// forward embeds the texts whose ids and lengths s holds into out.
func (m *Model) forward(s *scratch, out [][]float32) {
	n := len(s.ids)
	rows := padRows(n)
	x0 := zeroed(&s.x0, rows*embedDim)
	m.embedTokens(s, x0)
	y := zeroed(&s.y, rows*modelDim)
	m.layers[0].forward(s, x0, rows, y)
	m.layers[1].forward(s, y, rows, y)

	// Mean over each text's tokens, then tanh_layer_0 and L2 normalisation.
	b := len(s.lens)
	pooled := zeroed(&s.h, padRows(b)*modelDim)
	at := 0
	for i, l := range s.lens {
		p := pooled[i*modelDim : (i+1)*modelDim]
		for t := at; t < at+l; t++ {
			for j, v := range y[t*modelDim : (t+1)*modelDim] {
				p[j] += v
			}
		}
		d := float32(max(l, 1))
		for j := range p {
			p[j] /= d
		}
		at += l
	}
	res := zeroed(&s.out, padRows(b)*modelDim)
	fillBias(res, b, m.head.b)
	gemm(pooled, padRows(b), &m.head.w, res)
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

// forward runs one layer on x (rows × l.in) and leaves its output in y
// (rows × modelDim); y may be x when the widths agree.
func (l *layer) forward(s *scratch, x []float32, rows int, y []float32) {
	in := l.in
	h := zeroed(&s.h, rows*in)
	layerNorm(h, x, rows, in, l.attnLN)
	qkv := zeroed(&s.qkv, rows*3*in)
	fillBias(qkv, rows, l.qkv.b)
	gemm(h, rows, &l.qkv.w, qkv)
	att := zeroed(&s.att, rows*in)
	l.attend(s, qkv, att)
	if l.adjust != nil {
		fillBias(y, rows, l.adjust.b)
		gemm(x, rows, &l.adjust.w, y)
	}
	addBias(y, rows, l.out.b)
	gemm(att, rows, &l.out.w, y)

	h = zeroed(&s.h, rows*modelDim)
	layerNorm(h, y, rows, modelDim, l.ffnLN)
	f := zeroed(&s.f, rows*ffnDim)
	fillBias(f, rows, l.ffn1.b)
	gemm(h, rows, &l.ffn1.w, f)
	for i, v := range f {
		f[i] = max(v, 0)
	}
	addBias(y, rows, l.ffn2.b)
	gemm(f, rows, &l.ffn2.w, y)
}

// attend is multi-head dot-product attention within each text: qkv rows
// are [q | k | v], each split into l.heads heads.
func (l *layer) attend(s *scratch, qkv, att []float32) {
	in := l.in
	dh := in / l.heads
	stride := 3 * in
	at := 0
	for _, n := range s.lens {
		probs := zeroed(&s.probs, n)
		for i := at; i < at+n; i++ {
			q := qkv[i*stride : i*stride+in]
			for j := range q {
				q[j] *= l.qScale
			}
		}
		for hd := range l.heads {
			for i := at; i < at+n; i++ {
				q := qkv[i*stride+hd*dh : i*stride+hd*dh+dh]
				top := float32(math.Inf(-1))
				for j := range n {
					k := qkv[(at+j)*stride+in+hd*dh : (at+j)*stride+in+hd*dh+dh]
					d := dot(q, k)
					probs[j] = d
					top = max(top, d)
				}
				var sum float32
				for j, p := range probs {
					e := float32(math.Exp(float64(p - top)))
					probs[j] = e
					sum += e
				}
				o := att[i*in+hd*dh : i*in+hd*dh+dh]
				for j, p := range probs {
					w := p / sum
					axpy(w, qkv[(at+j)*stride+2*in+hd*dh:(at+j)*stride+2*in+hd*dh+dh], o)
				}
			}
		}
		at += n
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
