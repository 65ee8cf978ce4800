package split

import (
	"math"
	"testing"
)

// Reference values below come from mpmath at 30 digits
// (betainc(df/2, 1/2, 0, df/(df+t²), regularized=True)) and agree with
// printed t tables.

func TestStudentTTwoSided(t *testing.T) {
	for _, tc := range []struct {
		t, df, want float64
	}{
		{2.0, 10, 0.0733880347707404},
		{2.228, 10, 0.0500117718171114},
		{-2.0, 10, 0.0733880347707404},
		{1.0, 1, 0.5},
		{3.5, 2.5, 0.0523455469603203},
		{0.5, 100, 0.6181735658308866},
		{5, 3, 0.0153924380733023},
		{0, 7, 1},
		{1e6, 4, 0},
		{math.Inf(1), 4, 0},
	} {
		if got := studentTTwoSided(tc.t, tc.df); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("P(|T|>%v; df=%v) = %.12f, want %.12f", tc.t, tc.df, got, tc.want)
		}
	}
}

func TestStudentTCDF(t *testing.T) {
	for _, tc := range []struct {
		t, df, want float64
	}{
		{0, 5, 0.5},
		{2.0, 10, 1 - 0.0733880347707404/2},
		{-2.0, 10, 0.0733880347707404 / 2},
	} {
		if got := studentTCDF(tc.t, tc.df); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("CDF(%v; df=%v) = %.12f, want %.12f", tc.t, tc.df, got, tc.want)
		}
	}
}

func TestStudentTQuantile(t *testing.T) {
	for _, tc := range []struct {
		p, df, want float64
	}{
		{0.975, 1, 12.7062047361747},
		{0.975, 2, 4.30265272974946},
		{0.975, 2.5, 3.57465484200368},
		{0.975, 4, 2.77644510519779},
		{0.975, 5, 2.57058183563632},
		{0.975, 10, 2.22813885198627},
		{0.975, 30, 2.04227245630124},
		{0.975, 1000, 1.96233908082641},
		{0.025, 10, -2.22813885198627},
		{0.5, 10, 0},
	} {
		if got := studentTQuantile(tc.p, tc.df); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("quantile(%v; df=%v) = %.12f, want %.12f", tc.p, tc.df, got, tc.want)
		}
	}
}

func TestRegIncBeta(t *testing.T) {
	for _, tc := range []struct {
		a, b, x, want float64
	}{
		{1, 1, 0.3, 0.3},             // uniform CDF
		{2, 1, 0.5, 0.25},            // x^a when b = 1
		{1, 3, 0.2, 1 - 0.8*0.8*0.8}, // 1-(1-x)^b when a = 1
		{0.5, 0.5, 0.5, 0.5},         // symmetric
		{5, 5, 0.5, 0.5},             // symmetric
		{2, 3, 0.4, 0.5248},          // 6x²-8x³+3x⁴ at 0.4
		{3, 2, 0.6, 1 - 0.5248},      // I_x(a,b) = 1 - I_{1-x}(b,a)
		{2, 3, 0, 0}, {2, 3, 1, 1},
	} {
		if got := regIncBeta(tc.a, tc.b, tc.x); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("I_%v(%v,%v) = %.15f, want %.15f", tc.x, tc.a, tc.b, got, tc.want)
		}
	}
}
