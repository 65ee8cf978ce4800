package split

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

// feed remembers one request per score and gives it that score.
func feed(t *testing.T, e *Experiment, variant string, scores ...float64) {
	t.Helper()
	for _, s := range scores {
		id := variant + "-" + strconv.Itoa(len(e.memory.byID)) + "-" + strconv.FormatFloat(s, 'g', -1, 64)
		e.Remember(id, variant, t0)
		if _, err := e.Feedback(id, s, t0); err != nil {
			t.Fatalf("Feedback: %v", err)
		}
	}
}

// record counts n requests, errors of them failed.
func record(v *VariantStats, n, errors int) {
	for i := range n {
		v.Record(Outcome{Latency: time.Duration(i+1) * time.Millisecond, Error: i < errors, CacheStatus: "MISS", Tokens: 10})
	}
}

func TestReportComparesAgainstControl(t *testing.T) {
	e := NewExperiment("prompt-v2")
	e.SetVariants([]string{"control", "binary", "ratings", "silent"})
	record(e.Variant("control"), 100, 30)
	record(e.Variant("binary"), 100, 45)
	record(e.Variant("ratings"), 100, 30)
	feed(t, e, "control", 1, 0, 1, 1, 0, 1, 1, 1, 0, 1)
	feed(t, e, "binary", 1, 1, 1, 1, 1, 1, 1, 0, 1, 1)
	feed(t, e, "ratings", 4, 5, 3, 5, 4)

	r := e.Report()
	if r.Name != "prompt-v2" || r.Control != "control" || len(r.Variants) != 4 || len(r.Comparisons) != 3 {
		t.Fatalf("report shape: %+v", r)
	}
	for i, name := range []string{"control", "binary", "ratings", "silent"} {
		if r.Variants[i].Name != name {
			t.Fatalf("variant %d is %s, want %s", i, r.Variants[i].Name, name)
		}
	}

	bin := r.Comparisons[0]
	if bin.Variant != "binary" || bin.Control != "control" {
		t.Fatalf("comparison 0: %+v", bin)
	}
	// 45/100 vs 30/100 errors.
	if er := bin.ErrorRate; er.Method != MethodTwoProportionZ || !near(er.Diff, 0.15) || !near(*er.Statistic, 2.19089023) || !near(*er.PValue, 0.02845974) || !er.Significant {
		t.Fatalf("binary error rate test: %+v", er)
	}
	if fb := bin.Feedback; fb == nil || fb.Method != MethodTwoProportionZ || !near(fb.Diff, 0.9-0.7) {
		t.Fatalf("binary feedback test: %+v", fb)
	}
	if ci := r.Variants[0].Feedback.CI95; ci == nil || !near(ci[0], 0.3967781475) || !near(ci[1], 0.8922087326) || !r.Variants[0].Feedback.Binary {
		t.Fatalf("control Wilson interval: %+v", r.Variants[0].Feedback)
	}

	rat := r.Comparisons[1]
	if rat.ErrorRate.Diff != 0 || rat.ErrorRate.Significant {
		t.Fatalf("ratings error rate: %+v", rat.ErrorRate)
	}
	if fb := rat.Feedback; fb == nil || fb.Method != MethodWelchT || fb.DF == nil || !near(fb.Diff, 4.2-0.7) || !fb.Significant {
		t.Fatalf("ratings feedback test: %+v", fb)
	}
	if f := r.Variants[2].Feedback; f.Binary || f.CI95 == nil || !near(f.Mean, 4.2) {
		t.Fatalf("ratings feedback: %+v", f)
	}

	silent := r.Comparisons[2]
	if silent.Feedback == nil || silent.Feedback.PValue != nil || silent.ErrorRate.PValue != nil {
		t.Fatalf("a variant with no traffic must compare as not computable: %+v", silent)
	}
	if r.Variants[3].Cache != nil {
		t.Fatal("silent variant reports a cache map")
	}
}

func TestReportJSON(t *testing.T) {
	e := NewExperiment("e")
	e.SetVariants([]string{"a", "b"})
	e.Variant("a").Record(Outcome{Latency: 5 * time.Millisecond, CacheStatus: "HIT"})
	feed(t, e, "a", 1)
	raw, err := json.Marshal(e.Report())
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	for _, want := range []string{
		`"name":"e"`, `"control":"a"`, `"latency_ms":{"p50":`, `"p95":`, `"p99":`,
		`"error_rate":`, `"cache":{"HIT":1}`, `"tokens":{"total":0,"per_request":0}`,
		`"feedback":{"count":1,"mean":1,"ci95":null,"binary":true}`,
		`"comparisons":[{"variant":"b","control":"a","error_rate":{"method":"two-proportion z","diff":0,"significant":false,"reason":"no samples"}`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON lacks %s:\n%s", want, s)
		}
	}
	if strings.Contains(s, `"p_value"`) {
		t.Errorf("not-computable tests must omit p_value:\n%s", s)
	}
}

