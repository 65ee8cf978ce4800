package split

import (
	"slices"
	"sync"
)

// Experiment holds the statistics of every variant an experiment has had,
// keyed by name so they survive configuration reloads, plus the memory of
// which variant served recent requests. It is safe for concurrent use.
type Experiment struct {
	name string

	mu      sync.RWMutex
	stats   map[string]*VariantStats
	current []string // the configured variants, control first

	memory memory
}

// NewExperiment returns an empty experiment called name.
func NewExperiment(name string) *Experiment {
	e := &Experiment{name: name, stats: make(map[string]*VariantStats)}
	e.memory.init()
	return e
}

// Name returns the experiment's name.
func (e *Experiment) Name() string { return e.name }

// Variant returns the statistics of the variant called name, creating them
// on first use. Callers should look the pointer up once per configuration
// and Record through it, keeping the map off the hot path.
func (e *Experiment) Variant(name string) *VariantStats {
	e.mu.RLock()
	v := e.stats[name]
	e.mu.RUnlock()
	if v != nil {
		return v
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.variantLocked(name)
}

// variantLocked is Variant with e.mu held for writing.
func (e *Experiment) variantLocked(name string) *VariantStats {
	v := e.stats[name]
	if v == nil {
		v = &VariantStats{name: name}
		e.stats[name] = v
	}
	return v
}

// SetVariants declares the current configuration's variants, in order;
// the first is the control. Variants no longer listed keep their
// statistics (a reload may bring them back) but drop out of reports.
// Repeated names count once.
func (e *Experiment) SetVariants(names []string) {
	current := make([]string, 0, len(names))
	for _, n := range names {
		if !slices.Contains(current, n) {
			current = append(current, n)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.current = current
	for _, n := range current {
		e.variantLocked(n)
	}
}

// Variants returns the current configuration's variant names, control
// first, as last given to SetVariants.
func (e *Experiment) Variants() []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return slices.Clone(e.current)
}
