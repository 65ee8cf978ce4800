// Package split assigns requests to experiment variants and measures each
// variant. It knows nothing of Caddy.
//
// An Assigner maps a request to a variant, either stickily (the same key
// always lands on the same variant, on every machine and across restarts)
// or at random. An Experiment accumulates per-variant outcomes (errors,
// latency percentiles, cache statuses, tokens) and later feedback scores,
// and its Report compares every variant against the control with the usual
// significance tests.
package split
