package funcs

import (
	"errors"
	"fmt"
	"math"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Arithmetic and bitwise operators. Typing follows OpenMLDB's
// Add/Sub/Multi/FDiv/SDiv/Mod type-accept rules (see typing.go for the
// number lattice):
//
//	op    accepts (NULL goes with anything)          result
//	+     number + number                            numberCommon
//	      timestamp + timestamp|integer, integer + timestamp   timestamp
//	-     number - number                            numberCommon
//	      timestamp - integer                        timestamp
//	*, %  number, number                             numberCommon
//	/     number, number                             double
//	div   integer, integer                           numberCommon
//	& | ^ int16|int32|int64 pairs                    numberCommon
//	neg   number                                     the operand's type
//	~     int16|int32|int64                          the operand's type
//
// ("integer" includes bool, as in OpenMLDB.) Integer results wrap to their
// width; bool results wrap to one bit. A zero divisor of /, % or div gives
// NULL, for floats too.
//
// Two functions are written with them, as OpenMLDB defines them (its
// expression UDFs, default_udf_library.cc), so they type as the operators:
//
//	add(x, y)    x + y
//	pmod(x, y)   x % y when that is not negative, else (x % y + y) % y: the
//	             type of x % y; NULL for a zero y (pmod(-10, 3) = 2,
//	             pmod(10, -3) = 1, pmod(-10, -3) = -1)

func init() {
	for _, op := range []string{"+", "-", "*", "/", "%", "div"} {
		register(op, resolveArith)
	}
	for _, op := range []string{"&", "|", "^"} {
		register(op, resolveBitwise)
	}
	register("neg", resolveNeg)
	register("~", resolveBitNot)
	register("add", resolveAdd)
	register("pmod", resolvePmod)
}

func resolveAdd(name string, args []types.Type) (*Overload, error) {
	o, err := resolveArith("+", args)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	o.Name = name
	return o, nil
}

// resolvePmod composes the overloads of %, + and < that OpenMLDB's pmod
// expands to (mod = x % y; mod < 0 ? (mod + y) % y : mod), so that it
// computes in their types, widths and precisions.
func resolvePmod(name string, args []types.Type) (*Overload, error) {
	if len(args) != 2 {
		return nil, errArity(name, "2", args)
	}
	mod, err := resolveArith("%", args)
	if err != nil {
		return nil, errArgs(name, "(number, number)", args)
	}
	res, y := mod.Result, args[1]
	add, err1 := resolveArith("+", []types.Type{res, y})
	wrap, err2 := resolveArith("%", []types.Type{res, y})
	neg, err3 := resolveCompare("<", []types.Type{res, types.Int32})
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, errArgs(name, "(number, number)", args)
	}
	zero := intV(types.Int32, 0)
	return overload(name, args, res, func(v []types.Value) types.Value {
		m := mod.Impl(v)
		if m.Null {
			return m // a zero divisor
		}
		if !neg.Impl([]types.Value{m, zero}).Bool() {
			return m
		}
		return wrap.Impl([]types.Value{add.Impl([]types.Value{m, v[1]}), v[1]})
	}), nil
}

var opVerbs = map[string]string{
	"+": "add", "-": "subtract", "*": "multiply", "/": "divide", "%": "take the modulo of",
	"div": "integer-divide", "&": "bitwise-and", "|": "bitwise-or", "^": "bitwise-xor",
}

func errOperands(op string, a, b types.Type) error {
	return fmt.Errorf("cannot %s %s and %s", opVerbs[op], a, b)
}

// arithType returns the result type of a op b, or false when OpenMLDB
// rejects the operand types.
func arithType(op string, a, b types.Type) (types.Type, bool) {
	nullOrNum := func(t types.Type) bool { return t == types.Null || isNumber(t) }
	switch op {
	case "+":
		switch {
		case a == types.Timestamp && (b == types.Timestamp || isInteger(b) || b == types.Null),
			b == types.Timestamp && (isInteger(a) || a == types.Null):
			return types.Timestamp, true
		}
	case "-":
		if a == types.Timestamp && (isInteger(b) || b == types.Null) {
			return types.Timestamp, true
		}
	case "/":
		if nullOrNum(a) && nullOrNum(b) {
			return types.Double, true
		}
		return 0, false
	case "div":
		if !(a == types.Null || isInteger(a)) || !(b == types.Null || isInteger(b)) {
			return 0, false
		}
	}
	switch {
	case !nullOrNum(a) || !nullOrNum(b):
		return 0, false
	case a == types.Null:
		return b, true
	case b == types.Null:
		return a, true
	}
	return numberCommon(a, b)
}

func resolveArith(op string, args []types.Type) (*Overload, error) {
	if len(args) != 2 {
		return nil, errArity(op, "2", args)
	}
	a, b := args[0], args[1]
	res, ok := arithType(op, a, b)
	if !ok {
		return nil, errOperands(op, a, b)
	}
	switch {
	case a == types.Null || b == types.Null:
		return overload(op, args, res, constNull(res)), nil // strict: never called with a NULL operand
	case res.IsFloat():
		return overload(op, args, res, floatArith(op, a.IsFloat(), b.IsFloat(), res)), nil
	case res == types.Timestamp:
		if op == "-" {
			return intOverload2(op, args, res, func(x, y int64) (int64, bool) { return x - y, true }), nil
		}
		return intOverload2(op, args, res, func(x, y int64) (int64, bool) { return x + y, true }), nil
	}
	return intOverload2(op, args, res, intArith(op, res)), nil
}

