package funcs

import (
	"fmt"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Logical operators and NULL handling.
//
// AND, OR, XOR and NOT accept any column type (or NULL), taking its truth
// value as a cast to bool would (see truth in cast.go), and give bool. AND
// and OR use three-valued logic (FALSE AND NULL is FALSE, TRUE OR NULL is
// TRUE); XOR and NOT are NULL when an operand is. IS [NOT] NULL is never
// NULL. ifnull(x, d) (aliases if_null, nvl) and nvl2(x, a, b) give the
// common type of their value arguments (CommonType), converting the chosen
// value to it; identity(x) is x.

func init() {
	register("and", resolveAndOr)
	register("or", resolveAndOr)
	register("xor", resolveXor)
	register("not", resolveNot)
	register("is_null", resolveIsNull, "isnull")
	register("is_not_null", resolveIsNull)
	register("ifnull", resolveIfNull, "if_null", "nvl")
	register("nvl2", resolveNvl2)
	register("identity", resolveIdentity)
}

func logicOperand(t types.Type) bool { return t == types.Null || isBase(t) }

// truthOrNull returns the truth of a possibly NULL operand of type t.
func truthOrNull(t types.Type) func(types.Value) (val, null bool) {
	tr := truth(t)
	return func(v types.Value) (bool, bool) {
		if v.Null {
			return false, true
		}
		return tr(v), false
	}
}

func resolveAndOr(op string, args []types.Type) (*Overload, error) {
	if len(args) != 2 {
		return nil, errArity(op, "2", args)
	}
	if !logicOperand(args[0]) || !logicOperand(args[1]) {
		return nil, fmt.Errorf("cannot %s %s and %s", op, args[0], args[1])
	}
	x, y := truthOrNull(args[0]), truthOrNull(args[1])
	// and: a false operand decides; or: a true one does.
	decisive := op == "or"
	impl := func(v []types.Value) types.Value {
		a, an := x(v[0])
		b, bn := y(v[1])
		switch {
		case !an && a == decisive, !bn && b == decisive:
			return boolV(decisive)
		case an || bn:
			return types.NullOf(types.Bool)
		}
		return boolV(!decisive)
	}
	return nullSafe(overload(op, args, types.Bool, impl)), nil
}

func resolveXor(op string, args []types.Type) (*Overload, error) {
	if len(args) != 2 {
		return nil, errArity(op, "2", args)
	}
	if !logicOperand(args[0]) || !logicOperand(args[1]) {
		return nil, fmt.Errorf("cannot xor %s and %s", args[0], args[1])
	}
	x, y := truth(args[0]), truth(args[1])
	return overload(op, args, types.Bool, func(v []types.Value) types.Value {
		return boolV(x(v[0]) != y(v[1]))
	}), nil
}

func resolveNot(op string, args []types.Type) (*Overload, error) {
	if len(args) != 1 {
		return nil, errArity(op, "1", args)
	}
	if !logicOperand(args[0]) {
		return nil, fmt.Errorf("cannot negate %s", args[0])
	}
	x := truth(args[0])
	return overload(op, args, types.Bool, func(v []types.Value) types.Value { return boolV(!x(v[0])) }), nil
}

func resolveIsNull(op string, args []types.Type) (*Overload, error) {
	if len(args) != 1 {
		return nil, errArity(op, "1", args)
	}
	want := op == "is_null"
	return nullSafe(overload(op, args, types.Bool, func(v []types.Value) types.Value {
		return boolV(v[0].Null == want)
	})), nil
}

func resolveIfNull(name string, args []types.Type) (*Overload, error) {
	if len(args) != 2 {
		return nil, errArity(name, "2", args)
	}
	res, ok := commonType(args[0], args[1])
	if !ok {
		return nil, fmt.Errorf("%s: the default value must have a type compatible with %s, got %s", name, args[0], args[1])
	}
	x, err1 := nullable(args[0], res)
	d, err2 := nullable(args[1], res)
	if err1 != nil || err2 != nil {
		return nil, errArgs(name, "(T, T)", args)
	}
	return nullSafe(overload(name, args, res, func(v []types.Value) types.Value {
		if v[0].Null {
			return d(v[1])
		}
		return x(v[0])
	})), nil
}

func resolveNvl2(name string, args []types.Type) (*Overload, error) {
	if len(args) != 3 {
		return nil, errArity(name, "3", args)
	}
	res, ok := commonType(args[1], args[2])
	if !ok {
		return nil, fmt.Errorf("%s: the second and third arguments must have compatible types, got %s and %s", name, args[1], args[2])
	}
	a, err1 := nullable(args[1], res)
	b, err2 := nullable(args[2], res)
	if err1 != nil || err2 != nil {
		return nil, errArgs(name, "(any, T, T)", args)
	}
	return nullSafe(overload(name, args, res, func(v []types.Value) types.Value {
		if v[0].Null {
			return b(v[2])
		}
		return a(v[1])
	})), nil
}

func resolveIdentity(name string, args []types.Type) (*Overload, error) {
	if len(args) != 1 {
		return nil, errArity(name, "1", args)
	}
	return nullSafe(overload(name, args, args[0], func(v []types.Value) types.Value { return v[0] })), nil
}
