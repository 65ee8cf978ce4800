package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The report as a user reads it from the admin API.
type experimentReport struct {
	Name     string `json:"name"`
	Control  string `json:"control"`
	Variants []struct {
		Name      string  `json:"name"`
		Requests  int64   `json:"requests"`
		Errors    int64   `json:"errors"`
		ErrorRate float64 `json:"error_rate"`
		Latency   struct {
			P50, P95, P99 float64
		} `json:"latency_ms"`
		Cache  map[string]int64 `json:"cache"`
		Tokens struct {
			Total int64 `json:"total"`
		} `json:"tokens"`
		Feedback struct {
			Count  int64       `json:"count"`
			Mean   float64     `json:"mean"`
			CI95   *[2]float64 `json:"ci95"`
			Binary bool        `json:"binary"`
		} `json:"feedback"`
	} `json:"variants"`
	Comparisons []struct {
		Variant   string      `json:"variant"`
		Control   string      `json:"control"`
		ErrorRate reportTest  `json:"error_rate"`
		Feedback  *reportTest `json:"feedback"`
	} `json:"comparisons"`
}

type reportTest struct {
	Method      string   `json:"method"`
	Diff        float64  `json:"diff"`
	Statistic   *float64 `json:"statistic"`
	DF          *float64 `json:"df"`
	PValue      *float64 `json:"p_value"`
	Significant bool     `json:"significant"`
}

// variantCost is a variant's cost in the report.
type variantCost struct {
	TotalUSD      float64 `json:"total_usd"`
	PerRequestUSD float64 `json:"per_request_usd"`
	SavedUSD      float64 `json:"saved_usd"`
	Requests      int64   `json:"requests"`
}

