package split

import (
	"math"
	"testing"
)

const tol = 1e-4

func near(a, b float64) bool { return math.Abs(a-b) <= tol }

// meanVar returns the mean and sample variance of xs.
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

func TestTwoProportionZ(t *testing.T) {
	for _, tc := range []struct {
		name           string
		x1, n1, x2, n2 int64
		z, p           float64 // NaN: not computable
		diff           float64
	}{
		{"textbook", 45, 100, 30, 100, 2.1908902300, 0.0284597369, 0.15},
		{"sign follows treatment", 30, 100, 45, 100, -2.1908902300, 0.0284597369, -0.15},
		{"equal rates", 10, 100, 20, 200, 0, 1, 0},
		{"unequal sizes", 12, 400, 30, 500, -2.1202604782, 0.0339840847, 0.03 - 0.06},
		{"no treatment samples", 0, 0, 5, 10, math.NaN(), math.NaN(), -0.5},
		{"no control samples", 5, 10, 0, 0, math.NaN(), math.NaN(), 0.5},
		{"all zero", 0, 100, 0, 100, math.NaN(), math.NaN(), 0},
		{"all one", 50, 50, 70, 70, math.NaN(), math.NaN(), 0},
		{"more successes than trials", 11, 10, 1, 10, math.NaN(), math.NaN(), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := twoProportionZ(tc.x1, tc.n1, tc.x2, tc.n2)
			if got.Method != MethodTwoProportionZ || !near(got.Diff, tc.diff) || got.DF != nil {
				t.Fatalf("got %+v, want method %q diff %v and no df", got, MethodTwoProportionZ, tc.diff)
			}
			if math.IsNaN(tc.z) {
				if got.Statistic != nil || got.PValue != nil || got.Significant || got.Reason == "" {
					t.Fatalf("got %+v, want not computable", got)
				}
				return
			}
			if got.Statistic == nil || got.PValue == nil {
				t.Fatalf("got %+v, want computable", got)
			}
			if !near(*got.Statistic, tc.z) || !near(*got.PValue, tc.p) || got.Significant != (tc.p < 0.05) {
				t.Fatalf("z = %v, p = %v, significant %v; want z %v, p %v", *got.Statistic, *got.PValue, got.Significant, tc.z, tc.p)
			}
		})
	}
}

func TestWelchT(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		treatment, control   []float64
		stat, df, p, diffVal float64 // NaN stat: not computable
	}{
		// mpmath reference values; by hand for the first: means 6 and 3,
		// variances 10 and 2.5, se² = 2 + 0.5, t = 3/√2.5, df = 6.25/1.0625.
		{"by hand", []float64{2, 4, 6, 8, 10}, []float64{1, 2, 3, 4, 5}, 1.8973665961, 5.8823529412, 0.1075311949, 3},
		{"reversed", []float64{1, 2, 3, 4, 5}, []float64{2, 4, 6, 8, 10}, -1.8973665961, 5.8823529412, 0.1075311949, -3},
		{"ratings", []float64{3.1, 2.9, 4.0, 3.7, 3.3, 3.8, 4.1}, []float64{2.5, 2.7, 3.0, 2.2, 2.9, 3.1, 2.8, 2.6, 2.4, 3.0}, 4.2373872518, 9.3821136903, 0.0019879469, 0},
		{"one side constant", []float64{1, 2, 3}, []float64{2, 2, 2, 2}, 0, 2, 1, 0},
		{"both constant", []float64{1, 1, 1}, []float64{2, 2}, math.NaN(), 0, 0, -1},
		{"single sample", []float64{4}, []float64{1, 2, 3}, math.NaN(), 0, 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m1, v1 := meanVar(tc.treatment)
			m2, v2 := meanVar(tc.control)
			if len(tc.treatment) == 1 {
				v1 = 0
			}
			got := welchT(m1, v1, int64(len(tc.treatment)), m2, v2, int64(len(tc.control)))
			if tc.diffVal == 0 {
				tc.diffVal = m1 - m2
			}
			if got.Method != MethodWelchT || !near(got.Diff, tc.diffVal) {
				t.Fatalf("got %+v, want method %q diff %v", got, MethodWelchT, tc.diffVal)
			}
			if math.IsNaN(tc.stat) {
				if got.Statistic != nil || got.DF != nil || got.PValue != nil || got.Significant || got.Reason == "" {
					t.Fatalf("got %+v, want not computable", got)
				}
				return
			}
			if got.Statistic == nil || got.DF == nil || got.PValue == nil {
				t.Fatalf("got %+v, want computable", got)
			}
			if !near(*got.Statistic, tc.stat) || !near(*got.DF, tc.df) || !near(*got.PValue, tc.p) || got.Significant != (tc.p < 0.05) {
				t.Fatalf("t = %v, df = %v, p = %v; want %v, %v, %v", *got.Statistic, *got.DF, *got.PValue, tc.stat, tc.df, tc.p)
			}
		})
	}
}

func TestWilson(t *testing.T) {
	for _, tc := range []struct {
		k, n   int64
		lo, hi float64
		ok     bool
	}{
		{7, 10, 0.3967781475, 0.8922087326, true}, // mpmath
		{0, 10, 0, 0.2775327998, true},            // z²/(n+z²) upper bound
		{10, 10, 1 - 0.2775327998, 1, true},
		{1, 1, 0, 0, false},
		{0, 0, 0, 0, false},
	} {
		ci, ok := wilson(tc.k, tc.n)
		if ok != tc.ok || !near(ci[0], tc.lo) || !near(ci[1], tc.hi) {
			t.Errorf("wilson(%d, %d) = %v, %v; want [%v %v], %v", tc.k, tc.n, ci, ok, tc.lo, tc.hi, tc.ok)
		}
	}
}

func TestTInterval(t *testing.T) {
	half := 2.77644510519779 * math.Sqrt(2.5/5) // t(0.975, 4)·s/√n for 1..5
	for _, tc := range []struct {
		name    string
		mean, v float64
		n       int64
		want    [2]float64
		ok      bool
	}{
		{"1..5", 3, 2.5, 5, [2]float64{3 - half, 3 + half}, true},
		{"two equal", 4, 0, 2, [2]float64{4, 4}, true},
		{"one", 4, 0, 1, [2]float64{}, false},
		{"overflow", 0, math.Inf(1), 3, [2]float64{}, false},
	} {
		ci, ok := tInterval(tc.mean, tc.v, tc.n)
		if ok != tc.ok || !near(ci[0], tc.want[0]) || !near(ci[1], tc.want[1]) {
			t.Errorf("%s: got %v, %v; want %v, %v", tc.name, ci, ok, tc.want, tc.ok)
		}
	}
}
