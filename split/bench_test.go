package split

import (
	"strconv"
	"testing"
	"time"
)

func BenchmarkSticky(b *testing.B) {
	for _, n := range []int{2, 5} {
		vs := make([]Variant, n)
		for i := range vs {
			vs[i] = Variant{Name: "variant-" + strconv.Itoa(i), Weight: float64(i + 1)}
		}
		a := mustAssigner(b, "bench", vs...)
		b.Run(strconv.Itoa(n)+"variants", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				a.Sticky(testKeys[i%len(testKeys)])
			}
		})
	}
}

func BenchmarkRandom(b *testing.B) {
	a := mustAssigner(b, "bench", Variant{"a", 1}, Variant{"b", 2}, Variant{"c", 3})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			a.Random()
		}
	})
}

func BenchmarkRecord(b *testing.B) {
	v := NewExperiment("bench").Variant("a")
	o := Outcome{Latency: 37 * time.Millisecond, CacheStatus: "SEMANTIC-HIT", Tokens: 512}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v.Record(o)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				v.Record(o)
			}
		})
	})
}

func BenchmarkRemember(b *testing.B) {
	e := NewExperiment("bench")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		e.Remember(testKeys[i%len(testKeys)], "a", t0)
	}
}

func BenchmarkReport(b *testing.B) {
	e := NewExperiment("bench")
	e.SetVariants([]string{"control", "treatment"})
	for i := range 10_000 {
		e.Variant("control").Record(Outcome{Latency: time.Duration(i) * time.Microsecond})
		e.Variant("treatment").Record(Outcome{Latency: time.Duration(i) * time.Microsecond, Error: i%50 == 0})
	}
	b.ReportAllocs()
	for b.Loop() {
		e.Report()
	}
}
