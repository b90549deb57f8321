package agg

import (
	"github.com/fenestra-dev/fenestra/featurelang/exactsum"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// The core aggregates: count, sum, avg. Each has a small value-level state
// (shared by its sliding Acc and its Partial, so both compute identically)
// and an Acc that reads its argument column directly, without building
// Values in the per-row path.

func init() {
	register(resolveCount, "count")
	register(resolveSum, "sum")
	register(resolveAvg, "avg")
}

// ---- count ----

func resolveCount(name string, args []types.Type, consts []*types.Value) (*Func, error) {
	switch len(args) {
	case 0: // count(*)
		return newFunc(name, args, types.Int64, consts, func([]*types.Column) Acc { return &countAcc{} }), nil
	case 1:
		if args[0].Kind() == types.KindArray { // a list: see list.go
			return newFunc(name, args, types.Int64, consts, func(c []*types.Column) Acc { return &listCountAcc{col: c[0]} }), nil
		}
		return newFunc(name, args, types.Int64, consts, func(c []*types.Column) Acc { return &countAcc{col: c[0]} }), nil
	}
	return nil, argError(name, "takes one argument or *, got %d", len(args))
}

// countAcc counts the non-NULL values of col, or all rows when col is nil.
type countAcc struct {
	col *types.Column
	n   int64
}

func (a *countAcc) Rebind(c []*types.Column) {
	if len(c) > 0 {
		a.col = c[0]
	}
	a.n = 0
}

func (a *countAcc) counts(row int) bool { return a.col == nil || !a.col.IsNull(row) }

func (a *countAcc) Reset() { a.n = 0 }

func (a *countAcc) Add(row int) {
	if a.counts(row) {
		a.n++
	}
}

func (a *countAcc) AddRange(lo, hi int) {
	if a.col == nil || a.col.Nulls == nil {
		a.n += int64(hi - lo)
		return
	}
	for _, null := range a.col.Nulls[lo:hi] {
		if !null {
			a.n++
		}
	}
}

func (a *countAcc) Remove(row int) {
	if a.counts(row) {
		a.n--
	}
}

func (a *countAcc) Slide(lo, hi, newLo, newHi int) {
	if a.col == nil || a.col.Nulls == nil {
		a.n += int64(newHi-hi) - int64(newLo-lo)
		return
	}
	for i := lo; i < newLo; i++ {
		a.Remove(i)
	}
	for i := hi; i < newHi; i++ {
		a.Add(i)
	}
}

func (a *countAcc) Result() types.Value { return types.Int64Value(a.n) }

func (a *countAcc) WriteResult(out *types.Column, i int) { out.I[i] = a.n }

// clearNull marks position i of out not NULL (a column written by
// WriteResult may already have NULLs elsewhere).
func clearNull(out *types.Column, i int) {
	if out.Nulls != nil {
		out.Nulls[i] = false
	}
}

func (a *countAcc) ResultWith(row int) types.Value {
	if a.counts(row) {
		return types.Int64Value(a.n + 1)
	}
	return types.Int64Value(a.n)
}

// ---- sum ----

func resolveSum(name string, args []types.Type, consts []*types.Value) (*Func, error) {
	if err := wantArgs(name, args, 1); err != nil {
		return nil, err
	}
	t := args[0]
	switch {
	case t.IsInteger() || t == types.Timestamp:
		return newFunc(name, args, t, consts, func(c []*types.Column) Acc { return &sumIntAcc{col: c[0], st: sumInt{t: t}} }), nil
	case t.IsFloat():
		return newFunc(name, args, t, consts, func(c []*types.Column) Acc { return &sumFloatAcc{col: c[0], st: sumFloat{t: t}} }), nil
	}
	return nil, argError(name, "cannot sum %s; expected a number or timestamp", t)
}

// sumInt is an integer sum: int64 arithmetic wrapping modulo 2^64, truncated
// to the result type's width at the end (which equals wrapping at every
// step), so subtraction on evict is exact.
type sumInt struct {
	t   types.Type
	sum int64
	n   int64 // non-NULL values
}

func (s *sumInt) result() types.Value {
	if s.n == 0 {
		return types.NullOf(s.t)
	}
	return types.IntValue(s.t, s.sum)
}

type sumIntAcc struct {
	col *types.Column
	st  sumInt
}

func (a *sumIntAcc) Reset() { a.st.sum, a.st.n = 0, 0 }

func (a *sumIntAcc) Rebind(c []*types.Column) {
	a.col = c[0]
	a.Reset()
}

func (a *sumIntAcc) Add(row int) {
	if !a.col.IsNull(row) {
		a.st.sum += a.col.I[row]
		a.st.n++
	}
}

func (a *sumIntAcc) AddRange(lo, hi int) {
	if a.col.Nulls == nil {
		for _, v := range a.col.I[lo:hi] {
			a.st.sum += v
		}
		a.st.n += int64(hi - lo)
		return
	}
	for i := lo; i < hi; i++ {
		a.Add(i)
	}
}

func (a *sumIntAcc) Remove(row int) {
	if !a.col.IsNull(row) {
		a.st.sum -= a.col.I[row]
		a.st.n--
	}
}

func (a *sumIntAcc) Slide(lo, hi, newLo, newHi int) {
	if a.col.Nulls != nil {
		for i := lo; i < newLo; i++ {
			a.Remove(i)
		}
		a.AddRange(hi, newHi)
		return
	}
	for _, v := range a.col.I[lo:newLo] {
		a.st.sum -= v
	}
	for _, v := range a.col.I[hi:newHi] {
		a.st.sum += v
	}
	a.st.n += int64(newHi-hi) - int64(newLo-lo)
}

func (a *sumIntAcc) Result() types.Value { return a.st.result() }

func (a *sumIntAcc) WriteResult(out *types.Column, i int) {
	if a.st.n == 0 {
		out.Set(i, types.NullOf(a.st.t))
		return
	}
	clearNull(out, i)
	out.I[i] = types.Wrap(a.st.t, a.st.sum)
}

func (a *sumIntAcc) ResultWith(row int) types.Value {
	if a.col.IsNull(row) {
		return a.st.result()
	}
	s := a.st
	s.sum += a.col.I[row]
	s.n++
	return s.result()
}

// sumFloat is an exact float sum rounded once to the result type.
type sumFloat struct {
	t   types.Type
	acc exactsum.Acc
	n   int64
}

func (s *sumFloat) reset() {
	s.acc.Reset()
	s.n = 0
}

func (s *sumFloat) add(f float64) {
	s.acc.Add(f)
	s.n++
}

func (s *sumFloat) sub(f float64) {
	s.acc.Sub(f)
	s.n--
}

func (s *sumFloat) result() types.Value {
	if s.n == 0 {
		return types.NullOf(s.t)
	}
	if s.t == types.Float {
		return types.Value{Type: types.Float, F: float64(s.acc.Float32())}
	}
	return types.DoubleValue(s.acc.Float64())
}

type sumFloatAcc struct {
	col *types.Column
	st  sumFloat
}

func (a *sumFloatAcc) Reset() { a.st.reset() }

func (a *sumFloatAcc) Rebind(c []*types.Column) {
	a.col = c[0]
	a.Reset()
}

func (a *sumFloatAcc) Add(row int) {
	if !a.col.IsNull(row) {
		a.st.add(a.col.F[row])
	}
}

func (a *sumFloatAcc) AddRange(lo, hi int) {
	if a.col.Nulls == nil {
		a.st.acc.AddSlice(a.col.F[lo:hi])
		a.st.n += int64(hi - lo)
		return
	}
	for i := lo; i < hi; i++ {
		a.Add(i)
	}
}

func (a *sumFloatAcc) Remove(row int) {
	if !a.col.IsNull(row) {
		a.st.sub(a.col.F[row])
	}
}

func (a *sumFloatAcc) Slide(lo, hi, newLo, newHi int) {
	if a.col.Nulls != nil {
		for i := lo; i < newLo; i++ {
			a.Remove(i)
		}
		a.AddRange(hi, newHi)
		return
	}
	for _, f := range a.col.F[lo:newLo] {
		a.st.acc.Sub(f)
	}
	for _, f := range a.col.F[hi:newHi] {
		a.st.acc.Add(f)
	}
	a.st.n += int64(newHi-hi) - int64(newLo-lo)
}

func (a *sumFloatAcc) Result() types.Value { return a.st.result() }

func (a *sumFloatAcc) WriteResult(out *types.Column, i int) {
	switch {
	case a.st.n == 0:
		out.Set(i, types.NullOf(a.st.t))
	case a.st.t == types.Float:
		clearNull(out, i)
		out.F[i] = float64(a.st.acc.Float32())
	default:
		clearNull(out, i)
		out.F[i] = a.st.acc.Float64()
	}
}

// ResultWith adds the row, rounds and subtracts it again: the exact sum
// makes the state afterwards identical to before.
func (a *sumFloatAcc) ResultWith(row int) types.Value {
	if a.col.IsNull(row) {
		return a.st.result()
	}
	a.st.add(a.col.F[row])
	r := a.st.result()
	a.st.sub(a.col.F[row])
	return r
}

// ---- avg ----

func resolveAvg(name string, args []types.Type, consts []*types.Value) (*Func, error) {
	if err := wantArgs(name, args, 1); err != nil {
		return nil, err
	}
	if !args[0].IsNumeric() {
		return nil, argError(name, "cannot average %s; expected a number", args[0])
	}
	isFloat := args[0].IsFloat()
	return newFunc(name, args, types.Double, consts, func(c []*types.Column) Acc { return &avgAcc{col: c[0], float: isFloat} }), nil
}

// avgState is the exact sum of the values (integers added exactly) and
// their count; the average is the sum rounded to double, divided by the
// count.
type avgState struct {
	acc exactsum.Acc
	n   int64
}

func (s *avgState) result() types.Value {
	if s.n == 0 {
		return types.NullOf(types.Double)
	}
	return types.DoubleValue(s.acc.Float64() / float64(s.n))
}

type avgAcc struct {
	col   *types.Column
	float bool
	st    avgState
}

func (a *avgAcc) Reset() {
	a.st.acc.Reset()
	a.st.n = 0
}

func (a *avgAcc) Rebind(c []*types.Column) {
	a.col = c[0]
	a.Reset()
}

func (a *avgAcc) add(row int, sign int64) {
	if a.col.IsNull(row) {
		return
	}
	switch {
	case a.float && sign > 0:
		a.st.acc.Add(a.col.F[row])
	case a.float:
		a.st.acc.Sub(a.col.F[row])
	case sign > 0:
		a.st.acc.AddInt(a.col.I[row])
	default:
		a.st.acc.SubInt(a.col.I[row])
	}
	a.st.n += sign
}

func (a *avgAcc) Add(row int) { a.add(row, 1) }

func (a *avgAcc) AddRange(lo, hi int) {
	if a.float && a.col.Nulls == nil {
		a.st.acc.AddSlice(a.col.F[lo:hi])
		a.st.n += int64(hi - lo)
		return
	}
	for i := lo; i < hi; i++ {
		a.add(i, 1)
	}
}

func (a *avgAcc) Remove(row int) { a.add(row, -1) }

func (a *avgAcc) Result() types.Value { return a.st.result() }

func (a *avgAcc) WriteResult(out *types.Column, i int) {
	if a.st.n == 0 {
		out.Set(i, types.NullOf(types.Double))
		return
	}
	clearNull(out, i)
	out.F[i] = a.st.acc.Float64() / float64(a.st.n)
}

func (a *avgAcc) ResultWith(row int) types.Value {
	a.add(row, 1)
	r := a.st.result()
	a.add(row, -1)
	return r
}
