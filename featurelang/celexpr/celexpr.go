// Package celexpr compiles and evaluates the CEL expressions embedded in
// feature SQL as CEL('<source>'). A row's columns are CEL variables typed
// from the schema (integers as int, float and double as double, strings,
// booleans, timestamps and dates as google.protobuf.Timestamp, arrays as
// lists), nullable where CEL allows it, with SQL NULL passed as CEL null.
//
// The same Compile runs in the checker (for errors and the result type) and
// when an evaluator is built from a plan, so every host runs the identical
// program. An expression whose work can outgrow its size (comprehensions,
// string functions such as replace) is evaluated under a cost limit: past
// it the evaluation fails with ErrCostLimit instead of running away. Other
// expressions are linear in their size and inputs and run without cost
// tracking, which would halve their speed. Any other runtime error
// (arithmetic on a null, division by zero, a missing map key) makes the
// expression's value NULL, as SQL functions do.
//
// Expressions made only of literals, scalar variables (not timestamps),
// comparisons, &&, ||, !, ?:, arithmetic, `in` a written-out list and
// size() of a string (most feature conditions) are compiled into Go
// closures that read the row's values directly, with the semantics of
// cel-go's interpreter; any other expression is run by that interpreter.
package celexpr

import (
	"cmp"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	celtypes "cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// DefaultCostLimit bounds one evaluation of one expression, in CEL's cost
// units (roughly one per operation; a typical feature expression costs under
// 50).
const DefaultCostLimit = 100_000

// ErrCostLimit is returned by Eval when an expression exceeds its cost limit.
var ErrCostLimit = errors.New("celexpr: cost limit exceeded")

// Var is a column visible to an expression under a CEL name (possibly
// dotted, "t2.amount").
type Var struct {
	Name string
	Type types.Type
}

// Issue is a compile error at a byte offset of the CEL source.
type Issue struct {
	Offset int
	Msg    string
}

// Program is a checked CEL expression. It is safe for concurrent use.
type Program struct {
	prg   cel.Program
	names map[string]int // CEL name -> index into the Compile vars
	types []types.Type   // the SQL type of each var
	// Out is the SQL type of the expression's value.
	Out types.Type
	// Refs are the indices (into the Compile vars) of the variables the
	// expression reads, in ascending order.
	Refs []int
	// tracked says whether evaluation counts cost against the limit.
	tracked bool
	// fast, when set, evaluates the expression without cel-go (fast.go).
	fast fastFn
}

// Compile checks src with vars in scope. On failure it returns the issues,
// positioned in src.
func Compile(src string, vars []Var, costLimit uint64) (*Program, []Issue) {
	opts := []cel.EnvOption{cel.CrossTypeNumericComparisons(true), ext.Strings(), ext.Math()}
	for _, v := range vars {
		ct, ok := celType(v.Type)
		if !ok {
			continue // not representable in CEL: simply not in scope
		}
		opts = append(opts, cel.Variable(v.Name, ct))
	}
	env, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, []Issue{{Msg: "CEL environment: " + err.Error()}}
	}
	checked, iss := env.Compile(src)
	if iss.Err() != nil {
		var out []Issue
		for _, e := range iss.Errors() {
			out = append(out, Issue{Offset: offsetOf(src, e.Location.Line(), e.Location.Column()), Msg: e.Message})
		}
		return nil, out
	}
	outType, ok := sqlType(checked.OutputType())
	if !ok {
		return nil, []Issue{{Msg: fmt.Sprintf("CEL expression has type %s; a feature needs bool, int, double, string, timestamp or a list of those", checked.OutputType())}}
	}
	if costLimit == 0 {
		costLimit = DefaultCostLimit
	}
	// The runtime cost limit guards expressions whose work can grow beyond
	// the size of the expression and its inputs: comprehensions (map,
	// filter, all, exists, ...) and functions such as replace, whose
	// results can grow with each call. Expressions made only of linear
	// operations need no guard, and tracking cost would halve their speed.
	var popts []cel.ProgramOption
	tracked := !linear(checked)
	if tracked {
		popts = append(popts, cel.CostLimit(costLimit))
	}
	prg, err := env.Program(checked, popts...)
	if err != nil {
		return nil, []Issue{{Msg: "CEL program: " + err.Error()}}
	}
	p := &Program{prg: prg, names: map[string]int{}, Out: outType, tracked: tracked}
	for i, v := range vars {
		p.names[v.Name] = i
		p.types = append(p.types, v.Type)
	}
	p.Refs = references(checked, p.names)
	if fast, ok := compileFast(checked, p.names, vars); ok && !tracked {
		// A tracked expression must count its cost, which only cel-go does.
		p.fast = fast
	}
	return p, nil
}

