// Package mockupstream is a small, deterministic OpenAI-compatible LLM and
// RAG search server. It stands in for real upstreams in the gateway's demo,
// integration tests and benchmarks.
//
// Endpoints:
//
//	POST /v1/chat/completions  chat completions, JSON or SSE stream
//	POST /v1/completions       legacy text completions
//	POST /v1/messages          Anthropic Messages, JSON or SSE with its event
//	                           types; plays the prompt cache (cache_control)
//	POST /v1/embeddings        deterministic, L2-normalised embeddings
//	POST /query                RAG search: answer plus three documents
//	GET  /v1/models            the single model "mock-model"
//	GET  /healthz              "ok"
//
// Answers are derived from the request only ("Mock answer to: <text>"),
// except for the ids ("chatcmpl-mock-<N>", "cmpl-mock-<N>", "request_seq")
// which carry a per-server sequence number, so a test can tell a cached
// replay from a fresh answer.
//
// Failure injection (latency, error statuses, dropped connections, empty
// search results) is configured with [Options] and can be overridden per
// request with the X-Mock-* headers (see [HeaderLatency] and friends). The
// knobs apply to every path, /healthz included.
package mockupstream
