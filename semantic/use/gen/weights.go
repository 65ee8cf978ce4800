package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"github.com/x448/float16"
	"math"
	"os"
	"path/filepath"
)

// Prefixes of the graph's weight names.
const (
	enc   = "module_apply_default/Encoder_en/KonaTransformer/Encode/"
	stack = enc + "TransformerStack/"
	vars  = "module/Encoder_en/KonaTransformer/Encode/"
)

// kind says how a weight is stored: vectors stay float32, matrices and the
// embedding table take the chosen storage.
type kind int

const (
	vector kind = iota
	matrix      // [in][out]; int8 scales per output column
	table       // [rows][dim]; int8 scales per row
)

// weight maps a short name (what package use reads) to the graph's name.
type weight struct {
	short, graph string
	kind         kind
}

// weights lists every tensor the forward pass reads, by the graph's names.
func weights() []weight {
	ws := []weight{
		{"embeddings", "module/Embeddings_en", table},
		{"timing/inv_timescales", stack + "Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1", vector},
		{"layer0/dense/kernel", enc + "Layer_0/TransformerLayer/dense/kernel/ConcatPartitions/concat", matrix},
		{"layer0/dense/bias", enc + "Layer_0/TransformerLayer/dense/bias/ConcatPartitions/concat", vector},
		{"head/kernel", "module/Encoder_en/hidden_layers/tanh_layer_0/weights", matrix},
		{"head/bias", "module/Encoder_en/hidden_layers/tanh_layer_0/bias", vector},
	}
	for _, l := range []string{"Layer_0", "Layer_1"} {
		s := "layer" + l[len(l)-1:] + "/"
		tl := enc + l + "/TransformerLayer/"
		ws = append(ws,
			weight{s + "attn_ln/scale", tl + "layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat", vector},
			weight{s + "attn_ln/bias", tl + "layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat", vector},
			weight{s + "qkv/kernel", vars + l + "/TransformerLayer/MultiheadAttention/qkv_transform_single/kernel/part_0", matrix},
			weight{s + "qkv/bias", tl + "MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat", vector},
			weight{s + "out/kernel", vars + l + "/TransformerLayer/MultiheadAttention/output_transform_single/kernel/part_0", matrix},
			weight{s + "out/bias", tl + "MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat", vector},
			weight{s + "q_scale", stack + l + "/TransformerLayer/MultiheadAttention/mul/y", vector},
			weight{s + "ffn_ln/scale", tl + "FFN/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat", vector},
			weight{s + "ffn_ln/bias", tl + "FFN/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat", vector},
			weight{s + "ffn1/kernel", stack + l + "/TransformerLayer/FFN/conv1/Tensordot/Reshape_1", matrix},
			weight{s + "ffn1/bias", tl + "FFN/conv1/bias/ConcatPartitions/concat", vector},
			weight{s + "ffn2/kernel", stack + l + "/TransformerLayer/FFN/conv2/Tensordot/Reshape_1", matrix},
			weight{s + "ffn2/bias", tl + "FFN/conv2/bias/ConcatPartitions/concat", vector},
		)
	}
	return ws
}

// consts are int32 scalars of the graph the forward pass depends on; they
// are stored so the loader can check them (heads, max length).
var consts = map[string]string{
	"max_length":      "module_apply_default/Encoder_en/KonaTransformer/ClipToMaxLength/Less/y",
	"layer0/head_dim": stack + "Layer_0/TransformerLayer/MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/3",
	"layer1/head_dim": stack + "Layer_1/TransformerLayer/MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/3",
	"heads":           stack + "Layer_1/TransformerLayer/MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/2",
}

// manifest is the part of model.json gen reads.
type manifest struct {
	WeightsManifest []struct {
		Paths   []string `json:"paths"`
		Weights []struct {
			Name         string          `json:"name"`
			Shape        []int           `json:"shape"`
			Dtype        string          `json:"dtype"`
			Quantization json.RawMessage `json:"quantization"`
		} `json:"weights"`
	} `json:"weightsManifest"`
}

// raw is one weight as read from the shards.
type raw struct {
	shape []int
	dtype string
	data  []byte
}

