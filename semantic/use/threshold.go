package use

// DefaultThreshold is the least cosine similarity at which the semantic
// cache treats two questions embedded by this model as the same question,
// chosen by measurement (go run ./bench/semantic; BENCHMARKS.md).
const DefaultThreshold = 0.80

// DefaultStaticThreshold is DefaultThreshold for the static distillation.
const DefaultStaticThreshold = 0.80
