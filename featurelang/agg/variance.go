package agg

import (
	"math"

	"github.com/fenestra-dev/fenestra/featurelang/exactsum"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// The variance family (hybridse/src/udf/default_defs/aggregate_def.cc):
// var_pop, var_samp (alias variance), stddev_pop and stddev (aliases std,
// stddev_samp) of int16, int32, int64, float or double values, a double.
// NULLs are skipped; an empty frame gives NULL, and so does a sample
// statistic over a single value. NaN or an infinity among the values gives
// NaN.
//
// OpenMLDB computes sum((x - avg)^2) in a second pass, in row order. Here
// the state is the count n and the exact sums S = Σx and Q = Σx² (each x²
// split into two floats with math.FMA, both added exactly), so sliding and
// fresh accumulators hold the same state whatever the order. The result
// reads S and Q to about 159 bits, computes n·Q − S² from them exactly and
// rounds once; the sum of squared deviations is that over n.

func init() {
	register(resolveVariance, "var_pop", "var_samp", "variance", "stddev_pop", "stddev", "std", "stddev_samp")
}

func resolveVariance(name string, args []types.Type, consts []*types.Value) (*Func, error) {
	if err := wantArgs(name, args, 1); err != nil {
		return nil, err
	}
	if !args[0].IsNumeric() {
		return nil, argError(name, "cannot compute the variance of %s; expected a number", args[0])
	}
	samp := name != "var_pop" && name != "stddev_pop"
	sqrt := name != "var_pop" && name != "var_samp" && name != "variance"
	return newFunc(name, args, types.Double, consts, func(c []*types.Column) Acc {
		return &varAcc{col: c[0], samp: samp, sqrt: sqrt}
	}), nil
}

// varAcc holds n, S = Σx and Q = Σx², exactly.
type varAcc struct {
	col        *types.Column
	samp, sqrt bool
	n          int64
	s, q       exactsum.Acc
}

func (a *varAcc) Reset() {
	a.n = 0
	a.s.Reset()
	a.q.Reset()
}

// update adds (sign 1) or subtracts (sign -1) row.
func (a *varAcc) update(row int, sign int64) {
	if a.col.IsNull(row) {
		return
	}
	a.n += sign
	if a.col.F != nil {
		x := a.col.F[row]
		addTo(&a.s, x, sign)
		addProduct(&a.q, x, x, sign)
		return
	}
	i := a.col.I[row]
	if sign > 0 {
		a.s.AddInt(i)
	} else {
		a.s.SubInt(i)
	}
	addIntSquare(&a.q, i, sign)
}

func (a *varAcc) Add(row int) { a.update(row, 1) }

func (a *varAcc) AddRange(lo, hi int) {
	for i := lo; i < hi; i++ {
		a.update(i, 1)
	}
}

func (a *varAcc) Remove(row int) { a.update(row, -1) }

func (a *varAcc) ResultWith(row int) types.Value {
	a.update(row, 1)
	r := a.Result()
	a.update(row, -1)
	return r
}

func (a *varAcc) Result() types.Value {
	if a.n == 0 || a.samp && a.n == 1 {
		return types.NullOf(types.Double)
	}
	var v float64
	sh, qh := a.s.Float64(), a.q.Float64()
	switch {
	case math.IsNaN(sh) || math.IsInf(sh, 0) || math.IsNaN(qh):
		v = math.NaN()
	case math.IsInf(qh, 0): // squares beyond float64
		v = math.Inf(1)
	default:
		m2 := a.deviations() / float64(a.n) // Σ(x - avg)²
		if a.samp {
			v = m2 / float64(a.n-1)
		} else {
			v = m2 / float64(a.n)
		}
	}
	if a.sqrt {
		v = math.Sqrt(v)
	}
	return types.DoubleValue(v)
}

// deviations returns n·Σ(x - avg)² = n·Q − S², rounded once, at least 0.
func (a *varAcc) deviations() float64 {
	s, q := parts(&a.s), parts(&a.q)
	nf := float64(a.n)
	var t exactsum.Acc
	for _, qi := range q {
		addProduct(&t, nf, qi, 1)
	}
	for i, si := range s {
		addProduct(&t, si, si, -1)
		for _, sj := range s[i+1:] {
			addProduct(&t, 2*si, sj, -1)
		}
	}
	return max(t.Float64(), 0)
}

// parts returns three floats whose sum is the value of acc to about 159
// bits: the value rounded, then the rounded remainders. acc is restored
// exactly.
func parts(acc *exactsum.Acc) [3]float64 {
	var p [3]float64
	for i := range p {
		p[i] = acc.Float64()
		acc.Sub(p[i])
	}
	for _, x := range p {
		acc.Add(x)
	}
	return p
}

func addTo(acc *exactsum.Acc, x float64, sign int64) {
	if sign > 0 {
		acc.Add(x)
	} else {
		acc.Sub(x)
	}
}

// addProduct adds sign·x·y to acc exactly (barring overflow and underflow
// of the product): x·y is split into its rounded value and the rounding
// error, computed with a fused multiply-add.
func addProduct(acc *exactsum.Acc, x, y float64, sign int64) {
	p := x * y
	addTo(acc, p, sign)
	if e := math.FMA(x, y, -p); !math.IsInf(p, 0) && !math.IsNaN(p) && e != 0 {
		addTo(acc, e, sign)
	}
}

// addIntSquare adds sign·i² to acc exactly.
func addIntSquare(acc *exactsum.Acc, i int64, sign int64) {
	if -1<<26 <= i && i <= 1<<26 {
		f := float64(i)
		addTo(acc, f*f, sign) // exact: below 2^53
		return
	}
	// i = h·2^32 + l with 0 <= l < 2^32: i² = h²·2^64 + 2hl·2^32 + l².
	h, l := float64(i>>32), float64(i&(1<<32-1))
	addProduct(acc, h*0x1p32, h*0x1p32, sign)
	addProduct(acc, h*0x1p33, l, sign)
	addProduct(acc, l, l, sign)
}
