package split

import "math"

// z975 is the standard normal 0.975 quantile, for 95% intervals.
const z975 = 1.959963984540054

// significance is the p-value below which a difference is reported as
// significant.
const significance = 0.05

// Test methods.
const (
	MethodTwoProportionZ = "two-proportion z"
	MethodWelchT         = "welch t"
)

// Test is the outcome of comparing a treatment with the control. When the
// test cannot be computed (no samples, no variance) Statistic, DF and
// PValue are nil, Significant is false, and Reason says why, so the
// report never carries a NaN.
type Test struct {
	// Method is MethodTwoProportionZ or MethodWelchT.
	Method string `json:"method"`
	// Diff is the treatment's rate or mean minus the control's.
	Diff float64 `json:"diff"`
	// Statistic is z or t.
	Statistic *float64 `json:"statistic,omitempty"`
	// DF is the Welch–Satterthwaite degrees of freedom (Welch only).
	DF *float64 `json:"df,omitempty"`
	// PValue is two-sided.
	PValue *float64 `json:"p_value,omitempty"`
	// Significant is PValue < 0.05.
	Significant bool `json:"significant"`
	// Reason explains a test that could not be computed.
	Reason string `json:"reason,omitempty"`
}

// notComputable returns a test that has only a difference and a reason.
func notComputable(method string, diff float64, reason string) Test {
	return Test{Method: method, Diff: finite(diff), Reason: reason}
}

// computed returns a complete test, or a not-computable one should any
// number have come out NaN or infinite.
func computed(method string, diff, stat, df, p float64, welch bool) Test {
	if !isFinite(diff) || !isFinite(stat) || !isFinite(p) || (welch && !isFinite(df)) {
		return notComputable(method, diff, "numerically unstable")
	}
	t := Test{Method: method, Diff: diff, Statistic: &stat, PValue: &p, Significant: p < significance}
	if welch {
		t.DF = &df
	}
	return t
}

// twoProportionZ compares proportions x1/n1 (treatment) and x2/n2
// (control) with the pooled two-proportion z-test.
func twoProportionZ(x1, n1, x2, n2 int64) Test {
	p1, p2 := ratio(x1, n1), ratio(x2, n2)
	diff := p1 - p2
	switch {
	case n1 <= 0 || n2 <= 0:
		return notComputable(MethodTwoProportionZ, diff, "no samples")
	case x1 < 0 || x2 < 0 || x1 > n1 || x2 > n2:
		return notComputable(MethodTwoProportionZ, diff, "invalid counts")
	}
	pool := float64(x1+x2) / float64(n1+n2)
	if pool == 0 || pool == 1 {
		return notComputable(MethodTwoProportionZ, diff, "no variation")
	}
	se := math.Sqrt(pool * (1 - pool) * (1/float64(n1) + 1/float64(n2)))
	z := diff / se
	p := math.Erfc(math.Abs(z) / math.Sqrt2)
	return computed(MethodTwoProportionZ, diff, z, 0, p, false)
}

// welchT compares means m1 (treatment) and m2 (control), with sample
// variances v1, v2 over n1, n2 samples, by Welch's unequal-variance t-test.
func welchT(m1, v1 float64, n1 int64, m2, v2 float64, n2 int64) Test {
	diff := m1 - m2
	if n1 < 2 || n2 < 2 {
		return notComputable(MethodWelchT, diff, "fewer than two samples")
	}
	a, b := v1/float64(n1), v2/float64(n2)
	se2 := a + b
	if se2 <= 0 {
		return notComputable(MethodWelchT, diff, "no variance")
	}
	t := diff / math.Sqrt(se2)
	df := se2 * se2 / (a*a/float64(n1-1) + b*b/float64(n2-1))
	return computed(MethodWelchT, diff, t, df, studentTTwoSided(t, df), true)
}

// wilson returns the 95% Wilson score interval for k successes in n
// trials, which unlike the normal interval stays inside [0, 1] and behaves
// at rates near 0 or 1. ok is false below two trials.
func wilson(k, n int64) (ci [2]float64, ok bool) {
	if n < 2 || k < 0 || k > n {
		return ci, false
	}
	nf := float64(n)
	p := float64(k) / nf
	z2 := z975 * z975
	den := 1 + z2/nf
	center := (p + z2/(2*nf)) / den
	half := z975 * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / den
	return [2]float64{max(center-half, 0), min(center+half, 1)}, true
}

// tInterval returns the 95% Student t interval for a mean over n samples
// with sample variance v. ok is false below two samples.
func tInterval(mean, v float64, n int64) (ci [2]float64, ok bool) {
	if n < 2 {
		return ci, false
	}
	half := studentTQuantile(0.975, float64(n-1)) * math.Sqrt(v/float64(n))
	ci = [2]float64{mean - half, mean + half}
	if !isFinite(ci[0]) || !isFinite(ci[1]) {
		return [2]float64{}, false
	}
	return ci, true
}

// ratio returns x/n, or 0 when n is 0.
func ratio(x, n int64) float64 {
	if n <= 0 {
		return 0
	}
	return float64(x) / float64(n)
}

// isFinite reports whether x is neither NaN nor infinite.
func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// finite returns x, or 0 if x is NaN or infinite, for report fields that
// must marshal to JSON.
func finite(x float64) float64 {
	if isFinite(x) {
		return x
	}
	return 0
}
