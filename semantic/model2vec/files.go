package model2vec

import (
	"fmt"
	"io"
	"os"
)

// readBounded reads a whole file of at most limit bytes; a larger one is
// an error before anything is allocated for it.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if info.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d this reads", path, info.Size(), limit)
	}
	// read the size Stat gave, and one byte more to tell a file that grew
	b := make([]byte, info.Size()+1)
	n, err := io.ReadFull(f, b)
	if err != io.ErrUnexpectedEOF && err != io.EOF {
		if err == nil {
			return nil, fmt.Errorf("%s: grew while being read", path)
		}
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return b[:n], nil
}