// readWeights slices the concatenated shards into weights by name, in
// manifest order.
func readWeights(dist string) (map[string]raw, error) {
	b, err := os.ReadFile(filepath.Join(dist, "model.json"))
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	out := map[string]raw{}
	for _, g := range m.WeightsManifest {
		var buf []byte
		for _, p := range g.Paths {
			s, err := os.ReadFile(filepath.Join(dist, p))
			if err != nil {
				return nil, err
			}
			buf = append(buf, s...)
		}
		off := 0
		for _, w := range g.Weights {
			if len(w.Quantization) > 0 && string(w.Quantization) != "null" {
				return nil, fmt.Errorf("gen: %s is quantized; not supported", w.Name)
			}
			n := 1
			for _, d := range w.Shape {
				n *= d
			}
			if w.Dtype != "float32" && w.Dtype != "int32" {
				return nil, fmt.Errorf("gen: %s has dtype %s", w.Name, w.Dtype)
			}
			if off+4*n > len(buf) {
				return nil, fmt.Errorf("gen: shards end inside %s", w.Name)
			}
			out[w.Name] = raw{w.Shape, w.Dtype, buf[off : off+4*n]}
			off += 4 * n
		}
		if off != len(buf) {
			return nil, fmt.Errorf("gen: %d bytes of shards left over", len(buf)-off)
		}
	}
	return out, nil
}

// addWeights converts the weights the forward pass needs.
func addWeights(w *writer, dist, storage string) error {
	all, err := readWeights(dist)
	if err != nil {
		return err
	}
	for _, wt := range weights() {
		r, ok := all[wt.graph]
		if !ok || r.dtype != "float32" {
			return fmt.Errorf("gen: float32 weight %s not found", wt.graph)
		}
		f := make([]float32, len(r.data)/4)
		for i := range f {
			f[i] = math.Float32frombits(binary.LittleEndian.Uint32(r.data[4*i:]))
		}
		dims := squeeze(r.shape)
		if wt.kind == vector {
			w.add(wt.short, dtF32, dims, r.data)
			continue
		}
		if len(dims) != 2 {
			return fmt.Errorf("gen: %s has shape %v, want a matrix", wt.graph, r.shape)
		}
		switch storage {
		case "f32":
			w.add(wt.short, dtF32, dims, r.data)
		case "f16":
			h := make([]byte, 0, 2*len(f))
			for _, v := range f {
				h = binary.LittleEndian.AppendUint16(h, float16.Fromfloat32(v).Bits())
			}
			w.add(wt.short, dtF16, dims, h)
		case "i8":
			q, scales := quantize(f, dims[0], dims[1], wt.kind == table)
			w.add(wt.short, dtI8, dims, q)
			sb := make([]byte, 0, 4*len(scales))
			for _, s := range scales {
				sb = binary.LittleEndian.AppendUint32(sb, math.Float32bits(s))
			}
			w.add(wt.short+"#scale", dtF32, []int{len(scales)}, sb)
		default:
			return fmt.Errorf("gen: unknown storage %q", storage)
		}
	}
	for short, graph := range consts {
		r, ok := all[graph]
		if !ok || r.dtype != "int32" || len(r.data) != 4 {
			return fmt.Errorf("gen: int32 scalar %s not found", graph)
		}
		w.add(short, dtI32, []int{1}, r.data)
	}
	w.sortFrom(2) // deterministic output: map order above is random
	return nil
}

// squeeze drops the 1×1 convolution dimensions ([1,1,in,out] → [in,out])
// and the leading 1 of [1,128].
func squeeze(shape []int) []int {
	var out []int
	for i, d := range shape {
		if d == 1 && i < len(shape)-1 {
			continue
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		out = []int{1}
	}
	return out
}

// quantize makes symmetric int8 codes with one scale per column (matrix)
// or per row (table): v ≈ code × scale, code in [-127, 127].
func quantize(f []float32, rows, cols int, perRow bool) ([]byte, []float32) {
	n := cols
	if perRow {
		n = rows
	}
	scales := make([]float32, n)
	for r := range rows {
		for c := range cols {
			a := float32(math.Abs(float64(f[r*cols+c])))
			i := c
			if perRow {
				i = r
			}
			scales[i] = max(scales[i], a/127)
		}
	}
	q := make([]byte, len(f))
	for r := range rows {
		for c := range cols {
			i := c
			if perRow {
				i = r
			}
			if s := scales[i]; s > 0 {
				q[r*cols+c] = byte(int8(math.Round(float64(f[r*cols+c] / s))))
			}
		}
	}
	return q, scales
}