func constNull(t types.Type) Impl {
	return func([]types.Value) types.Value { return types.NullOf(t) }
}

// wrapInt truncates i to the width of the integer (or bool) type t.
func wrapInt(t types.Type, i int64) int64 {
	switch t {
	case types.Bool:
		return i & 1
	case types.Int16:
		return int64(int16(i))
	case types.Int32:
		return int64(int32(i))
	}
	return i
}

// intArith returns op on integers (or bools) of result type t, as an
// Int2: wrapped to t's width, NULL for a zero divisor of % and div.
func intArith(op string, t types.Type) func(x, y int64) (int64, bool) {
	switch op {
	case "+":
		return func(x, y int64) (int64, bool) { return wrapInt(t, x+y), true }
	case "-":
		return func(x, y int64) (int64, bool) { return wrapInt(t, x-y), true }
	case "*":
		return func(x, y int64) (int64, bool) { return wrapInt(t, x*y), true }
	case "%":
		return func(x, y int64) (int64, bool) {
			if y == 0 {
				return 0, false
			}
			return wrapInt(t, x%y), true
		}
	case "div":
		return func(x, y int64) (int64, bool) {
			if y == 0 {
				return 0, false
			}
			return wrapInt(t, x/y), true
		}
	}
	panic("funcs: no integer operator " + op)
}

// num returns the numeric payload of v as float64: F for floats, else I.
func num(v types.Value, isFloat bool) float64 {
	if isFloat {
		return v.F
	}
	return float64(v.I)
}

// floatArith computes in float32 for float results (the operands are
// converted to float first, as OpenMLDB's LLVM code does) and in float64
// for double results.
func floatArith(op string, af, bf bool, t types.Type) Impl {
	single := t == types.Float
	// Operands of a float result are float (already float32-exact) or
	// integers, which convert to float32 first. float32 +, -, * and fmod
	// computed in float64 and rounded once are exact float32 operations.
	operands := func(v []types.Value) (float64, float64) {
		x, y := num(v[0], af), num(v[1], bf)
		if single && !af {
			x = float64(float32(v[0].I))
		}
		if single && !bf {
			y = float64(float32(v[1].I))
		}
		return x, y
	}
	switch op {
	case "+":
		return func(v []types.Value) types.Value { x, y := operands(v); return floatV(t, x+y) }
	case "-":
		return func(v []types.Value) types.Value { x, y := operands(v); return floatV(t, x-y) }
	case "*":
		return func(v []types.Value) types.Value { x, y := operands(v); return floatV(t, x*y) }
	case "/":
		return func(v []types.Value) types.Value {
			x, y := num(v[0], af), num(v[1], bf)
			if y == 0 {
				return types.NullOf(t)
			}
			return floatV(t, x/y)
		}
	case "%":
		return func(v []types.Value) types.Value {
			x, y := operands(v)
			if y == 0 {
				return types.NullOf(t)
			}
			return floatV(t, math.Mod(x, y))
		}
	}
	panic("funcs: no float operator " + op)
}

func resolveBitwise(op string, args []types.Type) (*Overload, error) {
	if len(args) != 2 {
		return nil, errArity(op, "2", args)
	}
	a, b := args[0], args[1]
	nullOrIntegral := func(t types.Type) bool { return t == types.Null || t.IsInteger() }
	if !nullOrIntegral(a) || !nullOrIntegral(b) {
		return nil, errOperands(op, a, b)
	}
	res := a
	switch {
	case a == types.Null:
		res = b
	case b != types.Null:
		res, _ = numberCommon(a, b)
	}
	var impl Impl
	switch op {
	case "&":
		impl = func(v []types.Value) types.Value { return intV(res, v[0].I&v[1].I) }
	case "|":
		impl = func(v []types.Value) types.Value { return intV(res, v[0].I|v[1].I) }
	default:
		impl = func(v []types.Value) types.Value { return intV(res, wrapInt(res, v[0].I^v[1].I)) }
	}
	return overload(op, args, res, impl), nil
}

func resolveNeg(name string, args []types.Type) (*Overload, error) {
	if len(args) != 1 {
		return nil, errArity(name, "1", args)
	}
	t := args[0]
	switch {
	case t.IsFloat():
		return overload(name, args, t, func(v []types.Value) types.Value { return floatV(t, -v[0].F) }), nil
	case isInteger(t):
		return overload(name, args, t, func(v []types.Value) types.Value { return intV(t, wrapInt(t, -v[0].I)) }), nil
	}
	return nil, fmt.Errorf("cannot negate %s", t)
}

func resolveBitNot(name string, args []types.Type) (*Overload, error) {
	if len(args) != 1 {
		return nil, errArity(name, "1", args)
	}
	t := args[0]
	if t != types.Null && !t.IsInteger() {
		return nil, fmt.Errorf("cannot bitwise-not %s", t)
	}
	return overload(name, args, t, func(v []types.Value) types.Value { return intV(t, wrapInt(t, ^v[0].I)) }), nil
}
