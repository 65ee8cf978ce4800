package split

import "sync"

// feedback accumulates scores with Welford's method, which stays accurate
// where a running sum of squares would cancel catastrophically. Feedback
// is rare next to requests, so a mutex is fine here.
type feedback struct {
	mu        sync.Mutex
	n         int64
	mean      float64
	m2        float64 // sum of squared deviations from the mean
	ones      int64   // scores exactly 1, the successes of binary feedback
	nonBinary bool    // some score was neither 0 nor 1
}

// add folds one finite score in.
func (f *feedback) add(x float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	d := x - f.mean
	f.mean += d / float64(f.n)
	f.m2 += d * (x - f.mean)
	switch x {
	case 1:
		f.ones++
	case 0:
	default:
		f.nonBinary = true
	}
}

// feedbackSnapshot is a consistent copy of a feedback accumulator.
type feedbackSnapshot struct {
	n      int64
	mean   float64
	m2     float64
	ones   int64
	binary bool // at least one score, and all of them 0 or 1
}

// snapshot copies f under its lock.
func (f *feedback) snapshot() feedbackSnapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return feedbackSnapshot{n: f.n, mean: f.mean, m2: f.m2, ones: f.ones, binary: f.n > 0 && !f.nonBinary}
}

// variance returns the sample variance, or 0 below two scores.
func (s feedbackSnapshot) variance() float64 {
	if s.n < 2 {
		return 0
	}
	return s.m2 / float64(s.n-1)
}
