package agg

import (
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// The navigation aggregates pick one row of the frame. OpenMLDB sees a frame
// as a list with the newest row first (the current row, when the frame
// includes it); hybridse/src/udf/default_defs/window_functions_def.cc
// defines them on that list:
//
//   - lag(x, n) and its alias at(x, n): x of the row n places from the
//     newest (0 = the newest row); a negative n counts from the oldest
//     (-1 = the oldest). Beyond the frame: NULL. An optional third argument,
//     a bool constant, skips the rows where x is NULL.
//   - first_value(x[, ignore_nulls]) is at(x, -1): the oldest row;
//     last_value(x[, ignore_nulls]) is at(x, 0): the newest.
//   - nth_value_where(x, n, cond): x of the n-th row whose cond is true,
//     counted from the oldest when n > 0 and from the newest when n < 0;
//     NULL when there is no such row or n is 0.
//
// Offsets must be integer constants. All of them keep the frame's rows (only
// the ones they can return) and answer in O(1).
//
// Position 0 is the newest row the Acc holds (with ResultWith, the row
// given). Under EXCLUDE CURRENT_ROW OpenMLDB still counts lag/at from the
// current row (test_current_row.yaml#27 expects at(x, 2) to be the row two
// before the current one), so there the evaluator should ask lag/at for
// ResultWith(current row). OpenMLDB honours ignore_nulls only when the value
// is a plain column (AtList::param3); here it always applies.

func init() {
	register(resolveLag, "lag", "at")
	register(resolveFirstLast, "first_value", "last_value")
	register(resolveNthValueWhere, "nth_value_where")
}

// constInt returns the value of argument i, which must be an integer
// constant; what names it in messages.
func constInt(name string, args []types.Type, consts []*types.Value, i int, what string) (int64, error) {
	if !args[i].IsInteger() {
		return 0, argError(name, "%s must be a constant integer, got %s", what, args[i])
	}
	c := consts[i]
	if c == nil {
		return 0, argError(name, "%s must be a constant integer", what)
	}
	if c.Null {
		return 0, argError(name, "%s must not be NULL", what)
	}
	return c.I, nil
}

// constBool returns the value of argument i, which must be a bool constant.
func constBool(name string, args []types.Type, consts []*types.Value, i int, what string) (bool, error) {
	if args[i] != types.Bool {
		return false, argError(name, "%s must be a constant bool, got %s", what, args[i])
	}
	c := consts[i]
	if c == nil {
		return false, argError(name, "%s must be a constant bool", what)
	}
	if c.Null {
		return false, argError(name, "%s must not be NULL", what)
	}
	return c.I != 0, nil
}

func resolveLag(name string, args []types.Type, consts []*types.Value) (*Func, error) {
	if len(args) != 2 && len(args) != 3 {
		return nil, argError(name, "takes (value, offset[, ignore_nulls]), got %d argument%s", len(args), plural(len(args)))
	}
	if args[0] == types.Null {
		return nil, argError(name, "cannot take a row of NULL; give the value a type")
	}
	n, err := constInt(name, args, consts, 1, "the offset")
	if err != nil {
		return nil, err
	}
	ignoreNulls := false
	if len(args) == 3 {
		if ignoreNulls, err = constBool(name, args, consts, 2, "ignore_nulls"); err != nil {
			return nil, err
		}
	}
	return newFunc(name, args, args[0], consts, func(c []*types.Column) Acc {
		return newAtAcc(c[0], n, ignoreNulls)
	}), nil
}

func resolveFirstLast(name string, args []types.Type, consts []*types.Value) (*Func, error) {
	if len(args) != 1 && len(args) != 2 {
		return nil, argError(name, "takes (value[, ignore_nulls]), got %d argument%s", len(args), plural(len(args)))
	}
	if args[0] == types.Null {
		return nil, argError(name, "cannot take a row of NULL; give the value a type")
	}
	ignoreNulls := false
	if len(args) == 2 {
		var err error
		if ignoreNulls, err = constBool(name, args, consts, 1, "ignore_nulls"); err != nil {
			return nil, err
		}
	}
	pos := int64(0) // last_value: the newest row
	if name == "first_value" {
		pos = -1
	}
	return newFunc(name, args, args[0], consts, func(c []*types.Column) Acc {
		return newAtAcc(c[0], pos, ignoreNulls)
	}), nil
}

// newAtAcc returns the Acc of at(col, pos[, ignoreNulls]).
func newAtAcc(col *types.Column, pos int64, ignoreNulls bool) Acc {
	a := &frameAcc{eval: func(v rowView) types.Value {
		row, ok := atPos(v, pos)
		if !ok {
			return types.NullOf(col.Type)
		}
		return col.Value(row)
	}}
	if ignoreNulls {
		a.keep = func(row int) bool { return !col.IsNull(row) }
	}
	return a
}

// atPos returns the row at OpenMLDB list position pos: pos >= 0 counts from
// the newest row (0), pos < 0 from the oldest (-1).
func atPos(v rowView, pos int64) (int, bool) {
	n := int64(v.len())
	switch {
	case pos >= 0 && pos < n:
		return v.at(int(n - 1 - pos)), true
	case pos < 0 && pos >= -n:
		return v.at(int(-pos - 1)), true
	}
	return 0, false
}

// nthValueTypes are the value types nth_value_where accepts.
func nthValueType(t types.Type) bool { return t.IsScalar() && t != types.Null }

func resolveNthValueWhere(name string, args []types.Type, consts []*types.Value) (*Func, error) {
	if len(args) != 3 {
		return nil, argError(name, "takes (value, n, condition), got %d argument%s", len(args), plural(len(args)))
	}
	if !nthValueType(args[0]) {
		return nil, argError(name, "cannot take a row of %s", args[0])
	}
	n, err := constInt(name, args, consts, 1, "n")
	if err != nil {
		return nil, err
	}
	if err := checkCond(name, args, 2); err != nil {
		return nil, err
	}
	return newFunc(name, args, args[0], consts, func(c []*types.Column) Acc {
		col, cond := c[0], c[2]
		return &frameAcc{
			keep: func(row int) bool { return isTrue(cond, row) },
			eval: func(v rowView) types.Value {
				// n-th from the oldest is list position -n; n-th from
				// the newest (n < 0) is position -n-1.
				var row int
				var ok bool
				switch {
				case n > 0:
					row, ok = atPos(v, -n)
				case n < 0:
					row, ok = atPos(v, -n-1)
				}
				if !ok {
					return types.NullOf(col.Type)
				}
				return col.Value(row)
			},
		}
	}), nil
}
