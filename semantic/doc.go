// Package semantic is ragproxy's semantic cache layer: embedders, vector
// index and guards. It lets a cache answer "How do I reset my password?"
// with the answer it stored for "How can I reset my password?", and it
// knows nothing of Caddy.
//
// The pieces:
//   - embedders turn a question into a unit vector: Local, built in (hashed
//     character n-grams and word bigrams, no files, no network, a few
//     microseconds a question), and Remote, any OpenAI-compatible
//     /v1/embeddings endpoint;
//   - the vector index finds the cached question with the highest cosine
//     similarity to a new one; Store keeps one index per scope, so only
//     questions asked in the same way (tenant, model, system prompt,
//     parameters) are ever compared;
//   - guards veto matches that similarity gets wrong: TooShort rules out
//     questions too short to compare, Compatible rules out pairs that differ
//     in numbers, identifiers or negation.
//
// A match is a hit when its similarity reaches the threshold and the guards
// pass. A false hit serves the answer to another question, which is worse
// than a miss, so thresholds are set for precision first.
// DefaultLocalThreshold is the Local embedder's, measured with
// `go run ./bench/semantic` on Quora Question Pairs and LLM paraphrases.
package semantic
