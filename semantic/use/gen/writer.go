package main

import (
	"encoding/binary"
	"slices"
	"strings"
)

// Element types; the same numbers as package use's modelfile.go.
const (
	dtF32   = 0
	dtF16   = 1
	dtI8    = 2
	dtF64   = 3
	dtBytes = 4
	dtI32   = 5
)

// entry is one named tensor to write.
type entry struct {
	name  string
	dtype byte
	dims  []int
	data  []byte
}

// writer collects tensors and lays them out in the model file format
// (described in ../modelfile.go).
type writer struct{ entries []entry }

func (w *writer) add(name string, dtype byte, dims []int, data []byte) {
	w.entries = append(w.entries, entry{name, dtype, dims, data})
}

// sortFrom sorts the entries after the first n by name.
func (w *writer) sortFrom(n int) {
	slices.SortFunc(w.entries[n:], func(a, b entry) int { return strings.Compare(a.name, b.name) })
}

func (w *writer) bytes() []byte {
	b := []byte("USELITE1")
	b = binary.LittleEndian.AppendUint32(b, uint32(len(w.entries)))
	for _, e := range w.entries {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(e.name)))
		b = append(b, e.name...)
		b = append(b, e.dtype, byte(len(e.dims)))
		for _, d := range e.dims {
			b = binary.LittleEndian.AppendUint32(b, uint32(d))
		}
		b = binary.LittleEndian.AppendUint64(b, uint64(len(e.data)))
		for len(b)%64 != 0 {
			b = append(b, 0)
		}
		b = append(b, e.data...)
	}
	return b
}