// linear reports whether a checked expression uses only operations whose
// cost is linear in the expression and its inputs: no comprehension, and
// only the functions of linearFuncs.
func linear(a *cel.Ast) bool {
	ok := true
	celast.PreOrderVisit(a.NativeRep().Expr(), celast.NewExprVisitor(func(e celast.Expr) {
		switch e.Kind() {
		case celast.ComprehensionKind:
			ok = false
		case celast.CallKind:
			ok = ok && linearFuncs[e.AsCall().FunctionName()]
		}
	}))
	return ok
}

// linearFuncs are the CEL functions and operators whose cost is linear in
// their arguments and whose results are no larger than their inputs
// combined.
var linearFuncs = map[string]bool{
	"_==_": true, "_!=_": true, "_<_": true, "_<=_": true, "_>_": true, "_>=_": true,
	"_&&_": true, "_||_": true, "!_": true, "_?_:_": true, "@not_strictly_false": true,
	"_+_": true, "_-_": true, "_*_": true, "_/_": true, "_%_": true, "-_": true,
	"@in": true, "_[_]": true, "size": true, "has": true,
	"startsWith": true, "endsWith": true, "contains": true, "matches": true,
	"lowerAscii": true, "upperAscii": true, "trim": true, "charAt": true, "indexOf": true, "lastIndexOf": true, "substring": true,
	"int": true, "uint": true, "double": true, "string": true, "bool": true, "timestamp": true, "duration": true, "dyn": true, "type": true,
	"getFullYear": true, "getMonth": true, "getDayOfYear": true, "getDayOfMonth": true, "getDate": true, "getDayOfWeek": true,
	"getHours": true, "getMinutes": true, "getSeconds": true, "getMilliseconds": true,
	"math.greatest": true, "math.least": true, "math.abs": true, "math.ceil": true, "math.floor": true, "math.round": true, "math.sign": true, "math.trunc": true,
}

// references lists the indices of the variables a checked expression reads.
func references(a *cel.Ast, names map[string]int) []int {
	seen := map[int]bool{}
	for _, r := range a.NativeRep().ReferenceMap() {
		if i, ok := names[r.Name]; ok && r.Value == nil {
			seen[i] = true
		}
	}
	var out []int
	for i := range len(names) + 1 {
		if seen[i] {
			out = append(out, i)
		}
	}
	return out
}

// offsetOf converts CEL's 1-based line and 0-based rune column to a byte
// offset in src.
func offsetOf(src string, line, col int) int {
	off := 0
	for l := 1; l < line && off < len(src); l++ {
		nl := indexByte(src[off:], '\n')
		if nl < 0 {
			return len(src)
		}
		off += nl + 1
	}
	for c := 0; c < col && off < len(src); c++ {
		_, size := utf8.DecodeRuneInString(src[off:])
		off += size
	}
	return off
}

func indexByte(s string, b byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return i
		}
	}
	return -1
}

// celType maps a SQL type to the CEL type of a variable.
func celType(t types.Type) (*cel.Type, bool) {
	switch t.Kind() {
	case types.KindBool:
		return cel.NullableType(cel.BoolType), true
	case types.KindInt16, types.KindInt32, types.KindInt64:
		return cel.NullableType(cel.IntType), true
	case types.KindFloat, types.KindDouble:
		return cel.NullableType(cel.DoubleType), true
	case types.KindString:
		return cel.NullableType(cel.StringType), true
	case types.KindTimestamp, types.KindDate:
		return cel.TimestampType, true
	case types.KindArray:
		if e, ok := celType(t.Elem()); ok {
			return cel.ListType(e), true
		}
	}
	return nil, false
}

// sqlType maps the CEL type of an expression to a SQL type.
func sqlType(t *cel.Type) (types.Type, bool) {
	switch t.Kind() {
	case celtypes.BoolKind:
		return types.Bool, true
	case celtypes.IntKind, celtypes.UintKind:
		return types.Int64, true
	case celtypes.DoubleKind:
		return types.Double, true
	case celtypes.StringKind:
		return types.String, true
	case celtypes.TimestampKind:
		return types.Timestamp, true
	case celtypes.ListKind:
		if ps := t.Parameters(); len(ps) == 1 {
			if e, ok := sqlType(ps[0]); ok && e.IsScalar() {
				return types.ArrayOf(e), true
			}
		}
	}
	return 0, false
}

// Eval evaluates the expression; get(i) returns the value of var i (only
// called for the variables in Refs). It returns ErrCostLimit (wrapped) when
// the cost limit is exceeded; any other CEL runtime error gives NULL.
//
// Eval is safe for concurrent use. It allocates nothing when the expression
// was compiled into closures, unless it concatenates strings.
func (p *Program) Eval(get func(i int) types.Value) (types.Value, error) {
	if p.fast != nil {
		return p.fast(getter(get)).toSQL(p.Out), nil
	}
	return p.evalCEL(get)
}

