package agg

import (
	"cmp"
	"math"
	"math/big"
	"slices"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// median(x) is the middle non-NULL value of the frame, a double, or the mean
// of the two middle values when their count is even; NULL when there is
// none (hybridse/src/udf/default_udf_library.cc, MedianDef). The mean is
// computed as OpenMLDB computes it, (a + b) / 2.0 in the value's type: for
// float the sum is rounded to float first; for integers it is exact (where
// OpenMLDB's integer sum would overflow). NaN sorts below every number.
//
// The frame's rows are kept and the median is selected on demand.

func init() {
	register(resolveMedian, "median")
}

func resolveMedian(name string, args []types.Type, consts []*types.Value) (*Func, error) {
	if err := wantArgs(name, args, 1); err != nil {
		return nil, err
	}
	t := args[0]
	if !t.IsNumeric() {
		return nil, argError(name, "cannot take the median of %s; expected a number", t)
	}
	return newFunc(name, args, types.Double, consts, func(c []*types.Column) Acc {
		col := c[0]
		m := &medianAcc{t: t, col: col}
		return &frameAcc{keep: func(row int) bool { return !col.IsNull(row) }, eval: m.eval}
	}), nil
}

// medianAcc holds a scratch buffer reused by every evaluation.
type medianAcc struct {
	t    types.Type
	col  *types.Column
	ints []int64
	fs   []float64
}

func (m *medianAcc) eval(v rowView) types.Value {
	n := v.len()
	if n == 0 {
		return types.NullOf(types.Double)
	}
	if m.t.IsFloat() {
		m.fs = m.fs[:0]
		for k := range n {
			m.fs = append(m.fs, m.col.F[v.at(k)])
		}
		slices.SortFunc(m.fs, compareTotal)
		a, b := m.fs[(n-1)/2], m.fs[n/2]
		switch {
		case n%2 == 1:
			return types.DoubleValue(a)
		case m.t == types.Float:
			return types.DoubleValue(float64(float32(a)+float32(b)) / 2)
		}
		return types.DoubleValue((a + b) / 2)
	}
	m.ints = m.ints[:0]
	for k := range n {
		m.ints = append(m.ints, m.col.I[v.at(k)])
	}
	slices.Sort(m.ints)
	a, b := m.ints[(n-1)/2], m.ints[n/2]
	if n%2 == 1 {
		return types.DoubleValue(float64(a))
	}
	return types.DoubleValue(intSumFloat(a, b) / 2)
}

// compareTotal orders floats by value, NaN first, -0 before +0, so that
// equal-comparing values still sort deterministically.
func compareTotal(a, b float64) int {
	if c := cmp.Compare(a, b); c != 0 {
		return c
	}
	return cmp.Compare(int64(math.Float64bits(a)), int64(math.Float64bits(b)))
}

// intSumFloat returns a + b correctly rounded to float64.
func intSumFloat(a, b int64) float64 {
	if s := a + b; (s > a) == (b > 0) {
		return float64(s) // no overflow
	}
	x := new(big.Float).SetPrec(128).SetInt64(a)
	x.Add(x, new(big.Float).SetInt64(b))
	f, _ := x.Float64()
	return f
}
