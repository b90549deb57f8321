package agg

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// log2Big returns log2(x) for a positive finite x correctly rounded: from
// 200-bit arithmetic, x = m·2^e with m in [1, 2).
func log2Big(x float64) float64 {
	const prec = 200
	m, e := math.Frexp(x)
	m, e = 2*m, e-1
	l := bigLn(new(big.Float).SetPrec(prec).SetFloat64(m))
	l.Quo(l, bigLn(new(big.Float).SetPrec(prec).SetInt64(2)))
	l.Add(l, new(big.Float).SetPrec(prec).SetInt64(int64(e)))
	f, _ := l.Float64()
	return f
}

// TestLog2Exact checks log2Exact against correctly rounded log2: over the
// probabilities entropy takes (count/total) and over doubles of every
// magnitude, subnormals included. It also shows why log2Exact exists: Go's
// math.Log2 is not correctly rounded for a good share of them.
func TestLog2Exact(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	var xs []float64
	for range 1500 {
		n := 2 + rng.Int64N(1<<uint(1+rng.IntN(40)))
		xs = append(xs, float64(1+rng.Int64N(n-1))/float64(n))
		xs = append(xs, math.Float64frombits(rng.Uint64()&^(1<<63)))
		xs = append(xs, 1+rng.Float64()*1e-6, 1-rng.Float64()*1e-6)
	}
	xs = append(xs, 1, 0.5, 0.25, 2, 3, 1.0/3, 5e-324, math.MaxFloat64, math.Nextafter(1, 0), math.Nextafter(1, 2))
	goDiffers := 0
	for _, x := range xs {
		if math.IsInf(x, 0) || math.IsNaN(x) || x == 0 {
			continue
		}
		want := log2Big(x)
		if got := log2Exact(x); got != want {
			t.Errorf("log2Exact(%v) = %v, want %v", x, got, want)
		}
		if math.Log2(x) != want {
			goDiffers++
		}
	}
	t.Logf("math.Log2 is not correctly rounded for %d of %d arguments", goDiffers, len(xs))
	for _, x := range []float64{0, -1, math.Inf(1), math.NaN()} {
		if got, want := log2Exact(x), math.Log2(x); math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("log2Exact(%v) = %v, want %v", x, got, want)
		}
	}
}
