package funcs

import "github.com/fenestra-dev/fenestra/featurelang/types"

// The promotion lattice of OpenMLDB's numeric types. bool counts as the
// smallest integer: it converts implicitly to every number.
//
//	bool ─► int16 ─► int32 ─► int64 ─┐
//	  │                              ├─► (integer meets float: the float side)
//	  └───────► float ─► double ◄────┘
//
// safeCast(from, to) is an edge (or path) of the lattice, plus integer →
// timestamp. numberCommon picks the type two numbers are computed in: the
// side the other converts to safely, else the floating side (int64 + float
// computes in float, as OpenMLDB does, with float32 precision).

// isNumber reports whether t is bool, an integer or a float type.
func isNumber(t types.Type) bool { return t == types.Bool || t.IsNumeric() }

// isInteger reports whether t is bool or an integer type (OpenMLDB's
// "integer", which includes bool).
func isInteger(t types.Type) bool { return t == types.Bool || t.IsInteger() }

// isBase reports whether t is one of the nine column types.
func isBase(t types.Type) bool { return t.IsScalar() && t != types.Null }

// storedInI reports whether values of t keep their payload in Value.I.
func storedInI(t types.Type) bool {
	switch t {
	case types.Bool, types.Int16, types.Int32, types.Int64, types.Timestamp, types.Date:
		return true
	}
	return false
}

// safeCast reports whether from converts implicitly (without loss in
// OpenMLDB's view) to to.
func safeCast(from, to types.Type) bool {
	if from == to {
		return true
	}
	switch to {
	case types.Int16:
		return from == types.Bool
	case types.Int32:
		return from == types.Bool || from == types.Int16
	case types.Int64:
		return isInteger(from)
	case types.Float:
		return from == types.Bool
	case types.Double:
		return from == types.Bool || from == types.Float
	case types.Timestamp:
		return from.IsInteger()
	}
	return false
}

// numberCommon returns the type two numbers are computed in.
func numberCommon(a, b types.Type) (types.Type, bool) {
	switch {
	case !isNumber(a) || !isNumber(b):
		return 0, false
	case safeCast(a, b):
		return b, true
	case safeCast(b, a):
		return a, true
	case b.IsFloat():
		return b, true
	case a.IsFloat():
		return a, true
	}
	return 0, false
}

// commonType is CommonType: the implicit conversion target of two types,
// OpenMLDB's ExprNode::CompatibleType (hybridse/src/node/expr_node.cc),
// which types CASE, if_null/ifnull/nvl, nvl2, maximum/minimum, array
// literals and map(): the side the other converts to safely; for an
// integer and a float the float side, but int64 with float gives double
// (int16 and int32 with float give float, as OpenMLDB computes them);
// and any two other column types meet in string.
func commonType(a, b types.Type) (types.Type, bool) {
	switch {
	case a == b:
		return a, true
	case a == types.Null:
		return b, true
	case b == types.Null:
		return a, true
	case a.Kind() == types.KindArray && b.Kind() == types.KindArray:
		e, ok := commonType(a.Elem(), b.Elem())
		if !ok {
			return 0, false
		}
		return types.ArrayOf(e), true
	case !isBase(a) || !isBase(b):
		return 0, false
	}
	if t, ok := numberCommon(a, b); ok {
		if t == types.Float && (a == types.Int64 || b == types.Int64) {
			return types.Double, true
		}
		return t, true
	}
	switch {
	case safeCast(a, b):
		return b, true
	case safeCast(b, a):
		return a, true
	}
	return types.String, true
}
