// Package funcs is the library of scalar functions and operators of feature
// SQL: their typing rules (which argument types are accepted and what type
// results) and their implementations, with OpenMLDB's semantics (NULL
// propagation, integer wrap-around, division by zero giving NULL, UTC+8 for
// date and time functions).
//
// The checker resolves each call once, at compile time, to an Overload
// specialised to the argument types; the evaluator then calls its Impl per
// row. A plan records only the name and argument types, and Resolve rebuilds
// the identical Overload when the plan is loaded on another host.
package funcs

import (
	"errors"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Impl computes a function. args has one value per argument, of the types the
// Overload was resolved for (or NULL). Implementations must not retain args,
// must not panic on any input, and must be safe for concurrent use.
type Impl func(args []types.Value) types.Value

// Overload is a function resolved for concrete argument types.
type Overload struct {
	Name   string       // canonical lower-case name, e.g. "+", "substring"
	Args   []types.Type // the argument types it was resolved for
	Result types.Type
	// NullSafe is false for the usual strict functions: the evaluator
	// returns NULL of Result without calling Impl when any argument is NULL.
	// When true, Impl receives NULL arguments and handles them itself
	// (ifnull, concat_ws, AND, OR, IS NULL, ...).
	NullSafe bool
	// Volatile is true when Impl may give different results for the same
	// arguments (unix_timestamp(string) reads the clock for ''): a call
	// of constant arguments must not be evaluated at compile time.
	Volatile bool
	Impl     Impl
	// Int1 and Int2, when set (at most one, on strict overloads of one
	// and two arguments), are Impl on integer payloads: every argument
	// and the result are of types stored in Value.I (bool, integers,
	// timestamp, date), and for non-NULL arguments Impl returns NULL of
	// Result when ok is false, else Result's value with I = r. Impl is
	// built from them, so the two always agree; an evaluator may call
	// them instead of Impl to skip building Values.
	Int1 func(x int64) (r int64, ok bool)
	Int2 func(x, y int64) (r int64, ok bool)
}

// ErrUnknown is returned (wrapped) by Resolve for a name that is not a
// scalar function or operator.
var ErrUnknown = errors.New("funcs: unknown function")

// Operator names accepted by Resolve, besides function names:
//
//	"+", "-", "*", "/", "%", "div"      arithmetic (MOD is "%")
//	"neg", "~"                          unary minus, bitwise not
//	"=", "!=", "<", "<=", ">", ">="     comparison
//	"and", "or", "xor", "not"           three-valued logic
//	"&", "|", "^"                       bitwise
//	"is_null", "is_not_null"            IS [NOT] NULL (never NULL)
//	"like", "ilike", "rlike"            (x, pattern[, escape])
//
// Resolve returns an error whose message suits a user ("cannot add int32
// and date", "substring: expected (string, int32[, int32]), got (double,
// int32)") when no overload accepts the argument types, and an error
// wrapping ErrUnknown when name is neither an operator nor a function.
func Resolve(name string, args []types.Type) (*Overload, error) {
	return resolve(name, args)
}

// Cast returns the conversion from one type to another as CAST(x AS to)
// does, or an error when OpenMLDB rejects that cast. The Impl takes one
// argument and is strict (a NULL input gives NULL without calling it).
func Cast(from, to types.Type) (Impl, error) {
	return cast(from, to)
}

// CastInt returns the conversion Cast returns as an Overload's Int1 does,
// on integer payloads, or nil when from or to is not stored in Value.I or
// the conversion is not a plain one of the payload.
func CastInt(from, to types.Type) func(x int64) (int64, bool) {
	return castInt(from, to)
}

// CommonType returns the type both a and b convert to implicitly (for CASE
// arms, IFNULL, NVL2, maximum/minimum, array and map literals), or false
// when there is none (an array and a scalar). Null converts to anything.
// It is OpenMLDB's CompatibleType: int32 and float give float, int64 and
// float double, and column types that do not convert meet in string.
func CommonType(a, b types.Type) (types.Type, bool) {
	return commonType(a, b)
}
