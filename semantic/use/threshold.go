package use

// DefaultThreshold is the least cosine similarity at which the semantic
// cache treats two questions embedded by this model as the same question:
// the smallest at which, guards on, the Quora 300/1000 cache simulation's
// raw precision reaches 0.90 and at most 5% of bench/semantic's dev-set
// contrasts hit (go run ./bench/semantic; BENCHMARKS.md).
const DefaultThreshold = 0.88

// DefaultStaticThreshold is DefaultThreshold for the static distillation:
// the same rule gives 0.79; 0.80 leans to precision.
const DefaultStaticThreshold = 0.80
