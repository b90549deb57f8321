package celexpr

// This file compiles the common subset of CEL into Go closures, one per
// node of the checked AST, that read the row's variables directly (its
// types.Values, or with a Row its block's column storage): no activation,
// no ref.Val boxing, no allocation (except to concatenate strings). An expression using anything outside the subset is run
// entirely by cel-go's interpreter.
//
// The closures reproduce what cel-go's interpreter does at runtime, not
// what the checker guarantees statically: each operator dispatches on the
// dynamic kinds of its operands exactly as the interpreter's standard
// library does (common/types and common/stdlib of cel-go), so a NULL
// column, which CEL sees as null, fails or compares as it would there.
// fast_test.go checks this against cel-go on random expressions.

import (
	"cmp"
	"math"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/overloads"
	celtypes "cel.dev/cel-go/common/types"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// kind is the dynamic type of a value on the fast path.
type kind uint8

const (
	kindErr kind = iota // a CEL runtime error; its message is not kept, the result is NULL
	kindNull
	kindBool
	kindInt
	kindUint
	kindDouble
	kindString
)

// value is a CEL value on the fast path. A bool (0 or 1), an int, a uint
// and a double are in i (a uint's and a double's bits), a string in s.
// value is kept to three fields and 32 bytes so that the compiler holds it
// in registers: a larger struct is copied through memory at each call,
// which made the closures several times slower.
type value struct {
	k kind
	i int64
	s string
}

// doubleValue returns a double.
func doubleValue(f float64) value { return value{k: kindDouble, i: int64(math.Float64bits(f))} }

// f returns the payload of a double.
func (v value) f() float64 { return math.Float64frombits(uint64(v.i)) }

var (
	errValue   = value{k: kindErr}
	nullValue  = value{k: kindNull}
	trueValue  = value{k: kindBool, i: 1}
	falseValue = value{k: kindBool}
)

func boolValue(b bool) value {
	if b {
		return trueValue
	}
	return falseValue
}

func (v value) isNaN() bool { return v.k == kindDouble && math.IsNaN(v.f()) }

// fastFn evaluates one node of an expression on the row vs reads.
type fastFn func(vs vars) value

// vars reads the variables of the row being evaluated: read(i) is
// variable i as fromSQL converts it. Passing an interface, not a func,
// lets a Row read its block's columns without building a types.Value.
type vars interface{ read(i int) value }

// getter reads variables from the values a func returns (Eval).
type getter func(i int) types.Value

func (g getter) read(i int) value { return fromSQL(g(i)) }

// compileFast compiles a checked expression into a closure. It reports
// false when the expression uses anything outside the fast subset.
func compileFast(a *cel.Ast, names map[string]int, vars []Var) (fastFn, bool) {
	c := fastCompiler{refs: a.NativeRep().ReferenceMap(), names: names, vars: vars}
	return c.expr(a.NativeRep().Expr())
}

// fastCompiler holds what compiling a node needs from the checked AST.
type fastCompiler struct {
	refs  map[int64]*celast.ReferenceInfo
	names map[string]int
	vars  []Var
}

func (c *fastCompiler) expr(e celast.Expr) (fastFn, bool) {
	switch e.Kind() {
	case celast.LiteralKind:
		return literal(e.AsLiteral())
	case celast.IdentKind, celast.SelectKind:
		return c.variable(e)
	case celast.CallKind:
		return c.call(e)
	}
	return nil, false // lists, maps, messages, comprehensions
}

func (c *fastCompiler) exprs(es []celast.Expr) ([]fastFn, bool) {
	fns := make([]fastFn, len(es))
	for i, e := range es {
		f, ok := c.expr(e)
		if !ok {
			return nil, false
		}
		fns[i] = f
	}
	return fns, true
}

// literal compiles a constant of one of the fast kinds.
func literal(lit any) (fastFn, bool) {
	var v value
	switch x := lit.(type) {
	case celtypes.Null:
		v = nullValue
	case celtypes.Bool:
		v = boolValue(bool(x))
	case celtypes.Int:
		v = value{k: kindInt, i: int64(x)}
	case celtypes.Uint:
		v = value{k: kindUint, i: int64(x)}
	case celtypes.Double:
		v = doubleValue(float64(x))
	case celtypes.String:
		v = value{k: kindString, s: string(x)}
	default:
		return nil, false // bytes
	}
	return func(vars) value { return v }, true
}

// variable compiles a variable, which the checker resolved from an
// identifier or from a dotted name ("cards.home"). Only scalar columns
// other than timestamps and dates take the fast path.
func (c *fastCompiler) variable(e celast.Expr) (fastFn, bool) {
	if e.Kind() == celast.SelectKind && e.AsSelect().IsTestOnly() {
		return nil, false // has()
	}
	r, ok := c.refs[e.ID()]
	if !ok || r.Value != nil {
		return nil, false // a field selection, or an enum constant
	}
	i, ok := c.names[r.Name]
	if !ok {
		return nil, false
	}
	switch c.vars[i].Type.Kind() {
	case types.KindBool, types.KindInt16, types.KindInt32, types.KindInt64,
		types.KindFloat, types.KindDouble, types.KindString:
	default:
		return nil, false
	}
	return func(vs vars) value { return vs.read(i) }, true
}

// fromSQL converts a column's value as toCEL does, from its dynamic type.
func fromSQL(v types.Value) value {
	if v.Null {
		return nullValue
	}
	switch v.Type.Kind() {
	case types.KindBool:
		return boolValue(v.I != 0)
	case types.KindInt16, types.KindInt32, types.KindInt64:
		return value{k: kindInt, i: v.I}
	case types.KindFloat, types.KindDouble:
		return doubleValue(v.F)
	case types.KindString:
		return value{k: kindString, s: v.S}
	}
	return errValue // not the variable's declared type
}

// fromColumn is fromSQL(c.Value(row)), read from the column's storage.
func fromColumn(c *types.Column, row int) value {
	if c.IsNull(row) {
		return nullValue
	}
	switch c.Type.Kind() {
	case types.KindBool:
		return boolValue(c.I[row] != 0)
	case types.KindInt16, types.KindInt32, types.KindInt64:
		return value{k: kindInt, i: c.I[row]}
	case types.KindFloat, types.KindDouble:
		return doubleValue(c.F[row])
	case types.KindString:
		return value{k: kindString, s: c.S[row]}
	}
	return errValue
}

// toSQL converts a result to a value of type t as fromCEL does; an error
// is NULL.
func (v value) toSQL(t types.Type) types.Value {
	switch v.k {
	case kindBool:
		return types.BoolValue(v.i != 0)
	case kindInt, kindUint:
		return types.Int64Value(v.i)
	case kindDouble:
		return types.DoubleValue(v.f())
	case kindString:
		return types.StringValue(v.s)
	}
	return types.NullOf(t)
}

// store sets position k of out, a column of type t, to v.toSQL(t), writing
// the payload straight into the column's storage where its kind is t's.
func (v value) store(out *types.Column, k int, t types.Type) {
	switch {
	case v.k == kindBool && t == types.Bool, (v.k == kindInt || v.k == kindUint) && t == types.Int64:
		out.I[k] = v.i
	case v.k == kindDouble && t == types.Double:
		out.F[k] = v.f()
	case v.k == kindString && t == types.String:
		out.S[k] = v.s
	default:
		out.Set(k, v.toSQL(t))
		return
	}
	if out.Nulls != nil {
		out.Nulls[k] = false
	}
}

// call compiles an operator or a function of the fast subset.
func (c *fastCompiler) call(e celast.Expr) (fastFn, bool) {
	call := e.AsCall()
	args := call.Args()
	if call.IsMemberFunction() {
		args = append([]celast.Expr{call.Target()}, args...)
	}
	name := call.FunctionName()
	if name == operators.In {
		return c.in(args)
	}
	if name == overloads.Size && !c.sizeOfString(e) {
		return nil, false // the size of a list or a map
	}
	fns, ok := c.exprs(args)
	if !ok {
		return nil, false
	}
	switch len(fns) {
	case 1:
		if op, ok := unaryOps[name]; ok {
			return unary(op, fns[0]), true
		}
	case 2:
		switch name {
		case operators.LogicalAnd:
			return and(fns[0], fns[1]), true
		case operators.LogicalOr:
			return or(fns[0], fns[1]), true
		}
		if op, ok := binaryOps[name]; ok {
			return binary(op, fns[0], fns[1]), true
		}
	case 3:
		if name == operators.Conditional {
			return conditional(fns[0], fns[1], fns[2]), true
		}
	}
	return nil, false
}

// sizeOfString reports whether the checker resolved a size call to the
// size of a string.
func (c *fastCompiler) sizeOfString(e celast.Expr) bool {
	r, ok := c.refs[e.ID()]
	if !ok || len(r.OverloadIDs) != 1 {
		return false
	}
	o := r.OverloadIDs[0]
	return o == overloads.SizeString || o == overloads.SizeStringInst
}

// in compiles `x in [a, b, ...]` with a list written out in the
// expression; other forms (a list column, a map) fall back.
func (c *fastCompiler) in(args []celast.Expr) (fastFn, bool) {
	if len(args) != 2 || args[1].Kind() != celast.ListKind || len(args[1].AsList().OptionalIndices()) > 0 {
		return nil, false
	}
	x, ok := c.expr(args[0])
	if !ok {
		return nil, false
	}
	elems, ok := c.exprs(args[1].AsList().Elements())
	if !ok {
		return nil, false
	}
	return func(vs vars) value {
		v := x(vs)
		if v.k == kindErr {
			return v
		}
		// cel-go builds the whole list first: an element in error makes
		// the test an error even after an earlier element matched.
		found := false
		for _, elem := range elems {
			ev := elem(vs)
			if ev.k == kindErr {
				return ev
			}
			found = found || equal(v, ev)
		}
		return boolValue(found)
	}, true
}

// and is CEL's &&: commutative over errors. False on either side wins over
// an error on the other (error && false == false); otherwise an error, or
// a non-bool such as a NULL column, wins over true (error && true ==
// error).
func and(l, r fastFn) fastFn {
	return func(vs vars) value {
		a := l(vs)
		if a.k == kindBool && a.i == 0 {
			return falseValue
		}
		b := r(vs)
		if b.k == kindBool && b.i == 0 {
			return falseValue
		}
		if a.k != kindBool || b.k != kindBool {
			return errValue
		}
		return trueValue
	}
}

// or is CEL's ||, the mirror of and: true on either side wins over an
// error on the other.
func or(l, r fastFn) fastFn {
	return func(vs vars) value {
		a := l(vs)
		if a.k == kindBool && a.i != 0 {
			return trueValue
		}
		b := r(vs)
		if b.k == kindBool && b.i != 0 {
			return trueValue
		}
		if a.k != kindBool || b.k != kindBool {
			return errValue
		}
		return falseValue
	}
}

// conditional is c ? t : f; a condition that is not a bool (an error, a
// NULL column) is an error.
func conditional(cond, t, f fastFn) fastFn {
	return func(vs vars) value {
		c := cond(vs)
		switch {
		case c.k != kindBool:
			return errValue
		case c.i != 0:
			return t(vs)
		}
		return f(vs)
	}
}

// unary applies a strict operator: an error operand is the result.
func unary(op func(value) value, arg fastFn) fastFn {
	return func(vs vars) value {
		v := arg(vs)
		if v.k == kindErr {
			return v
		}
		return op(v)
	}
}

// binary applies a strict operator: an error operand is the result.
func binary(op func(a, b value) value, l, r fastFn) fastFn {
	return func(vs vars) value {
		a := l(vs)
		if a.k == kindErr {
			return a
		}
		b := r(vs)
		if b.k == kindErr {
			return b
		}
		return op(a, b)
	}
}

var unaryOps = map[string]func(value) value{
	operators.LogicalNot: not,
	operators.Negate:     negate,
	overloads.Size:       size,
}

var binaryOps = map[string]func(a, b value) value{
	operators.Equals:        func(a, b value) value { return boolValue(equal(a, b)) },
	operators.NotEquals:     func(a, b value) value { return boolValue(!equal(a, b)) },
	operators.Less:          relation(func(c int) bool { return c < 0 }),
	operators.LessEquals:    relation(func(c int) bool { return c <= 0 }),
	operators.Greater:       relation(func(c int) bool { return c > 0 }),
	operators.GreaterEquals: relation(func(c int) bool { return c >= 0 }),
	operators.Add:           add,
	operators.Subtract:      subtract,
	operators.Multiply:      multiply,
	operators.Divide:        divide,
	operators.Modulo:        modulo,
}

func not(v value) value {
	if v.k != kindBool {
		return errValue
	}
	return boolValue(v.i == 0)
}

// negate is unary minus: an int overflows at math.MinInt64; a uint has no
// negation.
func negate(v value) value {
	switch v.k {
	case kindInt:
		if v.i == math.MinInt64 {
			return errValue
		}
		return value{k: kindInt, i: -v.i}
	case kindDouble:
		return doubleValue(-v.f())
	}
	return errValue
}

// size is the length of a string in code points; like cel-go's
// len([]rune(s)), it counts each byte of invalid UTF-8 as one.
func size(v value) value {
	if v.k != kindString {
		return errValue
	}
	return value{k: kindInt, i: int64(utf8.RuneCountInString(v.s))}
}

// equal is CEL's heterogeneous equality (types.Equal): null equals only
// null, numbers compare by value across int, uint and double, NaN equals
// nothing, and values of other different kinds are unequal, not errors.
func equal(a, b value) bool {
	if a.k == kindNull || b.k == kindNull {
		return a.k == b.k
	}
	if a.isNaN() || b.isNaN() {
		return false
	}
	switch a.k {
	case kindBool:
		return b.k == kindBool && a.i == b.i
	case kindString:
		return b.k == kindString && a.s == b.s
	case kindInt, kindUint, kindDouble:
		c, ok := compareNumbers(a, b)
		return ok && c == 0
	}
	return false
}

// relation makes one of <, <=, >, >= from a test of a comparison's sign.
// Mirroring cel-go's stdlib: a null on the left is an error (null cannot
// be ordered) even when the right is NaN; otherwise NaN on either side is
// false; then a null on the right, or values of different kinds, is an
// error.
func relation(test func(c int) bool) func(a, b value) value {
	return func(a, b value) value {
		if a.k == kindNull {
			return errValue
		}
		if a.isNaN() || b.isNaN() {
			return falseValue
		}
		c, ok := compare(a, b)
		if !ok {
			return errValue
		}
		return boolValue(test(c))
	}
}

// compare orders two values of the same kind, or two numbers; ok is false
// when they cannot be ordered.
func compare(a, b value) (c int, ok bool) {
	switch a.k {
	case kindBool:
		if b.k != kindBool {
			return 0, false
		}
		return sign(a.i - b.i), true
	case kindString:
		if b.k != kindString {
			return 0, false
		}
		switch {
		case a.s < b.s:
			return -1, true
		case a.s > b.s:
			return 1, true
		}
		return 0, true
	}
	return compareNumbers(a, b)
}

// compareNumbers orders two numbers (not NaN) across int, uint and double
// as cel-go's common/types/compare.go does; ok is false when either is not
// a number.
func compareNumbers(a, b value) (int, bool) {
	switch a.k {
	case kindInt:
		switch b.k {
		case kindInt:
			return cmp.Compare(a.i, b.i), true
		case kindUint:
			return compareIntUint(a.i, uint64(b.i)), true
		case kindDouble:
			return -compareDoubleInt(b.f(), a.i), true
		}
	case kindUint:
		switch b.k {
		case kindInt:
			return -compareIntUint(b.i, uint64(a.i)), true
		case kindUint:
			return cmp.Compare(uint64(a.i), uint64(b.i)), true
		case kindDouble:
			return -compareDoubleUint(b.f(), uint64(a.i)), true
		}
	case kindDouble:
		switch b.k {
		case kindInt:
			return compareDoubleInt(a.f(), b.i), true
		case kindUint:
			return compareDoubleUint(a.f(), uint64(b.i)), true
		case kindDouble:
			return cmp.Compare(a.f(), b.f()), true
		}
	}
	return 0, false
}

// compareDoubleInt orders a double and an int as cel-go does: a double
// outside the int range is below or above every int; inside it, the int
// is rounded to a double (so 2^63, the double nearest math.MaxInt64,
// compares equal to it).
func compareDoubleInt(d float64, i int64) int {
	switch {
	case d < math.MinInt64:
		return -1
	case d > math.MaxInt64:
		return 1
	}
	return cmp.Compare(d, float64(i))
}

func compareDoubleUint(d float64, u uint64) int {
	switch {
	case d < 0:
		return -1
	case d > math.MaxUint64:
		return 1
	}
	return cmp.Compare(d, float64(u))
}

func compareIntUint(i int64, u uint64) int {
	if i < 0 || u > math.MaxInt64 {
		return -1
	}
	return cmp.Compare(i, int64(u))
}

func sign(x int64) int { return cmp.Compare(x, 0) }

// Arithmetic needs operands of the same kind (the checker allows no
// mixing; a null operand is an error). Int and uint arithmetic fails where
// cel-go's does (common/types/overflow.go): overflow, and
// division or modulus by zero, is an error. Int division
// truncates toward zero and the sign of % follows the dividend, as in Go.
// Double arithmetic is IEEE (x / 0.0 is ±Inf or NaN, not an error) and
// has no %.

func add(a, b value) value {
	if a.k != b.k {
		return errValue
	}
	switch a.k {
	case kindInt:
		x, y := a.i, b.i
		if (y > 0 && x > math.MaxInt64-y) || (y < 0 && x < math.MinInt64-y) {
			return errValue
		}
		return value{k: kindInt, i: x + y}
	case kindUint:
		x, y := uint64(a.i), uint64(b.i)
		if x > math.MaxUint64-y {
			return errValue
		}
		return value{k: kindUint, i: int64(x + y)}
	case kindDouble:
		return doubleValue(a.f() + b.f())
	case kindString:
		return value{k: kindString, s: a.s + b.s}
	}
	return errValue
}

func subtract(a, b value) value {
	if a.k != b.k {
		return errValue
	}
	switch a.k {
	case kindInt:
		x, y := a.i, b.i
		if (y < 0 && x > math.MaxInt64+y) || (y > 0 && x < math.MinInt64+y) {
			return errValue
		}
		return value{k: kindInt, i: x - y}
	case kindUint:
		if uint64(b.i) > uint64(a.i) {
			return errValue
		}
		return value{k: kindUint, i: int64(uint64(a.i) - uint64(b.i))}
	case kindDouble:
		return doubleValue(a.f() - b.f())
	}
	return errValue
}

func multiply(a, b value) value {
	if a.k != b.k {
		return errValue
	}
	switch a.k {
	case kindInt:
		x, y := a.i, b.i
		if (x == -1 && y == math.MinInt64) || (y == -1 && x == math.MinInt64) ||
			(x > 0 && y > 0 && x > math.MaxInt64/y) ||
			(x > 0 && y < 0 && y < math.MinInt64/x) ||
			(x < 0 && y > 0 && x < math.MinInt64/y) ||
			(x < 0 && y < 0 && y < math.MaxInt64/x) {
			return errValue
		}
		return value{k: kindInt, i: x * y}
	case kindUint:
		x, y := uint64(a.i), uint64(b.i)
		if y != 0 && x > math.MaxUint64/y {
			return errValue
		}
		return value{k: kindUint, i: int64(x * y)}
	case kindDouble:
		return doubleValue(a.f() * b.f())
	}
	return errValue
}

func divide(a, b value) value {
	if a.k != b.k {
		return errValue
	}
	switch a.k {
	case kindInt:
		if b.i == 0 || (a.i == math.MinInt64 && b.i == -1) {
			return errValue
		}
		return value{k: kindInt, i: a.i / b.i}
	case kindUint:
		if b.i == 0 {
			return errValue
		}
		return value{k: kindUint, i: int64(uint64(a.i) / uint64(b.i))}
	case kindDouble:
		return doubleValue(a.f() / b.f())
	}
	return errValue
}

func modulo(a, b value) value {
	if a.k != b.k {
		return errValue
	}
	switch a.k {
	case kindInt:
		// math.MinInt64 % -1 is 0 in Go, but cel-go reports an overflow.
		if b.i == 0 || (a.i == math.MinInt64 && b.i == -1) {
			return errValue
		}
		return value{k: kindInt, i: a.i % b.i}
	case kindUint:
		if b.i == 0 {
			return errValue
		}
		return value{k: kindUint, i: int64(uint64(a.i) % uint64(b.i))}
	}
	return errValue
}
