package use

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// The compact model file (written by gen/, embedded as use.bin) is a list of
// named tensors. Layout, little-endian:
//
//	magic "USELITE1", u32 count, then per tensor:
//	u16 name length, name, u8 dtype, u8 rank, u32 dims[rank], u64 byte length,
//	zero padding to a multiple of 64 from the file start, the data.
//
// The padding lets the loader alias the embedded bytes instead of copying.
const fileMagic = "USELITE1"

// Tensor element types in the model file.
const (
	dtF32   = 0 // float32
	dtF16   = 1 // IEEE half
	dtI8    = 2 // int8; its per-column float32 scales are the tensor name+"#scale"
	dtF64   = 3 // float64
	dtBytes = 4 // opaque bytes (the vocabulary pieces)
	dtI32   = 5 // int32
)

// tensor is one entry of the model file; data aliases the file's bytes.
type tensor struct {
	dtype byte
	dims  []int
	data  string
}

// parseModelFile indexes the tensors of a model file by name.
func parseModelFile(b string) (map[string]tensor, error) {
	if len(b) < 12 || b[:8] != fileMagic {
		return nil, errors.New("use: not a model file")
	}
	n := int(binary.LittleEndian.Uint32([]byte(b[8:12])))
	off := 12
	out := make(map[string]tensor, n)
	need := func(k int) error {
		if k < 0 || off+k > len(b) {
			return errors.New("use: truncated model file")
		}
		return nil
	}
	u32 := func() uint32 { v := binary.LittleEndian.Uint32([]byte(b[off : off+4])); off += 4; return v }
	for range n {
		if err := need(2); err != nil {
			return nil, err
		}
		nl := int(binary.LittleEndian.Uint16([]byte(b[off : off+2])))
		off += 2
		if err := need(nl + 2); err != nil {
			return nil, err
		}
		name := b[off : off+nl]
		off += nl
		t := tensor{dtype: b[off]}
		rank := int(b[off+1])
		off += 2
		if err := need(4*rank + 8); err != nil {
			return nil, err
		}
		for range rank {
			t.dims = append(t.dims, int(u32()))
		}
		size := binary.LittleEndian.Uint64([]byte(b[off : off+8]))
		off += 8
		off = (off + 63) &^ 63
		if size > math.MaxInt32 || need(int(size)) != nil {
			return nil, errors.New("use: truncated model file")
		}
		t.data = b[off : off+int(size)]
		off += int(size)
		out[name] = t
	}
	return out, nil
}

// elems is the number of elements the tensor's dims describe.
func (t tensor) elems() int {
	n := 1
	for _, d := range t.dims {
		n *= d
	}
	return n
}

// check reports an error unless the tensor has this dtype and these dims.
func (t tensor) check(name string, dtype byte, dims ...int) error {
	ok := t.dtype == dtype && len(t.dims) == len(dims)
	for i := 0; ok && i < len(dims); i++ {
		ok = t.dims[i] == dims[i]
	}
	width := map[byte]int{dtF32: 4, dtF16: 2, dtI8: 1, dtF64: 8, dtI32: 4}[dtype]
	if ok && width > 0 && len(t.data) != width*t.elems() {
		ok = false
	}
	if !ok {
		return fmt.Errorf("use: tensor %s is dtype %d dims %v, want dtype %d dims %v", name, t.dtype, t.dims, dtype, dims)
	}
	return nil
}

// littleEndian is true on the machines where the file's bytes can be
// aliased as numbers; elsewhere they are decoded into fresh slices.
var littleEndian = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

// asF32 returns the tensor's float32 data, aliasing the file when aligned.
func (t tensor) asF32() []float32 {
	n := len(t.data) / 4
	if n == 0 {
		return nil
	}
	p := unsafe.StringData(t.data)
	if littleEndian && uintptr(unsafe.Pointer(p))%4 == 0 {
		return unsafe.Slice((*float32)(unsafe.Pointer(p)), n)
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32([]byte(t.data[4*i:])))
	}
	return out
}

// asF64 decodes the tensor's float64 data.
func (t tensor) asF64() []float64 {
	out := make([]float64, len(t.data)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64([]byte(t.data[8*i : 8*i+8])))
	}
	return out
}

// asU16 returns the tensor's 16-bit data (float16 bits), aliasing when aligned.
func (t tensor) asU16() []uint16 {
	n := len(t.data) / 2
	if n == 0 {
		return nil
	}
	p := unsafe.StringData(t.data)
	if littleEndian && uintptr(unsafe.Pointer(p))%2 == 0 {
		return unsafe.Slice((*uint16)(unsafe.Pointer(p)), n)
	}
	out := make([]uint16, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint16([]byte(t.data[2*i:]))
	}
	return out
}

// asI8 returns the tensor's int8 data, aliasing the file.
func (t tensor) asI8() []int8 {
	if len(t.data) == 0 {
		return nil
	}
	return unsafe.Slice((*int8)(unsafe.Pointer(unsafe.StringData(t.data))), len(t.data))
}

// asI32 decodes the tensor's int32 data.
func (t tensor) asI32() []int32 {
	out := make([]int32, len(t.data)/4)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32([]byte(t.data[4*i : 4*i+4])))
	}
	return out
}
