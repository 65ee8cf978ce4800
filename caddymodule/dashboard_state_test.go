package caddymodule

import (
	"strings"
	"testing"
)

// A client chooses its method and path: what the status page keeps of
// them is bounded, and valid UTF-8 however the cut falls.
func TestRememberRequestBoundsWhatClientsChoose(t *testing.T) {
	liveDashboards.Add(1)
	defer liveDashboards.Add(-1)
	rememberRequest(recentRequest{Method: strings.Repeat("M", 1<<16), Path: "/" + strings.Repeat("é", 1<<16)})
	got := recentRequests()[0]
	if len(got.Method) > maxRecentMethod+len("…") || len(got.Path) > maxRecentPath+len("…") {
		t.Fatalf("kept a %d-byte method and a %d-byte path", len(got.Method), len(got.Path))
	}
	if !strings.HasPrefix(got.Path, "/éé") || strings.ContainsRune(got.Path[:len(got.Path)-len("…")], '…') {
		t.Fatalf("path %q", got.Path)
	}
}