func TestReportWithoutConfig(t *testing.T) {
	e := NewExperiment("e")
	e.Variant("zeta").Record(Outcome{})
	e.Variant("alpha").Record(Outcome{})
	r := e.Report()
	if r.Control != "" || len(r.Variants) != 2 || r.Variants[0].Name != "alpha" || r.Comparisons == nil || len(r.Comparisons) != 0 {
		t.Fatalf("report before SetVariants: %+v", r)
	}
	raw, _ := json.Marshal(NewExperiment("empty").Report())
	if !strings.Contains(string(raw), `"variants":[],"comparisons":[]`) {
		t.Fatalf("empty report JSON: %s", raw)
	}
}

func TestReportKeepsStatsAcrossReloads(t *testing.T) {
	e := NewExperiment("e")
	e.SetVariants([]string{"a", "b"})
	record(e.Variant("b"), 7, 0)
	e.SetVariants([]string{"a", "c"})
	for _, v := range e.Report().Variants {
		if v.Name == "b" {
			t.Fatal("a variant dropped from the config is still reported")
		}
	}
	e.SetVariants([]string{"b", "a"})
	r := e.Report()
	if r.Control != "b" || r.Variants[0].Requests != 7 || r.Comparisons[0].Variant != "a" {
		t.Fatalf("after re-adding b: %+v", r)
	}
}

func TestReportNeverCarriesNaN(t *testing.T) {
	e := NewExperiment("e")
	e.SetVariants([]string{"a", "b", "c", "d"})
	// Extreme but finite scores, past Experiment.Feedback's bound, straight
	// into the accumulator: the ones that would overflow it are refused,
	// and the rest must still report finite numbers.
	for _, x := range []float64{math.MaxFloat64, -math.MaxFloat64, math.MaxFloat64} {
		e.Variant("a").feedback.add(x)
	}
	feed(t, e, "b", 1, 2)
	feed(t, e, "c", 5, 5, 5) // zero variance
	feed(t, e, "d", 5)       // one score
	record(e.Variant("a"), 3, 3)
	r := e.Report()
	if _, err := json.Marshal(r); err != nil {
		t.Fatalf("report does not marshal: %v\n%+v", err, r)
	}
	for _, v := range r.Variants {
		if !isFinite(v.Feedback.Mean) || (v.Feedback.CI95 != nil && (!isFinite(v.Feedback.CI95[0]) || !isFinite(v.Feedback.CI95[1]))) {
			t.Fatalf("%s: non-finite feedback %+v", v.Name, v.Feedback)
		}
	}
	for _, c := range r.Comparisons {
		for _, tt := range []*Test{&c.ErrorRate, c.Feedback} {
			if tt == nil {
				continue
			}
			if !isFinite(tt.Diff) || (tt.PValue == nil) != (tt.Statistic == nil) || (tt.PValue == nil && tt.Significant) {
				t.Fatalf("%s: bad test %+v", c.Variant, tt)
			}
		}
	}
	if c := r.Comparisons[1]; c.Feedback.PValue != nil { // c and a: zero variance each
		t.Fatalf("c vs a: %+v", c.Feedback)
	}
}

func TestComparisonMethodChoice(t *testing.T) {
	for _, tc := range []struct {
		name          string
		control, trt  []float64
		method        string
		feedbackIsNil bool
	}{
		{"no feedback", nil, nil, "", true},
		{"both binary", []float64{1, 0}, []float64{0, 0, 1}, MethodTwoProportionZ, false},
		{"control empty, treatment binary", nil, []float64{1, 0}, MethodTwoProportionZ, false},
		{"control ratings", []float64{3, 4}, []float64{1, 0}, MethodWelchT, false},
		{"treatment ratings", []float64{1, 0}, []float64{0.5, 1}, MethodWelchT, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := NewExperiment("e")
			e.SetVariants([]string{"c", "t"})
			feed(t, e, "c", tc.control...)
			feed(t, e, "t", tc.trt...)
			fb := e.Report().Comparisons[0].Feedback
			if (fb == nil) != tc.feedbackIsNil || (fb != nil && fb.Method != tc.method) {
				t.Fatalf("feedback test = %+v, want method %q", fb, tc.method)
			}
		})
	}
}
