package eval

import (
	"github.com/fenestra-dev/fenestra/featurelang/funcs"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Calls and casts that have an integer kernel (funcs.Overload's Int1 and
// Int2, funcs.CastInt: integer arithmetic, comparisons of integers and
// timestamps, integer casts) are compiled on payloads: their operands are
// intFns, which read columns, constants and aggregates without building a
// types.Value, and only the outermost call builds one. The kernels are
// what the Impls are made of, and NULL operands short-circuit in the same
// order as in call, so the results are the same.

// intFn computes an expression whose type is stored in Value.I for the
// current row: its payload, and ok false when it is NULL.
type intFn func(c *ectx) (x int64, ok bool)

// kernelCall compiles e on payloads when it is a call or cast with an
// integer kernel, boxing the result into a Value of its type; ok is false
// when e has no kernel.
func (ec *exprCompiler) kernelCall(e *plan.Expr) (f evalFn, ok bool, err error) {
	k, res, ok, err := ec.kernel(e)
	if !ok || err != nil {
		return nil, ok, err
	}
	return func(c *ectx) types.Value {
		x, ok := k(c)
		if !ok {
			return types.NullOf(res)
		}
		return types.Value{Type: res, I: x}
	}, true, nil
}

// kernel compiles a call or cast with an integer kernel to an intFn and
// returns its result type; ok is false when e is not one.
func (ec *exprCompiler) kernel(e *plan.Expr) (f intFn, res types.Type, ok bool, err error) {
	switch e.Op {
	case plan.Cast:
		k := funcs.CastInt(e.Args[0].Type, e.Type)
		if k == nil {
			return nil, 0, false, nil
		}
		x, err := ec.intArg(e.Args[0])
		return unaryInt(x, k), e.Type, true, err
	case plan.Call:
		ts := make([]types.Type, len(e.Args))
		for i, a := range e.Args {
			ts[i] = a.Type
		}
		ov, err := funcs.Resolve(e.Fn, ts)
		if err != nil || ov.NullSafe {
			return nil, 0, false, nil // call reports the error
		}
		switch {
		case ov.Int1 != nil && len(e.Args) == 1:
			x, err := ec.intArg(e.Args[0])
			return unaryInt(x, ov.Int1), ov.Result, true, err
		case ov.Int2 != nil && len(e.Args) == 2:
			x, err := ec.intArg(e.Args[0])
			if err != nil {
				return nil, 0, true, err
			}
			y, err := ec.intArg(e.Args[1])
			return binaryInt(x, y, ov.Int2), ov.Result, true, err
		}
	}
	return nil, 0, false, nil
}

// intArg compiles an operand of a kernel, whose type is stored in
// Value.I: columns, constants and aggregates read their payloads, calls
// with kernels stay on payloads, and anything else is computed as a Value.
func (ec *exprCompiler) intArg(e *plan.Expr) (intFn, error) {
	switch e.Op {
	case plan.Col:
		return ec.intColumn(e.Col), nil
	case plan.Const:
		v := *e.Value
		return func(*ectx) (int64, bool) { return v.I, !v.Null }, nil
	case plan.Agg:
		if slot, ok := ec.aggSlot[e]; ok {
			return func(c *ectx) (int64, bool) { return payload(&c.aggs[slot], c.aggRow) }, nil
		}
	case plan.Call, plan.Cast:
		if k, _, ok, err := ec.kernel(e); ok || err != nil {
			return k, err
		}
	}
	f, err := ec.compile(e)
	if err != nil {
		return nil, err
	}
	return func(c *ectx) (int64, bool) {
		v := f(c)
		return v.I, !v.Null
	}, nil
}

// intColumn is column on payloads.
func (ec *exprCompiler) intColumn(i int) intFn {
	if ec.split > 0 && i >= ec.split {
		j := i - ec.split
		return func(c *ectx) (int64, bool) { return payload(&c.right.Cols[j], c.rrow) }
	}
	return func(c *ectx) (int64, bool) { return payload(&c.blk.Cols[i], c.row) }
}

// payload returns the payload of value row of col, stored in I, and
// false when it is NULL: col.Value(row) as an intFn sees it.
func payload(col *types.Column, row int) (int64, bool) {
	if col.IsNull(row) {
		return 0, false
	}
	return col.I[row], true
}

// unaryInt applies k to x; a NULL x is NULL.
func unaryInt(x intFn, k func(int64) (int64, bool)) intFn {
	return func(c *ectx) (int64, bool) {
		a, ok := x(c)
		if !ok {
			return 0, false
		}
		return k(a)
	}
}

// binaryInt applies k to x and y; a NULL x is NULL without computing y.
func binaryInt(x, y intFn, k func(a, b int64) (int64, bool)) intFn {
	return func(c *ectx) (int64, bool) {
		a, ok := x(c)
		if !ok {
			return 0, false
		}
		b, ok := y(c)
		if !ok {
			return 0, false
		}
		return k(a, b)
	}
}
