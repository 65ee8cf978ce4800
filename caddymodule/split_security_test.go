package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
)

// issuedID is a canonical lower-case version 4 UUID, as rag_split issues.
var issuedID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestSplitIgnoresClientRequestID is finding 9: a client chose its own
// X-Request-ID, so it could score a request id it never got, or re-send
// another client's id to take over its attribution and score it again.
// Now every answer gets an id the proxy issued; the client's id only
// reaches the access log, as rag_client_request_id.
func TestSplitIgnoresClientRequestID(t *testing.T) {
	logDirective, logFile := accessLog(t)
	cf := strings.NewReplacer("{CONTROL}", variantUpstream(t, "control", 10, 0, 0),
		"{TREATMENT}", variantUpstream(t, "treatment", 10, 0, 0)).Replace(splitCaddyfile)
	p := startCaddy(t, strings.Replace(cf, "handle /feedback {", logDirective+"\n\thandle /feedback {", 1))

	s := askSplit(t, p, "X-Request-ID", "mine-123")
	if s.requestID == "mine-123" || !issuedID.MatchString(s.requestID) || s.seenID != s.requestID {
		t.Fatalf("client id mine-123: answer id %q, upstream saw %q; want a new UUID for both", s.requestID, s.seenID)
	}
	if code, body := sendFeedback(t, p, `{"request_id":"mine-123","score":1}`); code != http.StatusBadRequest || !strings.Contains(body, "unknown_request_id") {
		t.Fatalf("feedback on the client's own id: %d %s, want 400 unknown_request_id", code, body)
	}
	if code, body := sendFeedback(t, p, fmt.Sprintf(`{"request_id":%q,"score":1}`, s.requestID)); code != http.StatusOK {
		t.Fatalf("feedback on the issued id: %d %s", code, body)
	}
	eventually(t, "the access log line with the client's id apart", func() bool {
		b, _ := os.ReadFile(logFile)
		for line := range strings.SplitSeq(string(b), "\n") {
			var entry map[string]any
			if json.Unmarshal([]byte(line), &entry) == nil && entry["rag_request_id"] == s.requestID {
				if entry["rag_client_request_id"] != "mine-123" {
					t.Fatalf("log line %s: rag_client_request_id %v, want mine-123", line, entry["rag_client_request_id"])
				}
				return true
			}
		}
		return false
	})

	// Another client replays a victim's id: it gets its own id, and the
	// victim's request keeps its one score.
	victim := askSplit(t, p, "X-User-ID", "victim")
	if code, body := sendFeedback(t, p, fmt.Sprintf(`{"request_id":%q,"score":1}`, victim.requestID)); code != http.StatusOK {
		t.Fatalf("victim's feedback: %d %s", code, body)
	}
	for range 3 {
		a := askSplit(t, p, "X-User-ID", "attacker", "X-Request-ID", victim.requestID)
		if a.requestID == victim.requestID || a.seenID == victim.requestID {
			t.Fatalf("replayed id kept: answer %q, upstream %q", a.requestID, a.seenID)
		}
		if code, body := sendFeedback(t, p, fmt.Sprintf(`{"request_id":%q,"score":0}`, victim.requestID)); code != http.StatusConflict {
			t.Fatalf("second score on the victim's request: %d %s, want 409", code, body)
		}
	}
}

// TestFeedbackScoreRange is finding 9: 1e308 then -1e308 made the running
// variance infinite, the mean wrong and the interval null for good. Scores
// outside the range (default [-100, 100]), too large for a float64, or not
// numbers now get 400 without using the request up, and the report stays
// finite with an interval.
func TestFeedbackScoreRange(t *testing.T) {
	p := startCaddy(t, `
http://{SITE} {
	handle /feedback {
		rag_feedback ranged
	}
	handle /feedback5 {
		rag_feedback ranged {
			score_range 1 5
		}
	}
	handle {
		rag_split ranged {
			variant only 1
		}
		reverse_proxy `+variantUpstream(t, "only", 10, 0, 0)+`
	}
}`)
	ids := make([]string, 4)
	for i := range ids {
		ids[i] = askSplit(t, p).requestID
	}
	score := func(path, id, score string) (int, string) {
		return sendFeedbackTo(t, p, path, fmt.Sprintf(`{"request_id":%q,"score":%s}`, id, score))
	}
	for _, c := range []struct{ path, score, code string }{
		{"/feedback", "1e308", "invalid_score"},
		{"/feedback", "-1e308", "invalid_score"},
		{"/feedback", "1e400", "invalid_score"},
		{"/feedback", "100.0001", "invalid_score"},
		{"/feedback", "-101", "invalid_score"},
		{"/feedback", `"5"`, "invalid_score"},
		{"/feedback", "true", "invalid_score"},
		{"/feedback", "[1]", "invalid_score"},
		{"/feedback", "null", "missing_score"},
		{"/feedback5", "0", "invalid_score"},
		{"/feedback5", "5.5", "invalid_score"},
	} {
		for _, id := range ids[:2] {
			code, body := score(c.path, id, c.score)
			var e struct {
				Error struct{ Message, Type, Code string }
			}
			if code != http.StatusBadRequest || json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != c.code || e.Error.Type != "invalid_request_error" || e.Error.Message == "" {
				t.Fatalf("%s score %s: %d %s, want 400 %s", c.path, c.score, code, body, c.code)
			}
		}
	}
	// The refused scores used nothing up; the bounds themselves are in range.
	accepted := []float64{100, -100, 3, 5}
	for i, s := range []struct{ path, score string }{{"/feedback", "100"}, {"/feedback", "-100"}, {"/feedback", "3"}, {"/feedback5", "5"}} {
		if code, body := score(s.path, ids[i], s.score); code != http.StatusOK {
			t.Fatalf("%s score %s: %d %s", s.path, s.score, code, body)
		}
	}
	f := p.experiment("ranged").Variants[0].Feedback
	m, v := meanVar(accepted)
	half := tQuantile975(float64(len(accepted)-1)) * math.Sqrt(v/float64(len(accepted)))
	if f.Count != int64(len(accepted)) || f.CI95 == nil {
		t.Fatalf("feedback %+v, want %d scores and an interval", f, len(accepted))
	}
	near(t, "mean", f.Mean, m, 1e-9)
	near(t, "ci low", f.CI95[0], m-half, 1e-3)
	near(t, "ci high", f.CI95[1], m+half, 1e-3)
}
