package eval

import (
	"fmt"

	"github.com/fenestra-dev/fenestra/featurelang/celexpr"
	"github.com/fenestra-dev/fenestra/featurelang/funcs"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// evalFn computes an expression for the current row of an ectx.
type evalFn func(c *ectx) types.Value

// ectx is the per-goroutine state of expression evaluation: the row being
// evaluated, the aggregate results of the current Project, and a value
// stack for function arguments (so calls do not allocate).
type ectx struct {
	blk *types.Block
	row int
	// right and rrow hold the right side of a join condition: columns at
	// or past the compiled split index read from here.
	right *types.Block
	rrow  int
	aggs  []types.Column
	// aggRow is the row of aggs to read: the output row (it differs from
	// row while a nested aggregate's arguments are evaluated over the
	// frame rows of output row aggRow).
	aggRow int
	stack  []types.Value
	// err is the first hard runtime error (a CEL cost limit).
	err error
	// celGet reads the variables of the CEL expression celSite for the
	// current row, when they are not all columns of blk (a join
	// condition's); celRow reads them when they are (made on first use,
	// so that a context without CEL stays small).
	celSite *int
	celGet  func(int) types.Value
	celRow  *celexpr.Row
}

// celColumns returns c's celexpr.Row, set to read cols of c.blk at c.row.
func (c *ectx) celColumns(cols []int) *celexpr.Row {
	if c.celRow == nil {
		c.celRow = new(celexpr.Row)
	}
	*c.celRow = celexpr.Row{Block: c.blk, Cols: cols, At: c.row}
	return c.celRow
}

// newCtx returns an evaluation context; its value stack grows on first use.
func newCtx() *ectx { return &ectx{} }

// exprCompiler compiles plan expressions to closures.
type exprCompiler struct {
	// split, when positive, is the number of left columns of a join
	// condition: column split+k reads column k of ectx.right.
	split int
	// aggSlot maps each aggregate expression of a Project to its column
	// in ectx.aggs.
	aggSlot map[*plan.Expr]int
	// cels caches the CEL programs compiled for compile and fill.
	cels map[*plan.Expr]celProgram
}

func (ec *exprCompiler) compile(e *plan.Expr) (evalFn, error) {
	switch e.Op {
	case plan.Col:
		return ec.column(e.Col), nil
	case plan.Const:
		v := *e.Value
		return func(*ectx) types.Value { return v }, nil
	case plan.Call, plan.Cast:
		if f, ok, err := ec.kernelCall(e); ok || err != nil {
			return f, err
		}
		if e.Op == plan.Call {
			return ec.call(e)
		}
		return ec.cast(e)
	case plan.Case:
		return ec.caseExpr(e)
	case plan.Agg:
		slot, ok := ec.aggSlot[e]
		if !ok {
			return nil, fmt.Errorf("aggregate %s outside a window projection", e.Fn)
		}
		return func(c *ectx) types.Value { return c.aggs[slot].Value(c.aggRow) }, nil
	case plan.CEL:
		return ec.cel(e)
	case plan.Array:
		return ec.array(e)
	}
	return nil, fmt.Errorf("unknown expression op %q", e.Op)
}

func (ec *exprCompiler) column(i int) evalFn {
	if ec.split > 0 && i >= ec.split {
		j := i - ec.split
		return func(c *ectx) types.Value { return c.right.Cols[j].Value(c.rrow) }
	}
	return func(c *ectx) types.Value { return c.blk.Cols[i].Value(c.row) }
}

func (ec *exprCompiler) args(es []*plan.Expr) ([]evalFn, []types.Type, error) {
	fns := make([]evalFn, len(es))
	ts := make([]types.Type, len(es))
	for i, a := range es {
		f, err := ec.compile(a)
		if err != nil {
			return nil, nil, err
		}
		fns[i], ts[i] = f, a.Type
	}
	return fns, ts, nil
}

func (ec *exprCompiler) call(e *plan.Expr) (evalFn, error) {
	args, ts, err := ec.args(e.Args)
	if err != nil {
		return nil, err
	}
	ov, err := funcs.Resolve(e.Fn, ts)
	if err != nil {
		return nil, err
	}
	impl, result, strict := ov.Impl, ov.Result, !ov.NullSafe
	switch len(args) {
	case 1:
		return unary(args[0], impl, result, strict), nil
	case 2:
		a, b := args[0], args[1]
		return func(c *ectx) types.Value {
			x := a(c)
			if strict && x.Null {
				return types.NullOf(result)
			}
			y := b(c)
			if strict && y.Null {
				return types.NullOf(result)
			}
			base := len(c.stack)
			c.stack = append(c.stack, x, y)
			r := impl(c.stack[base:])
			c.stack = c.stack[:base]
			return r
		}, nil
	}
	return func(c *ectx) types.Value {
		base := len(c.stack)
		for _, a := range args {
			v := a(c)
			if strict && v.Null {
				c.stack = c.stack[:base]
				return types.NullOf(result)
			}
			c.stack = append(c.stack, v)
		}
		r := impl(c.stack[base:])
		c.stack = c.stack[:base]
		return r
	}, nil
}

func (ec *exprCompiler) cast(e *plan.Expr) (evalFn, error) {
	x, err := ec.compile(e.Args[0])
	if err != nil {
		return nil, err
	}
	impl, err := funcs.Cast(e.Args[0].Type, e.Type)
	if err != nil {
		return nil, err
	}
	return unary(x, impl, e.Type, true), nil
}

// unary calls impl on the value of a, through the value stack; when strict,
// a NULL argument gives NULL of result without calling it.
func unary(a evalFn, impl funcs.Impl, result types.Type, strict bool) evalFn {
	return func(c *ectx) types.Value {
		v := a(c)
		if strict && v.Null {
			return types.NullOf(result)
		}
		base := len(c.stack)
		c.stack = append(c.stack, v)
		r := impl(c.stack[base:])
		c.stack = c.stack[:base]
		return r
	}
}

// caseExpr evaluates WHEN conditions in order; Args are cond, result pairs
// and an optional trailing ELSE.
func (ec *exprCompiler) caseExpr(e *plan.Expr) (evalFn, error) {
	fns, _, err := ec.args(e.Args)
	if err != nil {
		return nil, err
	}
	pairs := len(fns) / 2
	var elseFn evalFn
	if len(fns)%2 == 1 {
		elseFn = fns[len(fns)-1]
	}
	t := e.Type
	return func(c *ectx) types.Value {
		for i := 0; i < pairs; i++ {
			if fns[2*i](c).IsTrue() {
				return fns[2*i+1](c)
			}
		}
		if elseFn != nil {
			return elseFn(c)
		}
		return types.NullOf(t)
	}, nil
}

func (ec *exprCompiler) array(e *plan.Expr) (evalFn, error) {
	fns, _, err := ec.args(e.Args)
	if err != nil {
		return nil, err
	}
	t := e.Type
	return func(c *ectx) types.Value {
		elems := make([]types.Value, len(fns))
		for i, f := range fns {
			elems[i] = f(c)
		}
		return types.Value{Type: t, X: elems}
	}, nil
}

// fillFn computes an expression for rows [0, n) of an ectx's block into
// out, a column of the expression's type with room for n values, as
// setting out[row] to its evalFn's value row by row would.
type fillFn func(c *ectx, n int, out *types.Column)

// fill returns the fillFn of e, or nil when e has none and is computed row
// by row: only a CEL expression whose variables are all columns of the
// block (not of a join condition's right side) has one.
func (ec *exprCompiler) fill(e *plan.Expr) (fillFn, error) {
	if e.Op != plan.CEL {
		return nil, nil
	}
	prog, cols, err := ec.celProgram(e)
	if err != nil || cols == nil {
		return nil, err
	}
	return func(c *ectx, n int, out *types.Column) {
		if err := prog.EvalColumn(c.celColumns(cols), n, out); err != nil && c.err == nil {
			c.err = fmt.Errorf("CEL %q: %w", e.CEL.Source, err)
		}
	}, nil
}

// celProgram rebuilds the CEL program of e from its source and variables
// (once per exprCompiler). cols lists the block column of each variable,
// or is nil when some variable reads a join condition's right side.
func (ec *exprCompiler) celProgram(e *plan.Expr) (*celexpr.Program, []int, error) {
	if cp, ok := ec.cels[e]; ok {
		return cp.prog, cp.cols, nil
	}
	vars := make([]celexpr.Var, len(e.CEL.Vars))
	cols := make([]int, len(e.CEL.Vars))
	for i, v := range e.CEL.Vars {
		vars[i] = celexpr.Var{Name: v.Name, Type: v.Type}
		cols[i] = v.Col
		if ec.split > 0 && v.Col >= ec.split {
			cols = nil
			break
		}
	}
	prog, issues := celexpr.Compile(e.CEL.Source, vars, 0)
	if len(issues) > 0 {
		return nil, nil, fmt.Errorf("CEL %q: %s", e.CEL.Source, issues[0].Msg)
	}
	if prog.Out != e.Type {
		return nil, nil, fmt.Errorf("CEL %q has type %s, the plan says %s", e.CEL.Source, prog.Out, e.Type)
	}
	if ec.cels == nil {
		ec.cels = map[*plan.Expr]celProgram{}
	}
	ec.cels[e] = celProgram{prog, cols}
	return prog, cols, nil
}

// celProgram is a compiled CEL expression and the columns of its variables.
type celProgram struct {
	prog *celexpr.Program
	cols []int
}

// cel compiles a CEL expression: its variables are read from the row's
// columns directly when they are all columns of the block, else through
// their column evalFns.
func (ec *exprCompiler) cel(e *plan.Expr) (evalFn, error) {
	prog, cols, err := ec.celProgram(e)
	if err != nil {
		return nil, err
	}
	t := e.Type
	fail := func(c *ectx, err error) types.Value {
		if c.err == nil {
			c.err = fmt.Errorf("CEL %q: %w", e.CEL.Source, err)
		}
		return types.NullOf(t)
	}
	if cols != nil {
		return func(c *ectx) types.Value {
			v, err := prog.EvalRow(c.celColumns(cols))
			if err != nil {
				return fail(c, err)
			}
			return v
		}, nil
	}
	get := make([]evalFn, len(e.CEL.Vars))
	for i, v := range e.CEL.Vars {
		get[i] = ec.column(v.Col)
	}
	site := new(int) // identifies this expression in an ectx's getter cache
	return func(c *ectx) types.Value {
		if c.celSite != site {
			// Callers evaluate an expression row after row: the getter
			// is made once per run of rows, not per row.
			c.celSite, c.celGet = site, func(i int) types.Value { return get[i](c) }
		}
		v, err := prog.Eval(c.celGet)
		if err != nil {
			return fail(c, err)
		}
		return v
	}, nil
}
