package split

import "sync"

// MaxScore is the largest magnitude a feedback score may have. Within it
// every statistic stays finite for any sequence of scores, however long
// and in whatever order: the sum of squared deviations is at most
// n·(2·MaxScore)² ≈ 4e30·n, far below the float64 limit of 1.8e308 for
// any count that fits an int64. Beyond 1e15, float64 no longer holds every
// integer, so no rating scale needs more.
const MaxScore = 1e15

// feedback accumulates scores with Welford's method, which stays accurate
// where a running sum of squares would cancel catastrophically, on scores
// shifted by the first one: with ratings around a large offset (1e9 ± 1,
// say) the running mean then stays small and keeps its low bits, where an
// unshifted mean would round every deviation to the offset's precision.
// Feedback is rare next to requests, so a mutex is fine here.
type feedback struct {
	mu        sync.Mutex
	n         int64
	shift     float64 // the first score
	mean      float64 // of the shifted scores
	m2        float64 // sum of squared deviations from the mean
	ones      int64   // scores exactly 1, the successes of binary feedback
	nonBinary bool    // some score was neither 0 nor 1
}

// add folds one score in and reports whether it did. A score that would
// make the mean or the sum of squares NaN or infinite (a NaN or infinite
// score, or finite ones so far apart that their difference overflows) is
// refused and leaves the accumulator as it was, so one bad score can never
// poison the statistics for good. Experiment.Feedback bounds scores by
// MaxScore, so through it nothing is ever refused here.
func (f *feedback) add(x float64) bool {
	if !isFinite(x) {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	shift := f.shift
	if f.n == 0 {
		shift = x
	}
	y := x - shift
	n := f.n + 1
	d := y - f.mean
	mean := f.mean + d/float64(n)
	m2 := f.m2 + d*(y-mean)
	if !isFinite(y) || !isFinite(mean) || !isFinite(shift+mean) || !isFinite(m2) {
		return false
	}
	// d and y-mean have the same sign, so m2 only grows; clamp anyway so
	// that rounding can never make the variance negative.
	f.n, f.shift, f.mean, f.m2 = n, shift, mean, max(m2, 0)
	switch x {
	case 1:
		f.ones++
	case 0:
	default:
		f.nonBinary = true
	}
	return true
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
	return feedbackSnapshot{n: f.n, mean: f.shift + f.mean, m2: f.m2, ones: f.ones, binary: f.n > 0 && !f.nonBinary}
}

// variance returns the sample variance, or 0 below two scores.
func (s feedbackSnapshot) variance() float64 {
	if s.n < 2 {
		return 0
	}
	return s.m2 / float64(s.n-1)
}
