package split

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

const numKeys = 100_000

var testKeys = func() []string {
	keys := make([]string, numKeys)
	for i := range keys {
		keys[i] = "user-" + strconv.Itoa(i)
	}
	return keys
}()

func mustAssigner(t testing.TB, experiment string, vs ...Variant) *Assigner {
	t.Helper()
	a, err := NewAssigner(experiment, vs)
	if err != nil {
		t.Fatalf("NewAssigner: %v", err)
	}
	return a
}

// withinBinomial fails unless count is within 5 standard deviations of a
// Binomial(n, p) mean.
func withinBinomial(t *testing.T, what string, count, n int, p float64) {
	t.Helper()
	mean := float64(n) * p
	sd := math.Sqrt(float64(n) * p * (1 - p))
	if math.Abs(float64(count)-mean) > 5*sd {
		t.Errorf("%s: got %d of %d, want %.0f ± %.0f", what, count, n, mean, 5*sd)
	}
}

func TestNewAssignerErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		variants []Variant
		want     string
	}{
		{"none", nil, "no variants"},
		{"empty name", []Variant{{"a", 1}, {"", 1}}, "no name"},
		{"duplicate", []Variant{{"a", 1}, {"a", 2}}, "duplicate"},
		{"zero weight", []Variant{{"a", 0}}, "weight"},
		{"negative weight", []Variant{{"a", 1}, {"b", -1}}, "weight"},
		{"NaN weight", []Variant{{"a", math.NaN()}}, "weight"},
		{"Inf weight", []Variant{{"a", math.Inf(1)}}, "weight"},
		{"overflowing total", []Variant{{"a", math.MaxFloat64}, {"b", math.MaxFloat64}}, "overflow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewAssigner("exp", tc.variants)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestStickyDistribution(t *testing.T) {
	for _, weights := range [][]float64{{1}, {50, 50}, {80, 20}, {1, 2, 7}, {0.5, 0.25, 0.125, 0.125}, {99, 1}} {
		var vs []Variant
		var total float64
		for i, w := range weights {
			vs = append(vs, Variant{Name: "v" + strconv.Itoa(i), Weight: w})
			total += w
		}
		a := mustAssigner(t, "dist", vs...)
		counts := make([]int, len(vs))
		for _, k := range testKeys {
			counts[a.Sticky(k)]++
		}
		for i, w := range weights {
			withinBinomial(t, "weights "+strconv.Itoa(len(weights))+" variant "+vs[i].Name, counts[i], numKeys, w/total)
		}
	}
}

func TestStickyIsStable(t *testing.T) {
	vs := []Variant{{"control", 1}, {"treatment", 1}, {"other", 2}}
	a, b := mustAssigner(t, "stable", vs...), mustAssigner(t, "stable", vs...)
	for _, k := range testKeys[:1000] {
		first := a.Sticky(k)
		if again := a.Sticky(k); again != first {
			t.Fatalf("key %s: %d then %d", k, first, again)
		}
		if other := b.Sticky(k); other != first {
			t.Fatalf("key %s: %d from one assigner, %d from an identical one", k, first, other)
		}
	}
	// Pinned results: these must never change, or every deployed
	// experiment would reshuffle its users on upgrade.
	golden := map[string]int{"": 2, "alice": 0, "bob": 2, "user-1": 1, "user-2": 1, "user-3": 0, "7d1f0c2e-session": 0, "x": 1}
	for k, want := range golden {
		if got := a.Sticky(k); got != want {
			t.Errorf("Sticky(%q) = %d, want %d (hash changed)", k, got, want)
		}
	}
}

func TestStickyWeightChangeMovesFewKeys(t *testing.T) {
	before := mustAssigner(t, "move", Variant{"a", 80}, Variant{"b", 20})
	after := mustAssigner(t, "move", Variant{"a", 70}, Variant{"b", 30})
	moved := 0
	for _, k := range testKeys {
		from, to := before.Sticky(k), after.Sticky(k)
		if from == to {
			continue
		}
		moved++
		if from != 0 || to != 1 {
			t.Fatalf("key %s moved %d → %d; only a → b should happen", k, from, to)
		}
	}
	frac := float64(moved) / numKeys
	if frac >= 0.13 || frac <= 0.07 {
		t.Fatalf("moved %.2f%% of keys, want about 10%%", 100*frac)
	}
}

func TestStickyAddRemoveVariant(t *testing.T) {
	two := mustAssigner(t, "grow", Variant{"a", 2}, Variant{"b", 1})
	three := mustAssigner(t, "grow", Variant{"a", 2}, Variant{"b", 1}, Variant{"c", 1})
	moved := 0
	for _, k := range testKeys {
		from, to := two.Sticky(k), three.Sticky(k)
		if from == to {
			continue
		}
		moved++
		if to != 2 {
			t.Fatalf("key %s moved %d → %d; keys may only move to the new variant", k, from, to)
		}
	}
	withinBinomial(t, "keys moved to c", moved, numKeys, 0.25)

	// Removing b again only moves b's keys.
	noB := mustAssigner(t, "grow", Variant{"a", 2}, Variant{"c", 1})
	for _, k := range testKeys {
		from, to := three.Sticky(k), noB.Sticky(k)
		if name := three.Names()[from]; name != "b" && name != noB.Names()[to] {
			t.Fatalf("key %s left %s though it was not removed", k, name)
		}
	}
}

func TestStickyIndependentAcrossExperiments(t *testing.T) {
	x := mustAssigner(t, "exp-x", Variant{"a", 1}, Variant{"b", 1})
	y := mustAssigner(t, "exp-y", Variant{"a", 1}, Variant{"b", 1})
	var cells [2][2]int
	for _, k := range testKeys {
		cells[x.Sticky(k)][y.Sticky(k)]++
	}
	for i := range cells {
		for j := range cells[i] {
			withinBinomial(t, "cell "+strconv.Itoa(i)+strconv.Itoa(j), cells[i][j], numKeys, 0.25)
		}
	}
}

func TestRandomDistribution(t *testing.T) {
	a := mustAssigner(t, "rand", Variant{"a", 1}, Variant{"b", 3}, Variant{"c", 6})
	counts := make([]int, 3)
	for range numKeys {
		counts[a.Random()]++
	}
	for i, p := range []float64{0.1, 0.3, 0.6} {
		withinBinomial(t, "random "+strconv.Itoa(i), counts[i], numKeys, p)
	}
}

func TestIndexAndNames(t *testing.T) {
	a := mustAssigner(t, "idx", Variant{"control", 1}, Variant{"fast", 1})
	if a.Experiment() != "idx" {
		t.Errorf("Experiment() = %q", a.Experiment())
	}
	for _, tc := range []struct {
		name string
		i    int
		ok   bool
	}{{"control", 0, true}, {"fast", 1, true}, {"Fast", 0, false}, {"", 0, false}} {
		if i, ok := a.Index(tc.name); i != tc.i || ok != tc.ok {
			t.Errorf("Index(%q) = %d, %v; want %d, %v", tc.name, i, ok, tc.i, tc.ok)
		}
	}
	names := a.Names()
	if strings.Join(names, ",") != "control,fast" {
		t.Fatalf("Names() = %v", names)
	}
	names[0] = "mutated"
	if a.Names()[0] != "control" {
		t.Fatal("Names() exposes internal state")
	}
}

func TestStickyDoesNotAllocate(t *testing.T) {
	a := mustAssigner(t, "alloc", Variant{"a", 1}, Variant{"b", 1}, Variant{"c", 1})
	if n := testing.AllocsPerRun(1000, func() { a.Sticky("session-1234567890") }); n != 0 {
		t.Fatalf("Sticky allocates %v times per call", n)
	}
}
