package funcs

import (
	"cmp"
	"fmt"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Comparison operators (OpenMLDB's CompareTypeAccept): two numbers compare
// in their common number type (so int64 vs float compares as float); a
// string compares with any column type, the other side rendered as a
// string, bytewise; timestamps with timestamps and dates with dates. NULL
// compares with anything and gives NULL. Everything else is rejected, e.g.
// timestamp vs int64 or timestamp vs date. Floats compare as IEEE 754: NaN
// is unequal to everything, itself included.
//
// maximum(x, y) and minimum(x, y) are OpenMLDB's expression UDFs
// (default_udf_library.cc) x > y ? x : y and x < y ? x : y: they accept the
// operands > and < compare and give their CommonType, as CASE does. A NULL
// comparison picks y, so maximum(NULL, 1) is 1 but maximum(1, NULL) is
// NULL, as in OpenMLDB.

func init() {
	for _, op := range []string{"=", "!=", "<", "<=", ">", ">="} {
		register(op, resolveCompare)
	}
	register("maximum", resolveExtremum)
	register("minimum", resolveExtremum)
}

func resolveExtremum(name string, args []types.Type) (*Overload, error) {
	if len(args) != 2 {
		return nil, errArity(name, "2", args)
	}
	op := ">"
	if name == "minimum" {
		op = "<"
	}
	cmp, err := resolveCompare(op, args)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	res, ok := commonType(args[0], args[1])
	if !ok {
		return nil, errArgs(name, "(T, T)", args)
	}
	x, err1 := nullable(args[0], res)
	y, err2 := nullable(args[1], res)
	if err1 != nil || err2 != nil {
		return nil, errArgs(name, "(T, T)", args)
	}
	return nullSafe(overload(name, args, res, func(v []types.Value) types.Value {
		if !v[0].Null && !v[1].Null && cmp.Impl(v).Bool() {
			return x(v[0])
		}
		return y(v[1])
	})), nil
}

func resolveCompare(op string, args []types.Type) (*Overload, error) {
	if len(args) != 2 {
		return nil, errArity(op, "2", args)
	}
	a, b := args[0], args[1]
	var impl Impl
	switch compareKind(a, b) {
	case cmpNull:
		impl = constNull(types.Bool)
	case cmpInt:
		return intOverload2(op, args, types.Bool, orderedInt(op)), nil
	case cmpFloat:
		impl = ordered(op, asFloat32(a), asFloat32(b))
	case cmpDouble:
		impl = ordered(op, asFloat64(a), asFloat64(b))
	case cmpString:
		impl = ordered(op, stringer(a), stringer(b))
	default:
		return nil, fmt.Errorf("cannot compare %s and %s", a, b)
	}
	return overload(op, args, types.Bool, impl), nil
}

// How two operand types compare.
const (
	cmpNone   = iota // rejected
	cmpNull          // a NULL literal: the result is NULL
	cmpInt           // payloads in I: bool, integers, timestamps, dates
	cmpFloat         // as float32
	cmpDouble        // as float64
	cmpString        // rendered as strings
)

func compareKind(a, b types.Type) int {
	switch {
	case !(a == types.Null || isBase(a)) || !(b == types.Null || isBase(b)):
		return cmpNone
	case a == types.Null || b == types.Null:
		return cmpNull
	case isNumber(a) && isNumber(b):
		c, _ := numberCommon(a, b)
		switch {
		case isInteger(c):
			return cmpInt
		case c == types.Float:
			return cmpFloat
		}
		return cmpDouble
	case a == types.String || b == types.String:
		return cmpString
	case a == b && storedInI(a):
		return cmpInt
	}
	return cmpNone
}

// equality returns = on non-NULL values of types a and b (for isin and map
// lookups), or false when they do not compare.
func equality(a, b types.Type) (func(x, y types.Value) bool, bool) {
	switch compareKind(a, b) {
	case cmpInt:
		return func(x, y types.Value) bool { return x.I == y.I }, true
	case cmpFloat:
		fa, fb := asFloat32(a), asFloat32(b)
		return func(x, y types.Value) bool { return fa(x) == fb(y) }, true
	case cmpDouble:
		fa, fb := asFloat64(a), asFloat64(b)
		return func(x, y types.Value) bool { return fa(x) == fb(y) }, true
	case cmpString:
		sa, sb := stringer(a), stringer(b)
		return func(x, y types.Value) bool { return sa(x) == sb(y) }, true
	}
	return nil, false
}

func asFloat64(t types.Type) func(types.Value) float64 {
	if t.IsFloat() {
		return func(v types.Value) float64 { return v.F }
	}
	return func(v types.Value) float64 { return float64(v.I) }
}

func asFloat32(t types.Type) func(types.Value) float64 {
	if t.IsFloat() {
		return func(v types.Value) float64 { return v.F }
	}
	return func(v types.Value) float64 { return float64(float32(v.I)) }
}

// ordered returns the comparison op of the operands as extracted by x and y.
// orderedInt is ordered on integer payloads, as an Int2 giving 1 or 0.
func orderedInt(op string) func(x, y int64) (int64, bool) {
	b := func(t bool) (int64, bool) {
		if t {
			return 1, true
		}
		return 0, true
	}
	switch op {
	case "=":
		return func(x, y int64) (int64, bool) { return b(x == y) }
	case "!=":
		return func(x, y int64) (int64, bool) { return b(x != y) }
	case "<":
		return func(x, y int64) (int64, bool) { return b(x < y) }
	case "<=":
		return func(x, y int64) (int64, bool) { return b(x <= y) }
	case ">":
		return func(x, y int64) (int64, bool) { return b(x > y) }
	}
	return func(x, y int64) (int64, bool) { return b(x >= y) }
}

func ordered[T cmp.Ordered](op string, x, y func(types.Value) T) Impl {
	switch op {
	case "=":
		return func(v []types.Value) types.Value { return boolV(x(v[0]) == y(v[1])) }
	case "!=":
		return func(v []types.Value) types.Value { return boolV(x(v[0]) != y(v[1])) }
	case "<":
		return func(v []types.Value) types.Value { return boolV(x(v[0]) < y(v[1])) }
	case "<=":
		return func(v []types.Value) types.Value { return boolV(x(v[0]) <= y(v[1])) }
	case ">":
		return func(v []types.Value) types.Value { return boolV(x(v[0]) > y(v[1])) }
	}
	return func(v []types.Value) types.Value { return boolV(x(v[0]) >= y(v[1])) }
}
