package split

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"
)

// twoPass returns the mean and sample variance of xs the textbook way, the
// mean first and then the squared deviations from it, summed in 256-bit
// floating point so that the reference is not itself off by the rounding
// of a long float64 sum.
func twoPass(xs []float64) (mean, variance float64) {
	const prec = 256
	sum := new(big.Float).SetPrec(prec)
	for _, x := range xs {
		sum.Add(sum, big.NewFloat(x))
	}
	n := new(big.Float).SetPrec(prec).SetInt64(int64(len(xs)))
	m := new(big.Float).SetPrec(prec).Quo(sum, n)
	mean, _ = m.Float64()
	if len(xs) < 2 {
		return mean, 0
	}
	ss := new(big.Float).SetPrec(prec)
	d := new(big.Float).SetPrec(prec)
	for _, x := range xs {
		d.Sub(big.NewFloat(x), m)
		ss.Add(ss, d.Mul(d, d))
	}
	variance, _ = ss.Quo(ss, n.Sub(n, big.NewFloat(1))).Float64()
	return mean, variance
}

// closeTo reports whether got is within rel of want, relative to scale.
func closeTo(got, want, scale, rel float64) bool {
	return math.Abs(got-want) <= rel*math.Max(scale, 1)
}

// TestFeedbackPoisoningRefused is finding 9: 1e308 then -1e308 used to make
// the running variance infinite, the mean wrong and the interval null for
// good. Such scores are refused now, leave the request unrated, and the
// statistics stay those of the scores that were accepted.
func TestFeedbackPoisoningRefused(t *testing.T) {
	e := NewExperiment("e")
	e.SetVariants([]string{"a"})
	for i, s := range []float64{1e308, -1e308, math.MaxFloat64, -math.MaxFloat64, MaxScore * 1.0000001, math.NaN(), math.Inf(1)} {
		id := "bad-" + strconv.Itoa(i)
		e.Remember(id, "a", t0)
		if _, err := e.Feedback(id, s, t0); !errors.Is(err, ErrBadScore) {
			t.Fatalf("Feedback(%v) = %v, want ErrBadScore", s, err)
		}
		// The refused score did not use the request up.
		if v, err := e.Feedback(id, 3, t0); err != nil || v != "a" {
			t.Fatalf("a valid score after %v: %q, %v", s, v, err)
		}
	}
	feed(t, e, "a", 4, 5)
	accepted := []float64{3, 3, 3, 3, 3, 3, 3, 4, 5}
	m, v := twoPass(accepted)
	f := e.Report().Variants[0].Feedback
	if f.Count != int64(len(accepted)) || !closeTo(f.Mean, m, m, 1e-12) || f.CI95 == nil {
		t.Fatalf("feedback %+v, want %d scores with mean %v and an interval", f, len(accepted), m)
	}
	half := studentTQuantile(0.975, float64(len(accepted)-1)) * math.Sqrt(v/float64(len(accepted)))
	if !closeTo(f.CI95[0], m-half, 1, 1e-9) || !closeTo(f.CI95[1], m+half, 1, 1e-9) {
		t.Fatalf("interval %v, want %v ± %v", *f.CI95, m, half)
	}
	// The largest scores allowed, in the worst order, stay finite.
	feed(t, e, "a", MaxScore, -MaxScore, MaxScore, -MaxScore)
	f = e.Report().Variants[0].Feedback
	if f.CI95 == nil || !isFinite(f.Mean) || !isFinite(f.CI95[0]) || !isFinite(f.CI95[1]) {
		t.Fatalf("feedback at ±MaxScore: %+v", f)
	}
}

// TestFeedbackAccumulatorGuards feeds the accumulator directly, below the
// experiment's bound check: a value that would make the mean or the
// variance non-finite never enters.
func TestFeedbackAccumulatorGuards(t *testing.T) {
	var f feedback
	for _, x := range []float64{math.MaxFloat64, -math.MaxFloat64, math.NaN(), math.Inf(-1), math.MaxFloat64, -math.MaxFloat64} {
		f.add(x)
		s := f.snapshot()
		if !isFinite(s.mean) || !isFinite(s.m2) || !isFinite(s.variance()) || s.m2 < 0 {
			t.Fatalf("after %v: %+v", x, s)
		}
	}
	if s := f.snapshot(); s.n != 2 || s.mean != math.MaxFloat64 || s.m2 != 0 {
		t.Fatalf("snapshot %+v: want only the two MaxFloat64 scores in", s)
	}
	if f.add(-math.MaxFloat64) {
		t.Fatal("add took a score that overflows the variance")
	}
	var g feedback
	if g.add(math.NaN()) || !g.add(1) || g.snapshot().n != 1 {
		t.Fatal("add must report what it refused and what it took")
	}
}

// TestFeedbackMatchesTwoPass compares Welford's running mean and variance
// with a two-pass computation over long sequences, at the extremes of the
// allowed range and with a large common offset.
func TestFeedbackMatchesTwoPass(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sequences := map[string]func(i int) float64{
		"alternating ±MaxScore": func(i int) float64 { return MaxScore * float64(1-2*(i%2)) },
		"uniform in range":      func(int) float64 { return (2*r.Float64() - 1) * MaxScore },
		"offset 1e9, spread 1":  func(int) float64 { return 1e9 + r.Float64() },
		"ratings 1..5":          func(int) float64 { return float64(1 + r.IntN(5)) },
		"thumbs":                func(int) float64 { return float64(r.IntN(2)) },
		"one large, many small": func(i int) float64 {
			if i == 0 {
				return MaxScore
			}
			return r.Float64()
		},
	}
	for name, next := range sequences {
		t.Run(name, func(t *testing.T) {
			var f feedback
			xs := make([]float64, 200_000)
			for i := range xs {
				xs[i] = next(i)
				if !f.add(xs[i]) {
					t.Fatalf("score %v refused", xs[i])
				}
			}
			m, v := twoPass(xs)
			s := f.snapshot()
			// Relative to the spread of the data, which is what the
			// rounding of either method scales with.
			scale := 0.0
			for _, x := range xs {
				scale = math.Max(scale, math.Abs(x-m))
			}
			if s.n != int64(len(xs)) || !closeTo(s.mean, m, scale, 1e-9) || !closeTo(s.variance(), v, scale*scale, 1e-9) {
				t.Fatalf("welford mean %v variance %v, two-pass %v %v", s.mean, s.variance(), m, v)
			}
		})
	}
}
