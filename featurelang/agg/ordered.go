package agg

import (
	"math"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// drawdown and ew_avg depend on the order of the frame's rows, which
// OpenMLDB feeds to them newest first (DrawdownUdafDef and EwAvgUdafDef in
// hybridse/src/udf/default_udf_library.cc):
//
//   - drawdown(x), x an int16, int32, int64, float or double: the largest
//     decline (peak - trough) / peak from a value to a newer, smaller one,
//     a double. NULLs and negative values are skipped; NULL when no value
//     is left. Newest first, OpenMLDB keeps the least value m seen so far
//     (starting from the type's maximum) and for each older value v > m
//     takes (v - m) / v, computed in v's type and then in double (for
//     float: float32 subtraction, then double division), the greatest with
//     std::max (so a NaN ratio, from an infinite peak, is never taken); a
//     v <= m (or NaN) becomes m. The doc's example {1, 8, 5, 2, 10, 4}
//     gives 0.75.
//   - ew_avg(x, alpha), x an int16, int32, int64, float or double and alpha
//     a double: the exponentially weighted average, pandas' ewm(alpha,
//     adjust=True, ignore_na=True).mean() at the newest row, a double.
//     Newest first, each non-NULL x adds w·x to a sum and w to a count, and
//     w (from 1) is multiplied by 1 - alpha of that row; the result is
//     sum / count, NULL when no x is non-NULL or the count is 0. A NULL
//     alpha counts as 0, which makes ew_avg a plain average. alpha may vary
//     by row, as in OpenMLDB; the doc asks for 0 <= alpha <= 1, and other
//     values are computed all the same. The doc's example {0, 1, 2, 3, 4}
//     with alpha 0.5 gives 3.161290.
//
// Both are computed from the frame's rows on demand, in OpenMLDB's order
// and with its arithmetic, so results match it bit for bit. Neither has a
// Partial, since a run of rows does not summarize to a state that merges
// exactly: tiled windows read raw rows for them (check/tiles.go).
//
// ew_avg stops early once w is 0 with a constant alpha: every older row
// would add 0·x, which changes nothing unless x is infinite or NaN (then
// the sum becomes NaN), so the accumulator counts those and stops only
// when none is left.

func init() {
	register(resolveDrawdown, "drawdown")
	register(resolveEwAvg, "ew_avg")
}

func resolveDrawdown(name string, args []types.Type, consts []*types.Value) (*Func, error) {
	if err := wantArgs(name, args, 1); err != nil {
		return nil, err
	}
	t := args[0]
	if !t.IsNumeric() {
		return nil, argError(name, "cannot compute the drawdown of %s; expected a number", t)
	}
	return newFunc(name, args, types.Double, consts, func(c []*types.Column) Acc {
		col := c[0]
		keep := func(row int) bool { return !col.IsNull(row) && col.I[row] >= 0 }
		eval := func(v rowView) types.Value { return drawdownInt(col, v) }
		switch t {
		case types.Float:
			keep = func(row int) bool { return !col.IsNull(row) && !(col.F[row] < 0) }
			eval = func(v rowView) types.Value { return drawdownFloat32(col, v) }
		case types.Double:
			keep = func(row int) bool { return !col.IsNull(row) && !(col.F[row] < 0) }
			eval = func(v rowView) types.Value { return drawdownFloat64(col, v) }
		}
		return &frameAcc{keep: keep, eval: eval}
	}), nil
}

// drawdownResult is drawdown's result from the greatest decline, -1 when
// there was no value.
func drawdownResult(dd float64) types.Value {
	if dd < 0 {
		return types.NullOf(types.Double)
	}
	return types.DoubleValue(dd)
}

func drawdownInt(col *types.Column, v rowView) types.Value {
	dd, low := -1.0, int64(math.MaxInt64) // every value is at most the type's maximum
	for k := v.len() - 1; k >= 0; k-- {
		x, d := col.I[v.at(k)], 0.0
		if low < x {
			d = float64(x-low) / float64(x) // x > low >= 0: no overflow
		} else {
			low = x
		}
		if dd < d {
			dd = d
		}
	}
	return drawdownResult(dd)
}

func drawdownFloat32(col *types.Column, v rowView) types.Value {
	dd, low := -1.0, float32(math.MaxFloat32)
	for k := v.len() - 1; k >= 0; k-- {
		x, d := float32(col.F[v.at(k)]), 0.0
		if low < x {
			d = float64(x-low) / float64(x) // x > 0 here
		} else {
			low = x
		}
		if dd < d {
			dd = d
		}
	}
	return drawdownResult(dd)
}

func drawdownFloat64(col *types.Column, v rowView) types.Value {
	dd, low := -1.0, math.MaxFloat64
	for k := v.len() - 1; k >= 0; k-- {
		x, d := col.F[v.at(k)], 0.0
		if low < x {
			d = (x - low) / x
		} else {
			low = x
		}
		if dd < d {
			dd = d
		}
	}
	return drawdownResult(dd)
}

func resolveEwAvg(name string, args []types.Type, consts []*types.Value) (*Func, error) {
	if len(args) != 2 {
		return nil, argError(name, "takes (value, alpha), got %d argument%s", len(args), plural(len(args)))
	}
	if !args[0].IsNumeric() {
		return nil, argError(name, "cannot average %s; expected a number", args[0])
	}
	if args[1] != types.Double && args[1] != types.Null {
		return nil, argError(name, "alpha must be a double, got %s", args[1])
	}
	// A constant, finite alpha keeps a zero weight zero: ew_avg may stop.
	fixed := consts[1] != nil && (consts[1].Null || !math.IsInf(consts[1].F, 0) && !math.IsNaN(consts[1].F))
	return newFunc(name, args, types.Double, consts, func(c []*types.Column) Acc {
		a := &ewAvgAcc{val: c[0], alpha: c[1], fixed: fixed}
		a.frame.keep = func(row int) bool { return !a.val.IsNull(row) }
		return a
	}), nil
}

// ewAvgAcc holds the rows of the frame whose value is non-NULL and counts
// those whose value is infinite or NaN.
type ewAvgAcc struct {
	frame      frameAcc
	val, alpha *types.Column
	fixed      bool // alpha is a constant, finite or NULL
	nonFinite  int  // rows held whose value is infinite or NaN
}

// nonFiniteRow reports whether row's value is held and infinite or NaN.
func (a *ewAvgAcc) nonFiniteRow(row int) bool {
	return a.val.F != nil && !a.val.IsNull(row) && (math.IsInf(a.val.F[row], 0) || math.IsNaN(a.val.F[row]))
}

func (a *ewAvgAcc) Reset() {
	a.frame.Reset()
	a.nonFinite = 0
}

func (a *ewAvgAcc) Add(row int) {
	a.frame.Add(row)
	if a.nonFiniteRow(row) {
		a.nonFinite++
	}
}

func (a *ewAvgAcc) AddRange(lo, hi int) {
	for i := lo; i < hi; i++ {
		a.Add(i)
	}
}

func (a *ewAvgAcc) Remove(row int) {
	a.frame.Remove(row)
	if a.nonFiniteRow(row) {
		a.nonFinite--
	}
}

func (a *ewAvgAcc) Result() types.Value { return a.eval(rowView{q: &a.frame.q}, a.nonFinite) }

func (a *ewAvgAcc) ResultWith(row int) types.Value {
	v := rowView{q: &a.frame.q}
	nonFinite := a.nonFinite
	if a.frame.kept(row) {
		v.extra, v.hasExtra = row, true
		if a.nonFiniteRow(row) {
			nonFinite++
		}
	}
	return a.eval(v, nonFinite)
}

// value returns row's value as OpenMLDB converts it to double.
func (a *ewAvgAcc) value(row int) float64 {
	if a.val.F != nil {
		return a.val.F[row]
	}
	return float64(a.val.I[row])
}

// alphaAt returns row's alpha, 0 for NULL.
func (a *ewAvgAcc) alphaAt(row int) float64 {
	if a.alpha == nil || a.alpha.F == nil || a.alpha.IsNull(row) {
		return 0
	}
	return a.alpha.F[row]
}

// eval computes ew_avg over the rows of v, newest first; nonFinite is the
// number of them whose value is infinite or NaN.
func (a *ewAvgAcc) eval(v rowView, nonFinite int) types.Value {
	n := v.len()
	sum, cnt, w := 0.0, 0.0, 1.0
	for k := n - 1; k >= 0; k-- {
		if w == 0 && a.fixed && nonFinite == 0 {
			break // every older row adds 0·x and 0: nothing
		}
		row := v.at(k)
		x := a.value(row)
		sum += float64(w * x) // float64(): no fused multiply-add, as OpenMLDB
		cnt += w
		w = float64(w * (1 - a.alphaAt(row)))
		if math.IsInf(x, 0) || math.IsNaN(x) {
			nonFinite--
		}
	}
	if n == 0 || cnt == 0 {
		return types.NullOf(types.Double)
	}
	return types.DoubleValue(sum / cnt)
}
