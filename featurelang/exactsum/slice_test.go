package exactsum

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAddSlice checks AddSlice against Add one by one: the same exact
// value (Equal) on slices of every length around the fast path's
// boundaries, with subnormals, zeros, NaN and infinities mixed in, and
// across carry passes.
func TestAddSlice(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(12, 13))
	special := []float64{0, math.Copysign(0, -1), 5e-324, -2.5e-310, math.Inf(1), math.Inf(-1), math.NaN(), math.MaxFloat64}
	for _, n := range []int{0, 1, 31, 32, 33, 64, 100, 1023, 1024, 2049, 5000} {
		for trial := range 40 {
			xs := make([]float64, n)
			for i := range xs {
				switch {
				case trial%5 == 0 && r.IntN(50) == 0:
					xs[i] = special[r.IntN(len(special))]
				case trial%5 == 1:
					xs[i] = math.Float64frombits(r.Uint64())
				case trial%5 == 2: // the narrow path: one column's values, zeros, both signs
					xs[i] = float64(r.IntN(200_000)-100_000) / 100
				case trial%5 == 3: // exponents exactly 64 apart at most, and the extremes
					xs[i] = math.Ldexp(float64(r.Int64N(1<<53)), r.IntN(65)-1074+52+r.IntN(2)*1900)
				default:
					xs[i] = r.NormFloat64() * math.Pow(10, float64(r.IntN(20)-10))
				}
			}
			var want, got Acc
			want.Add(1.5) // a non-empty start
			got.Add(1.5)
			for _, x := range xs {
				want.Add(x)
			}
			got.AddSlice(xs)
			if !got.Equal(&want) || math.Float64bits(got.Float64()) != math.Float64bits(want.Float64()) {
				t.Fatalf("n=%d trial=%d: AddSlice %v, Add %v", n, trial, got.Float64(), want.Float64())
			}
		}
	}
}

func BenchmarkAddSlice1000(b *testing.B) {
	xs := make([]float64, 1000)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range xs {
		xs[i] = float64(r.IntN(100_000)) / 100
	}
	var a Acc
	for b.Loop() {
		a.Reset()
		a.AddSlice(xs)
	}
}

func BenchmarkAddLoop1000(b *testing.B) {
	xs := make([]float64, 1000)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range xs {
		xs[i] = float64(r.IntN(100_000)) / 100
	}
	var a Acc
	for b.Loop() {
		a.Reset()
		for _, x := range xs {
			a.Add(x)
		}
	}
}
