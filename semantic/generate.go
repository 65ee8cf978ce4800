package semantic

// The contrast guard's lexicon: WordNet's part (needs Debian's
// wordnet-base: apt-get install wordnet-base), then the swaps learned from
// Quora's labels (needs ../shared/data), in that order.
//go:generate go run ./internal/lexgen -wordnet /usr/share/wordnet -o wordnet.txt.gz
//go:generate go run ./internal/learnsame -qqp ../../shared/data/semantic/qqp_pairs.jsonl.gz -o quora_same.txt
