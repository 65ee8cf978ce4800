package model2vec

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/x448/float16"
	"math"
	"sort"
)

// Bounds on a safetensors file: a corrupt or hostile file gets an error,
// never a panic or an allocation it names.
const (
	maxHeaderBytes = 16 << 20 // real headers of a few tensors are a few KB
	maxTensorDims  = 4
)

// tensor is one entry of a safetensors file: its dtype, shape and bytes.
type tensor struct {
	dtype string
	shape []int
	data  []byte
}

// parseSafetensors splits a safetensors file into its tensors: an 8-byte
// little-endian header length, a JSON header naming each tensor's dtype,
// shape and byte range, then the data. The tensors' bytes alias file.
func parseSafetensors(file []byte) (map[string]tensor, error) {
	if len(file) < 8 {
		return nil, errors.New("safetensors: file shorter than its 8-byte header length")
	}
	n := binary.LittleEndian.Uint64(file)
	if n > maxHeaderBytes || n > uint64(len(file)-8) {
		return nil, fmt.Errorf("safetensors: header length %d is past the file (%d bytes) or over %d", n, len(file), maxHeaderBytes)
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(file[8:8+n], &header); err != nil {
		return nil, fmt.Errorf("safetensors: header: %v", err)
	}
	data := file[8+n:]
	out := make(map[string]tensor, len(header))
	var ranges [][2]uint64
	for name, raw := range header {
		if name == "__metadata__" {
			continue
		}
		var e struct {
			Dtype   string   `json:"dtype"`
			Shape   []int64  `json:"shape"`
			Offsets []uint64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %v", name, err)
		}
		size, ok := dtypeSize[e.Dtype]
		if !ok {
			return nil, fmt.Errorf("safetensors: tensor %q: unsupported dtype %q", name, e.Dtype)
		}
		if len(e.Shape) > maxTensorDims || len(e.Offsets) != 2 {
			return nil, fmt.Errorf("safetensors: tensor %q: shape %v or data_offsets %v malformed", name, e.Shape, e.Offsets)
		}
		count := uint64(1)
		shape := make([]int, len(e.Shape))
		for i, d := range e.Shape {
			if d < 0 || uint64(d) > uint64(len(data)) {
				return nil, fmt.Errorf("safetensors: tensor %q: dimension %d out of range", name, d)
			}
			shape[i] = int(d)
			if d != 0 && count > math.MaxUint64/uint64(d) {
				return nil, fmt.Errorf("safetensors: tensor %q: shape %v overflows", name, e.Shape)
			}
			count *= uint64(d)
		}
		begin, end := e.Offsets[0], e.Offsets[1]
		if begin > end || end > uint64(len(data)) || count > (end-begin)/size || count*size != end-begin {
			return nil, fmt.Errorf("safetensors: tensor %q: data_offsets [%d, %d] do not hold %v %s in %d data bytes", name, begin, end, e.Shape, e.Dtype, len(data))
		}
		ranges = append(ranges, [2]uint64{begin, end})
		out[name] = tensor{dtype: e.Dtype, shape: shape, data: data[begin:end]}
	}
	sort.Slice(ranges, func(i, j int) bool { return ranges[i][0] < ranges[j][0] })
	for i := 1; i < len(ranges); i++ {
		if ranges[i][0] < ranges[i-1][1] {
			return nil, errors.New("safetensors: tensors overlap")
		}
	}
	return out, nil
}

// dtypeSize is the bytes per element of the dtypes this package reads.
var dtypeSize = map[string]uint64{
	"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I8": 1, "I32": 4, "I64": 8,
}

// floats decodes a tensor of any float or integer dtype into float32.
// Integer dtypes are cast as they are (model2vec's int8 models carry no
// scale; cosine similarity does not need one).
func (t tensor) floats() []float32 {
	size := int(dtypeSize[t.dtype])
	out := make([]float32, len(t.data)/size)
	b := t.data
	for i := range out {
		switch t.dtype {
		case "F64":
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
		case "F32":
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		case "F16":
			out[i] = float16.Frombits(binary.LittleEndian.Uint16(b[2*i:])).Float32()
		case "BF16":
			out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16)
		case "I8":
			out[i] = float32(int8(b[i]))
		case "I32":
			out[i] = float32(int32(binary.LittleEndian.Uint32(b[4*i:])))
		case "I64":
			out[i] = float32(int64(binary.LittleEndian.Uint64(b[8*i:])))
		}
	}
	return out
}

// ints decodes an integer tensor; ok is false for a float dtype.
func (t tensor) ints() (out []int64, ok bool) {
	if t.dtype != "I32" && t.dtype != "I64" {
		return nil, false
	}
	out = make([]int64, len(t.data)/int(dtypeSize[t.dtype]))
	for i := range out {
		if t.dtype == "I32" {
			out[i] = int64(int32(binary.LittleEndian.Uint32(t.data[4*i:])))
		} else {
			out[i] = int64(binary.LittleEndian.Uint64(t.data[8*i:]))
		}
	}
	return out, true
}
