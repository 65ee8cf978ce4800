package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
)

// magic starts static.bin; the reader is semantic/use/static.go.
const magic = "USESTAT1"

// generate builds a variant's table, quantises it to int8 with one scale per
// row, and writes it:
//
//	"USESTAT1", rows uint32, dim uint32,
//	rows × float32 scale, rows × dim int8 (row-major), all little-endian.
func generate(dir, vocab string, v variant, out string) error {
	if v.head {
		return fmt.Errorf("%v is not a table", v)
	}
	t, err := loadTaps(dir, vocab)
	if err != nil {
		return err
	}
	rows, d, err := t.table(v)
	if err != nil {
		return err
	}
	scales, q := quantInt8(rows, d)
	n := len(scales)
	b := make([]byte, 0, len(magic)+8+4*n+len(q))
	b = append(b, magic...)
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = binary.LittleEndian.AppendUint32(b, uint32(d))
	for _, s := range scales {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(s))
	}
	for _, x := range q {
		b = append(b, byte(x))
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s: %v, %d rows × %d int8, %d bytes\n", out, v, n, d, len(b))
	return nil
}
