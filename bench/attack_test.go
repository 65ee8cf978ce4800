package main

import (
	"testing"
)

// TestAttack runs every attack class of the adversarial suite once, without
// load, through a real Caddy with the whole pipeline, and fails a class's
// sub-test on any leak, failed check, 5xx of the proxy's own, or when the
// class could not be configured. It keeps issue 12's holes closed.
func TestAttack(t *testing.T) {
	r, err := runAttack(attackOptions{Conns: 4, NestReps: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + attackReport(attackOptions{Conns: 4}, r))
	for _, c := range r.Classes {
		t.Run(c.name, func(t *testing.T) {
			tl := &c.tally
			if c.needs != "" && r.Missing[c.needs] != "" {
				t.Errorf("finding %s: not run: the config %q is not accepted: %s", c.finding, c.needs, r.Missing[c.needs])
				return
			}
			if tl.tried.Load() == 0 {
				t.Errorf("no request was sent")
			}
			if n := tl.leaked.Load() + tl.failed.Load() + tl.ours5xx.Load(); n > 0 {
				tl.mu.Lock()
				ex := tl.examples
				tl.mu.Unlock()
				t.Errorf("finding %s OPEN: %d leaked, %d failed checks, %d 5xx of ours (of %d requests); %q",
					c.finding, tl.leaked.Load(), tl.failed.Load(), tl.ours5xx.Load(), tl.tried.Load(), ex)
			}
		})
	}
}
