package caddymodule

import "github.com/prometheus/client_golang/prometheus"

// promptCacheResults counts the requests rag_prompt_cache prepared.
var promptCacheResults = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "ragproxy_prompt_cache_requests_total",
	Help: "Requests rag_prompt_cache prepared, by result (added: Anthropic breakpoints inserted; full, client_ttl, too_short, not_applicable: left alone; key_set, key_present: OpenAI prompt_cache_key).",
}, []string{"result"})

func init() { addCollectors(promptCacheResults) }
