package agg

import (
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// The *_where aggregates: count_where, sum_where, avg_where, min_where,
// max_where (value, condition) are their core aggregate over the rows whose
// condition is true (a NULL condition is false). Each Acc is the core Acc
// behind a filterAcc, so it slides in O(1) like the core one.
//
// All of them test the condition alone. (OpenMLDB's sum_where and
// avg_where select a row with `value AND cond`, which casts the value to
// bool and so drops rows whose value is 0: avg_where([0, 2], true) is 2
// there. fenestra deliberately does not copy this — a zero amount is a
// value — and no conformance case depends on it.)

func init() {
	register(resolveWhere, "count_where", "sum_where", "avg_where", "min_where", "max_where")
}

// whereSpec describes one *_where aggregate.
type whereSpec struct {
	core    string // the core aggregate applied to selected rows
	accepts func(types.Type) bool
	want    string // the accepted value types, for messages
	nonZero bool   // a row is selected only if its value is non-zero
}

var whereSpecs = map[string]whereSpec{
	"count_where": {core: "count", accepts: isCountable, want: "a scalar"},
	"sum_where":   {core: "sum", accepts: types.Type.IsNumeric, want: "a number"},
	"avg_where":   {core: "avg", accepts: types.Type.IsNumeric, want: "a number"},
	"min_where":   {core: "min", accepts: types.Type.IsNumeric, want: "a number"},
	"max_where":   {core: "max", accepts: types.Type.IsNumeric, want: "a number"},
}

// isCountable reports whether count_where accepts values of type t.
func isCountable(t types.Type) bool { return t.IsScalar() }

// checkCond checks that argument i (0-based) of name, a condition, is bool.
// The NULL literal is accepted and is never true.
func checkCond(name string, args []types.Type, i int) error {
	if t := args[i]; t != types.Bool && t != types.Null {
		return argError(name, "the condition (argument %d) must be bool, got %s", i+1, t)
	}
	return nil
}

// resolveWhere resolves name(value, cond). count_where also takes the form
// count_where(*, cond), which arrives here as the single argument cond (as
// count(*) arrives as no argument) and counts the rows whose cond is true.
func resolveWhere(name string, args []types.Type, consts []*types.Value) (*Func, error) {
	spec := whereSpecs[name]
	if name == "count_where" && len(args) == 1 {
		if err := checkCond(name, args, 0); err != nil {
			return nil, err
		}
		return newFunc(name, args, types.Int64, consts, func(c []*types.Column) Acc {
			cond := c[0]
			return &filterAcc{inner: &countAcc{}, keep: func(row int) bool { return isTrue(cond, row) }}
		}), nil
	}
	if len(args) != 2 {
		return nil, argError(name, "takes (value, condition), got %d argument%s", len(args), plural(len(args)))
	}
	if !spec.accepts(args[0]) {
		return nil, argError(name, "cannot aggregate %s; expected %s", args[0], spec.want)
	}
	if err := checkCond(name, args, 1); err != nil {
		return nil, err
	}
	core, err := resolve(spec.core, args[:1], nil)
	if err != nil {
		return nil, argError(name, "%v", err)
	}
	nonZero := spec.nonZero
	return newFunc(name, args, core.Result, consts, func(c []*types.Column) Acc {
		val, cond := c[0], c[1]
		keep := func(row int) bool { return isTrue(cond, row) }
		if nonZero {
			keep = func(row int) bool { return isTrue(cond, row) && isNonZero(val, row) }
		}
		return &filterAcc{inner: core.Bind(c[:1]), keep: keep}
	}), nil
}

// isNonZero reports whether row of a numeric column is non-NULL and, cast
// to bool as OpenMLDB does, true: not 0 (NaN is true).
func isNonZero(c *types.Column, row int) bool {
	if c.IsNull(row) {
		return false
	}
	if c.Type.IsFloat() {
		return c.F[row] != 0
	}
	return c.I[row] != 0
}

// wherePartial is the Partial of a *_where aggregate: the core Partial fed
// with the selected rows.
type wherePartial struct {
	inner   Partial
	nonZero bool
}

// newWherePartial returns the Partial of a *_where Func, or nil.
func newWherePartial(f *Func) Partial {
	spec, ok := whereSpecs[f.Name]
	if !ok || len(f.Args) == 0 {
		return nil
	}
	core := &Func{Name: spec.core, Args: f.Args[:len(f.Args)-1], Result: f.Result}
	inner := core.NewPartial()
	if inner == nil {
		return nil
	}
	return &wherePartial{inner: inner, nonZero: spec.nonZero}
}

// Add takes the arguments (value, cond), or (cond) for count_where(*).
func (p *wherePartial) Add(args []types.Value) {
	last := len(args) - 1
	if !args[last].IsTrue() {
		return
	}
	if p.nonZero && !valueNonZero(args[0]) {
		return
	}
	p.inner.Add(args[:last])
}

func (p *wherePartial) Merge(o Partial) { p.inner.Merge(o.(*wherePartial).inner) }

func (p *wherePartial) Result() types.Value { return p.inner.Result() }

// AppendBinary appends the encoding of the core Partial: the condition
// was applied as rows were added.
func (p *wherePartial) AppendBinary(b []byte) ([]byte, error) { return p.inner.AppendBinary(b) }

func (p *wherePartial) decode(r *decoder) { p.inner.decode(r) }

// valueNonZero is isNonZero for a Value.
func valueNonZero(v types.Value) bool {
	if v.Null {
		return false
	}
	if v.Type.IsFloat() {
		return v.F != 0
	}
	return v.I != 0
}
