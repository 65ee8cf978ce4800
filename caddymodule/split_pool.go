package caddymodule

import (
	"github.com/ragproxy/ragproxy/split"
)

// experiments holds every experiment by name, reference counted across
// config loads (rag_split and rag_feedback both hold one): a reload keeps
// the counts, the feedback and the memory of recent requests. An
// experiment holds nothing to free.
var experiments = newPool[*split.Experiment]("experiment", nil)

// acquireExperiment cannot fail: making an experiment cannot, and the
// pool holds nothing else.
func acquireExperiment(name string) *split.Experiment {
	e, _, _ := experiments.acquire(name, func() (*split.Experiment, error) {
		return split.NewExperiment(name), nil
	})
	return e
}

// eachExperiment calls f for every live experiment.
func eachExperiment(f func(*split.Experiment)) { experiments.each(f) }
