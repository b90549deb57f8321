package exactsum

import (
	"math"
	"math/big"
	"testing"
)

// oracle is the reference Acc: the exact sum as a big.Int in units of
// 2^-1074 (every float64 and int64 is an integer multiple), rounded by
// big.Float, plus the NaN and infinity counts.
type oracle struct {
	v               big.Int
	nan, pinf, ninf int64
}

// scaled returns x·2^1074 for a finite x.
func scaled(x float64) *big.Int {
	b := math.Float64bits(x)
	e := int(b >> 52 & 0x7FF)
	m := b & (1<<52 - 1)
	if e > 0 {
		m |= 1 << 52
		e--
	}
	v := new(big.Int).Lsh(new(big.Int).SetUint64(m), uint(e))
	if b>>63 != 0 {
		v.Neg(v)
	}
	return v
}

func (o *oracle) add(x float64, sign int64) {
	switch {
	case math.IsNaN(x):
		o.nan += sign
	case math.IsInf(x, 1):
		o.pinf += sign
	case math.IsInf(x, -1):
		o.ninf += sign
	case sign > 0:
		o.v.Add(&o.v, scaled(x))
	default:
		o.v.Sub(&o.v, scaled(x))
	}
}

func (o *oracle) addInt(i, sign int64) {
	v := new(big.Int).Lsh(big.NewInt(i), 1074)
	if sign < 0 {
		v.Neg(v)
	}
	o.v.Add(&o.v, v)
}

func (o *oracle) merge(p *oracle) {
	o.v.Add(&o.v, &p.v)
	o.nan += p.nan
	o.pinf += p.pinf
	o.ninf += p.ninf
}

// exact returns the finite part of the sum as a big.Float.
func (o *oracle) exact() *big.Float {
	f := new(big.Float).SetInt(&o.v)
	return f.SetMantExp(f, -1074)
}

// special returns the result forced by the counts, by their documented
// meaning, and whether there is one.
func (o *oracle) special() (float64, bool) {
	pos := o.pinf > 0 || o.ninf < 0
	neg := o.ninf > 0 || o.pinf < 0
	switch {
	case o.nan != 0 || pos && neg:
		return math.NaN(), true
	case pos:
		return math.Inf(1), true
	case neg:
		return math.Inf(-1), true
	}
	return 0, false
}

func (o *oracle) float64() float64 {
	if f, ok := o.special(); ok {
		return f
	}
	f, _ := o.exact().Float64()
	return f
}

func (o *oracle) float32() float32 {
	if f, ok := o.special(); ok {
		return float32(f)
	}
	f, _ := o.exact().Float32()
	return f
}

// same64 reports whether x and y are the same float64 bits, any NaN
// matching any NaN.
func same64(x, y float64) bool {
	return math.Float64bits(x) == math.Float64bits(y) || x != x && y != y
}

func same32(x, y float32) bool {
	return math.Float32bits(x) == math.Float32bits(y) || x != x && y != y
}

// checkOracle fails t unless a rounds like o, to float64 and to float32.
func checkOracle(t testing.TB, what string, a *Acc, o *oracle) {
	t.Helper()
	if got, want := a.Float64(), o.float64(); !same64(got, want) {
		t.Errorf("%s: Float64() = %v (%#x), want %v (%#x); exact %s", what,
			got, math.Float64bits(got), want, math.Float64bits(want), o.exact().Text('g', 30))
	}
	if got, want := a.Float32(), o.float32(); !same32(got, want) {
		t.Errorf("%s: Float32() = %v (%#x), want %v (%#x); exact %s", what,
			got, math.Float32bits(got), want, math.Float32bits(want), o.exact().Text('g', 30))
	}
}
