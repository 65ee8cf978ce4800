package caddymodule

import (
	"github.com/caddyserver/caddy/v2"

	"github.com/ragproxy/ragproxy/split"
)

// experiments holds every experiment by name, reference counted across
// config loads (rag_split and rag_feedback both hold one): a reload keeps
// the counts, the feedback and the memory of recent requests.
var experiments = caddy.NewUsagePool()

type sharedExperiment struct{ *split.Experiment }

func (sharedExperiment) Destruct() error { return nil }

func acquireExperiment(name string) *split.Experiment {
	v, _, _ := experiments.LoadOrNew(name, func() (caddy.Destructor, error) {
		return sharedExperiment{split.NewExperiment(name)}, nil
	})
	return v.(sharedExperiment).Experiment
}

// eachExperiment calls f for every live experiment.
func eachExperiment(f func(*split.Experiment)) {
	experiments.Range(func(_, v any) bool {
		f(v.(sharedExperiment).Experiment)
		return true
	})
}
