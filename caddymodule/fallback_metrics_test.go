package caddymodule

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestFallbacksHelpListsEveryReason: ragproxy_fallbacks_total's help names
// every reason a try can fail with (every class but broken, which is
// counted only in upstream_errors_total, and open).
func TestFallbacksHelpListsEveryReason(t *testing.T) {
	ch := make(chan *prometheus.Desc, 1)
	tierVecs.fallbacks.Describe(ch)
	desc := (<-ch).String()
	help := desc[strings.Index(desc, "help: "):]
	for _, reason := range append([]string{reasonOpen}, errorClasses...) {
		if reason == reasonBroken {
			continue
		}
		if !strings.Contains(help, reason+",") && !strings.Contains(help, reason+")") {
			t.Errorf("ragproxy_fallbacks_total's help does not name the reason %q: %s", reason, help)
		}
	}
}

func TestUpstreamErrorsHelpListsEveryClass(t *testing.T) {
	ch := make(chan *prometheus.Desc, 1)
	tierVecs.upstreamErrors.Describe(ch)
	desc := (<-ch).String()
	help := desc[strings.Index(desc, "help: "):]
	for _, class := range errorClasses {
		if !strings.Contains(help, class+",") && !strings.Contains(help, class+" (") {
			t.Errorf("ragproxy_upstream_errors_total's help does not name the class %q: %s", class, help)
		}
	}
}
