package split

import "math"

// studentTTwoSided returns P(|T| ≥ |t|) for T with Student's t distribution
// on df degrees of freedom (df may be fractional, as Welch's is). It uses
// the identity P = I_x(df/2, 1/2) with x = df/(df+t²).
func studentTTwoSided(t, df float64) float64 {
	return regIncBeta(df/2, 0.5, df/(df+t*t))
}

// studentTCDF returns P(T ≤ t).
func studentTCDF(t, df float64) float64 {
	tail := studentTTwoSided(t, df) / 2
	if t > 0 {
		return 1 - tail
	}
	return tail
}

// studentTQuantile returns the t with P(T ≤ t) = p, for 0 < p < 1, by
// bisection: the CDF is monotonic, and 200 halvings reach full float64
// precision from any bracket, so no derivative is worth the risk.
func studentTQuantile(p, df float64) float64 {
	switch {
	case p == 0.5:
		return 0
	case p < 0.5:
		return -studentTQuantile(1-p, df)
	}
	lo, hi := 0.0, 2.0
	for studentTCDF(hi, df) < p && hi < 1e300 {
		lo, hi = hi, hi*2
	}
	for range 200 {
		mid := lo + (hi-lo)/2
		if mid == lo || mid == hi {
			break
		}
		if studentTCDF(mid, df) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo + (hi-lo)/2
}

// regIncBeta returns the regularized incomplete beta function I_x(a, b)
// for a, b > 0 (Numerical Recipes' betai): a prefactor times a continued
// fraction, evaluated on whichever side of the mean converges fast.
func regIncBeta(a, b, x float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	lab, _ := math.Lgamma(a + b)
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	front := math.Exp(lab - la - lb + a*math.Log(x) + b*math.Log1p(-x))
	if x < (a+1)/(a+b+2) {
		return front * betaCF(a, b, x) / a
	}
	return 1 - front*betaCF(b, a, 1-x)/b
}

// betaCF evaluates the continued fraction for the incomplete beta function
// by the modified Lentz method (Numerical Recipes' betacf).
func betaCF(a, b, x float64) float64 {
	const (
		maxIter = 500
		eps     = 1e-16
		tiny    = 1e-300
	)
	qab, qap, qam := a+b, a+1, a-1
	c, d := 1.0, 1-qab*x/qap
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= maxIter; m++ {
		fm := float64(m)
		m2 := 2 * fm
		// Even step.
		aa := fm * (b - fm) * x / ((qam + m2) * (a + m2))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		h *= d * c
		// Odd step.
		aa = -(a + fm) * (qab + fm) * x / ((a + m2) * (qap + m2))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < eps {
			break
		}
	}
	return h
}
