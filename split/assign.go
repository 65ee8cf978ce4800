package split

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// Variant is one arm of an experiment: its name and its relative share of
// traffic. Weights need not sum to anything in particular.
type Variant struct {
	Name   string
	Weight float64
}

// Assigner maps requests to the variants of one experiment. It is
// immutable once built and safe for concurrent use; build a new one when
// the configuration changes.
type Assigner struct {
	experiment string
	variants   []Variant
	// seeds[i] is the FNV-1a state after experiment+"\x00"+name+"\x00", so
	// Sticky only hashes the key itself per variant.
	seeds []uint64
	// cum holds cumulative weights for Random.
	cum   []float64
	index map[string]int
}

// NewAssigner validates variants and returns an Assigner for experiment.
// It fails when there are no variants, a name is empty or repeated, or a
// weight is not a positive finite number.
func NewAssigner(experiment string, variants []Variant) (*Assigner, error) {
	if len(variants) == 0 {
		return nil, errors.New("split: experiment " + experiment + ": no variants")
	}
	a := &Assigner{
		experiment: experiment,
		variants:   append([]Variant(nil), variants...),
		seeds:      make([]uint64, len(variants)),
		cum:        make([]float64, len(variants)),
		index:      make(map[string]int, len(variants)),
	}
	var total float64
	for i, v := range variants {
		switch {
		case v.Name == "":
			return nil, fmt.Errorf("split: experiment %s: variant %d has no name", experiment, i)
		case math.IsNaN(v.Weight) || math.IsInf(v.Weight, 0) || v.Weight <= 0:
			return nil, fmt.Errorf("split: experiment %s: variant %s: weight must be a positive finite number, got %v", experiment, v.Name, v.Weight)
		}
		if _, dup := a.index[v.Name]; dup {
			return nil, fmt.Errorf("split: experiment %s: duplicate variant %s", experiment, v.Name)
		}
		a.index[v.Name] = i
		h := fnvByte(fnvString(fnvOffset64, experiment), 0)
		a.seeds[i] = fnvByte(fnvString(h, v.Name), 0)
		total += v.Weight
		a.cum[i] = total
	}
	if math.IsInf(total, 0) {
		return nil, fmt.Errorf("split: experiment %s: weights overflow", experiment)
	}
	return a, nil
}

// Sticky returns the index of the variant that key belongs to. The result
// depends only on the experiment name, the variant names and weights, and
// key, so it is the same on every machine and across restarts.
//
// It uses weighted rendezvous hashing: every variant draws u in (0,1) from
// a hash of (experiment, variant, key) and scores -weight/ln(u); the
// highest score wins, which happens with probability weight/Σweights.
// Because a variant's score does not depend on the others, changing one
// weight or adding or removing a variant only moves the keys that must move.
func (a *Assigner) Sticky(key string) int {
	if len(a.seeds) == 1 {
		return 0
	}
	best, bestScore := 0, math.Inf(-1)
	for i, seed := range a.seeds {
		u := unitOpen(mix64(fnvString(seed, key)))
		if score := -a.variants[i].Weight / math.Log(u); score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// Random returns a variant index drawn in proportion to the weights. It
// suits requests with no stable key.
func (a *Assigner) Random() int {
	total := a.cum[len(a.cum)-1]
	r := rand.Float64() * total
	// Binary search for the first cumulative weight above r.
	lo, hi := 0, len(a.cum)-1
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if a.cum[mid] > r {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	// hi starts at the last index, so r == total (rounding) lands there.
	return lo
}

// Index returns the index of the variant called name, for requests that
// force a variant (an override header, say).
func (a *Assigner) Index(name string) (int, bool) {
	i, ok := a.index[name]
	return i, ok
}

// Names returns the variant names in configuration order.
func (a *Assigner) Names() []string {
	names := make([]string, len(a.variants))
	for i, v := range a.variants {
		names[i] = v.Name
	}
	return names
}

// Experiment returns the experiment name the Assigner hashes with.
func (a *Assigner) Experiment() string { return a.experiment }