// Row is a row of a block whose columns hold a program's variables:
// variable i is column Cols[i] of Block, at row At. A caller keeps one Row
// per goroutine and moves At from row to row.
type Row struct {
	Block *types.Block
	Cols  []int
	At    int
}

// EvalRow is Eval with get(i) returning r.Block.Cols[r.Cols[i]].Value(r.At):
// the same results, but an expression compiled into closures reads the
// columns directly, without building a types.Value per variable. EvalRow
// does not retain r.
func (p *Program) EvalRow(r *Row) (types.Value, error) {
	if p.fast != nil {
		return p.fast(r).toSQL(p.Out), nil
	}
	return p.evalCEL(r.value)
}

// EvalColumn evaluates the expression on rows [0, n) of r.Block (r.At
// moves over them), storing row k's result at position k of out, a column
// of type p.Out with room for n values: out.Set(k, v) for the v EvalRow
// gives, without building v on the closures' path. A row whose evaluation
// fails (ErrCostLimit) is NULL; EvalColumn returns the first such error.
func (p *Program) EvalColumn(r *Row, n int, out *types.Column) error {
	var first error
	for r.At = 0; r.At < n; r.At++ {
		if p.fast != nil {
			p.fast(r).store(out, r.At, p.Out)
			continue
		}
		v, err := p.evalCEL(r.value)
		if err != nil {
			first = cmp.Or(first, err)
			v = types.NullOf(p.Out)
		}
		out.Set(r.At, v)
	}
	return first
}

// value returns variable i of the row.
func (r *Row) value(i int) types.Value { return r.Block.Cols[r.Cols[i]].Value(r.At) }

func (r *Row) read(i int) value { return fromColumn(&r.Block.Cols[r.Cols[i]], r.At) }

// evalCEL evaluates the expression with cel-go's interpreter.
func (p *Program) evalCEL(get func(i int) types.Value) (types.Value, error) {
	out, _, err := p.prg.Eval(activation{p: p, get: get})
	if err != nil {
		var cancel interpreter.EvalCancelledError
		if errors.As(err, &cancel) && cancel.Cause == interpreter.CostLimitExceeded {
			return types.Value{}, fmt.Errorf("%w: %s", ErrCostLimit, cancel.Message)
		}
		return types.NullOf(p.Out), nil
	}
	return fromCEL(out, p.Out), nil
}

// activation resolves CEL names to the current row's values.
type activation struct {
	p   *Program
	get func(i int) types.Value
}

func (a activation) ResolveName(name string) (any, bool) {
	i, ok := a.p.names[name]
	if !ok {
		return nil, false
	}
	return toCEL(a.get(i)), true
}

func (a activation) Parent() interpreter.Activation { return nil }

// toCEL converts a SQL value to the value CEL works on (its own types
// where they exist, so CEL does not convert them again).
func toCEL(v types.Value) any {
	if v.Null {
		return celtypes.NullValue
	}
	switch v.Type.Kind() {
	case types.KindBool:
		return celtypes.Bool(v.I != 0)
	case types.KindInt16, types.KindInt32, types.KindInt64:
		return celtypes.Int(v.I)
	case types.KindFloat, types.KindDouble:
		return celtypes.Double(v.F)
	case types.KindString:
		return celtypes.String(v.S)
	case types.KindTimestamp:
		return time.UnixMilli(v.I).UTC()
	case types.KindDate:
		return time.UnixMilli(types.TimestampOfDate(v.I)).UTC()
	case types.KindArray:
		elems, _ := v.X.([]types.Value)
		out := make([]any, len(elems))
		for i, e := range elems {
			out[i] = toCEL(e)
		}
		return out
	}
	return celtypes.NullValue
}

// fromCEL converts a CEL result to a SQL value of type t.
func fromCEL(v ref.Val, t types.Type) types.Value {
	switch x := v.(type) {
	case celtypes.Bool:
		return types.BoolValue(bool(x))
	case celtypes.Int:
		return types.Int64Value(int64(x))
	case celtypes.Uint:
		return types.Int64Value(int64(x))
	case celtypes.Double:
		return types.DoubleValue(float64(x))
	case celtypes.String:
		return types.StringValue(string(x))
	case celtypes.Timestamp:
		return types.TimestampValue(x.UnixMilli())
	case celtypes.Null:
		return types.NullOf(t)
	}
	if l, ok := v.(interface {
		Size() ref.Val
		Get(ref.Val) ref.Val
	}); ok && t.Kind() == types.KindArray {
		n, _ := l.Size().(celtypes.Int)
		elems := make([]types.Value, 0, int(n))
		for i := range int(n) {
			elems = append(elems, fromCEL(l.Get(celtypes.Int(i)), t.Elem()))
		}
		return types.Value{Type: t, X: elems}
	}
	return types.NullOf(t)
}