// experimentCost reads each variant's cost from the admin API's report.
func (p *proxy) experimentCost(name string) map[string]variantCost {
	p.t.Helper()
	code, body := get(p.t, p.Admin+"/rag/experiments/"+name)
	var r struct {
		Variants []struct {
			Name string      `json:"name"`
			Cost variantCost `json:"cost"`
		} `json:"variants"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &r) != nil {
		p.t.Fatalf("GET /rag/experiments/%s: %d %s", name, code, body)
	}
	out := map[string]variantCost{}
	for _, v := range r.Variants {
		out[v.Name] = v.Cost
	}
	return out
}

func (p *proxy) experiment(name string) experimentReport {
	p.t.Helper()
	code, body := get(p.t, p.Admin+"/rag/experiments/"+name)
	var r experimentReport
	if code != http.StatusOK || json.Unmarshal([]byte(body), &r) != nil {
		p.t.Fatalf("GET /rag/experiments/%s: %d %s", name, code, body)
	}
	return r
}

// tally is what the test itself saw of one variant.
type tally struct {
	requests, errors, tokens, hits int64
	ids                            []string
	scores                         []float64
}

// Independent statistics, computed here from the raw data rather than by
// the split package.

func meanVar(xs []float64) (m, v float64) {
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	return m, v / float64(len(xs)-1)
}

func zTest(x1, n1, x2, n2 int64) (z, p float64) {
	p1, p2 := float64(x1)/float64(n1), float64(x2)/float64(n2)
	pool := float64(x1+x2) / float64(n1+n2)
	z = (p1 - p2) / math.Sqrt(pool*(1-pool)*(1/float64(n1)+1/float64(n2)))
	return z, math.Erfc(math.Abs(z) / math.Sqrt2)
}

// tCDF0 integrates Student's t density from 0 to x by Simpson's rule.
func tCDF0(x, df float64) float64 {
	lg1, _ := math.Lgamma((df + 1) / 2)
	lg2, _ := math.Lgamma(df / 2)
	c := math.Exp(lg1-lg2) / math.Sqrt(df*math.Pi)
	pdf := func(t float64) float64 { return c * math.Pow(1+t*t/df, -(df+1)/2) }
	const n = 20000
	h := x / n
	s := pdf(0) + pdf(x)
	for i := 1; i < n; i++ {
		w := 2.0
		if i%2 == 1 {
			w = 4
		}
		s += w * pdf(float64(i)*h)
	}
	return s * h / 3
}

func welch(a, b []float64) (t, df, p float64) {
	m1, v1 := meanVar(a)
	m2, v2 := meanVar(b)
	s1, s2 := v1/float64(len(a)), v2/float64(len(b))
	t = (m1 - m2) / math.Sqrt(s1+s2)
	df = (s1 + s2) * (s1 + s2) / (s1*s1/float64(len(a)-1) + s2*s2/float64(len(b)-1))
	return t, df, 1 - 2*tCDF0(math.Abs(t), df)
}

func wilson(k, n int64) [2]float64 {
	const z = 1.959963984540054
	ph, nf := float64(k)/float64(n), float64(n)
	center := (ph + z*z/(2*nf)) / (1 + z*z/nf)
	half := z / (1 + z*z/nf) * math.Sqrt(ph*(1-ph)/nf+z*z/(4*nf*nf))
	return [2]float64{center - half, center + half}
}

func tQuantile975(df float64) float64 {
	lo, hi := 0.0, 20.0
	for range 60 {
		mid := (lo + hi) / 2
		if tCDF0(mid, df) < 0.475 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.6g, want %.6g (±%g)", what, got, want, tol)
	}
}

func TestSplitReport(t *testing.T) {
	control := variantUpstream(t, "control", 10, 0, 0)
	treatment := variantUpstream(t, "treatment", 30, 5, 30*time.Millisecond)
	p := startCaddy(t, strings.NewReplacer("{CONTROL}", control, "{TREATMENT}", treatment).Replace(`
http://{SITE} {
	handle /feedback/binary {
		rag_feedback binary
	}
	handle /feedback/rating {
		rag_feedback rating
	}
	handle /binary/* {
		rag_split binary {
			variant control 50
			variant treatment 50
			override_header X-RAG-Variant
		}
		rag_cache {
			scope shared
		}
		@treatment vars {rag.variant} treatment
		reverse_proxy @treatment {TREATMENT}
		reverse_proxy {CONTROL}
	}
	handle /rating/* {
		rag_split rating {
			variant control 50
			variant treatment 50
			override_header X-RAG-Variant
		}
		@treatment vars {rag.variant} treatment
		reverse_proxy @treatment {TREATMENT}
		reverse_proxy {CONTROL}
	}
}`))
	seen := map[string]*tally{"control": {}, "treatment": {}}
	ask := func(path, variant, question string) {
		resp, body := post(t, p.URL+path, chatBody(question, false), "X-RAG-Variant", variant)
		if got := resp.Header.Get("X-RAG-Variant"); got != variant {
			t.Fatalf("forced %s, got %s", variant, got)
		}
		s := seen[variant]
		s.requests++
		switch {
		case resp.StatusCode >= 500:
			s.errors++
		case resp.Header.Get("X-Cache") == "HIT":
			s.hits++
		default:
			s.tokens += int64(tokensOf(t, body))
		}
		s.ids = append(s.ids, resp.Header.Get("X-Request-ID"))
	}
	for i := range 120 {
		for _, v := range []string{"control", "treatment"} {
			ask("/binary/chat", v, fmt.Sprint("question ", i))
		}
	}
	// Each variant's answers are cached apart: asking again is a HIT for
	// the variant's own answers only.
	for i := range 10 {
		for _, v := range []string{"control", "treatment"} {
			ask("/binary/chat", v, fmt.Sprint("question ", i))
		}
	}
	// Binary feedback on the first 90 answers of each variant.
	for v, s := range seen {
		for i, id := range s.ids[:90] {
			score := 0.0
			if (v == "control" && i%3 != 0) || (v == "treatment" && i%2 == 0) {
				score = 1
			}
			code, body := sendFeedbackTo(t, p, "/feedback/binary", fmt.Sprintf(`{"request_id":%q,"score":%v}`, id, score))
			if code != http.StatusOK || !strings.Contains(body, `"variant":"`+v+`"`) {
				t.Fatalf("feedback for %s: %d %s", v, code, body)
			}
			s.scores = append(s.scores, score)
		}
	}
	p.reload() // experiments and their counts outlive it
	r := p.experiment("binary")
	if r.Control != "control" || len(r.Variants) != 2 || len(r.Comparisons) != 1 {
		t.Fatalf("report %+v", r)
	}
	for _, v := range r.Variants {
		s := seen[v.Name]
		if v.Requests != s.requests || v.Errors != s.errors || v.Tokens.Total != s.tokens || v.Cache["HIT"] != s.hits || v.Cache["MISS"] != s.requests-s.hits {
			t.Errorf("%s: report %+v, saw %+v", v.Name, v, *s)
		}
		near(t, v.Name+" error rate", v.ErrorRate, float64(s.errors)/float64(s.requests), 1e-9)
		if !(v.Latency.P50 > 0 && v.Latency.P50 <= v.Latency.P95 && v.Latency.P95 <= v.Latency.P99) {
			t.Errorf("%s latency %+v", v.Name, v.Latency)
		}
		m, _ := meanVar(s.scores)
		var k int64
		for _, x := range s.scores {
			k += int64(x)
		}
		ci := wilson(k, int64(len(s.scores)))
		if v.Feedback.Count != int64(len(s.scores)) || !v.Feedback.Binary || v.Feedback.CI95 == nil {
			t.Fatalf("%s feedback %+v", v.Name, v.Feedback)
		}
		near(t, v.Name+" feedback mean", v.Feedback.Mean, m, 1e-9)
		near(t, v.Name+" ci low", v.Feedback.CI95[0], ci[0], 1e-6)
		near(t, v.Name+" ci high", v.Feedback.CI95[1], ci[1], 1e-6)
		if v.Name == "treatment" && v.Latency.P50 < 30 {
			t.Errorf("treatment p50 %vms, but its upstream takes 30ms", v.Latency.P50)
		}
	}
	c, tr := seen["control"], seen["treatment"]
	cmp := r.Comparisons[0]
	z, pv := zTest(tr.errors, tr.requests, c.errors, c.requests)
	if cmp.Variant != "treatment" || cmp.ErrorRate.Statistic == nil || cmp.ErrorRate.PValue == nil {
		t.Fatalf("error-rate comparison %+v", cmp.ErrorRate)
	}
	near(t, "error z", *cmp.ErrorRate.Statistic, z, 1e-6)
	near(t, "error p", *cmp.ErrorRate.PValue, pv, 1e-6)
	if cmp.ErrorRate.Significant != (pv < 0.05) {
		t.Errorf("error significance %v with p %v", cmp.ErrorRate.Significant, pv)
	}
	var kc, kt int64
	for i := range c.scores {
		kc += int64(c.scores[i])
		kt += int64(tr.scores[i])
	}
	z, pv = zTest(kt, int64(len(tr.scores)), kc, int64(len(c.scores)))
	if cmp.Feedback == nil || cmp.Feedback.Method != "two-proportion z" || cmp.Feedback.PValue == nil {
		t.Fatalf("binary feedback comparison %+v", cmp.Feedback)
	}
	near(t, "feedback z", *cmp.Feedback.Statistic, z, 1e-6)
	near(t, "feedback p", *cmp.Feedback.PValue, pv, 1e-6)

	// Ratings: Welch's t-test and Student t intervals.
	ratings := map[string][]float64{}
	for i := range 40 {
		for _, v := range []string{"control", "treatment"} {
			resp, _ := post(t, p.URL+"/rating/chat", chatBody(fmt.Sprint("rate ", i), false), "X-RAG-Variant", v)
			score := float64(1 + (i*7)%5) // control: 1..5 spread
			if v == "treatment" {
				score = float64(3 + (i*3)%3) // treatment: 3..5
			}
			if code, body := sendFeedbackTo(t, p, "/feedback/rating", fmt.Sprintf(`{"request_id":%q,"score":%v}`, resp.Header.Get("X-Request-ID"), score)); code != http.StatusOK {
				t.Fatalf("rating feedback: %d %s", code, body)
			}
			ratings[v] = append(ratings[v], score)
		}
	}
	r = p.experiment("rating")
	for _, v := range r.Variants {
		m, vr := meanVar(ratings[v.Name])
		n := float64(len(ratings[v.Name]))
		half := tQuantile975(n-1) * math.Sqrt(vr/n)
		if v.Feedback.Binary || v.Feedback.CI95 == nil {
			t.Fatalf("%s rating feedback %+v", v.Name, v.Feedback)
		}
		near(t, v.Name+" rating mean", v.Feedback.Mean, m, 1e-9)
		near(t, v.Name+" rating ci low", v.Feedback.CI95[0], m-half, 1e-4)
		near(t, v.Name+" rating ci high", v.Feedback.CI95[1], m+half, 1e-4)
	}
	tt, df, pv := welch(ratings["treatment"], ratings["control"])
	fb := r.Comparisons[0].Feedback
	if fb == nil || fb.Method != "welch t" || fb.Statistic == nil || fb.DF == nil || fb.PValue == nil {
		t.Fatalf("rating comparison %+v", fb)
	}
	near(t, "welch t", *fb.Statistic, tt, 1e-6)
	near(t, "welch df", *fb.DF, df, 1e-6)
	near(t, "welch p", *fb.PValue, pv, 1e-5)
	if fb.Significant != (pv < 0.05) {
		t.Errorf("rating significance %v with p %v", fb.Significant, pv)
	}

	// Prometheus metrics per experiment and variant.
	if got := p.metricValue("ragproxy_split_requests_total", `experiment="binary"`, `variant="treatment"`); got != float64(tr.requests) {
		t.Errorf("ragproxy_split_requests_total{treatment} = %v, want %d", got, tr.requests)
	}
	if got := p.metricValue("ragproxy_split_errors_total", `experiment="binary"`, `variant="treatment"`); got != float64(tr.errors) {
		t.Errorf("ragproxy_split_errors_total{treatment} = %v, want %d", got, tr.errors)
	}
	code, body := get(t, p.Admin+"/rag/experiments")
	if code != http.StatusOK || !strings.Contains(body, `"name":"binary"`) || !strings.Contains(body, `"name":"rating"`) {
		t.Errorf("GET /rag/experiments: %d %s", code, body)
	}
	if code, _ := get(t, p.Admin+"/rag/experiments/nope"); code != http.StatusNotFound {
		t.Errorf("unknown experiment: %d, want 404", code)
	}
}
