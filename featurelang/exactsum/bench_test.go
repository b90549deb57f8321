package exactsum

import (
	"math/rand/v2"
	"testing"
)

// benchValues returns 1024 values from the generator named name.
func benchValues(name string) []float64 {
	r := rand.New(rand.NewPCG(5, 5))
	for _, g := range generators {
		if g.name == name {
			xs := make([]float64, 1024)
			for i := range xs {
				xs[i] = g.gen(r)
			}
			return xs
		}
	}
	panic("no generator " + name)
}

// benchAcc returns an Acc holding the sum of xs.
func benchAcc(xs []float64) *Acc {
	a := new(Acc)
	for _, x := range xs {
		a.Add(x)
	}
	return a
}

// benchSets are the value distributions of the benchmarks: typical data
// first, then the worst case, values spread over the whole range.
var benchSets = []string{"positive", "similar", "any"}

func BenchmarkAdd(b *testing.B) {
	for _, name := range benchSets {
		xs := benchValues(name)
		b.Run(name, func(b *testing.B) {
			var a Acc
			for i := 0; b.Loop(); i++ {
				a.Add(xs[i&1023])
			}
		})
	}
}

func BenchmarkSub(b *testing.B) {
	for _, name := range benchSets {
		xs := benchValues(name)
		b.Run(name, func(b *testing.B) {
			var a Acc
			for i := 0; b.Loop(); i++ {
				a.Sub(xs[i&1023])
			}
		})
	}
}

// BenchmarkSlide is a sliding window: each step adds a value and subtracts
// the one added 100 steps before.
func BenchmarkSlide(b *testing.B) {
	xs := benchValues("positive")
	var a Acc
	for i := 0; b.Loop(); i++ {
		a.Add(xs[i&1023])
		a.Sub(xs[(i-100)&1023])
	}
}

func BenchmarkAddInt(b *testing.B) {
	r := rand.New(rand.NewPCG(6, 6))
	is := make([]int64, 1024)
	for i := range is {
		is[i] = r.Int64N(1e6) - 5e5
	}
	var a Acc
	for i := 0; b.Loop(); i++ {
		a.AddInt(is[i&1023])
	}
}

func BenchmarkFloat64(b *testing.B) {
	for _, name := range benchSets {
		a := benchAcc(benchValues(name))
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				_ = a.Float64()
			}
		})
	}
	b.Run("negative", func(b *testing.B) {
		a := benchAcc(benchValues("similar"))
		a.Add(-1e6)
		for b.Loop() {
			_ = a.Float64()
		}
	})
}

func BenchmarkFloat32(b *testing.B) {
	for _, name := range benchSets {
		a := benchAcc(benchValues(name))
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				_ = a.Float32()
			}
		})
	}
}

func BenchmarkMerge(b *testing.B) {
	for _, name := range benchSets {
		src := benchAcc(benchValues(name))
		b.Run(name, func(b *testing.B) {
			var a Acc
			for b.Loop() {
				a.Merge(src)
			}
		})
	}
}

// BenchmarkReset resets an Acc holding the sum of 1024 values, restoring
// only its range of digits in use between resets (the digits are zero then,
// which makes no difference to Reset).
func BenchmarkReset(b *testing.B) {
	for _, name := range benchSets {
		a := benchAcc(benchValues(name))
		used := a.used
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				a.used = used
				a.Reset()
			}
		})
	}
}

func BenchmarkMarshalBinary(b *testing.B) {
	a := benchAcc(benchValues("positive"))
	buf := make([]byte, 0, 64)
	for b.Loop() {
		buf, _ = a.AppendBinary(buf[:0])
	}
}

func BenchmarkUnmarshalBinary(b *testing.B) {
	enc, _ := benchAcc(benchValues("positive")).MarshalBinary()
	var a Acc
	for b.Loop() {
		_ = a.UnmarshalBinary(enc)
	}
}
