package check

import (
	"errors"
	"slices"

	"github.com/fenestra-dev/fenestra/featurelang/agg"
	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/diag"
	"github.com/fenestra-dev/fenestra/featurelang/funcs"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Aggregating queries: GROUP BY, and aggregates without OVER, which make
// the whole table one group. Both run in batch mode only, as OpenMLDB runs
// them offline only: their output is a row per group, not a row per input
// row. The checker follows OpenMLDB's ONLY_FULL_GROUP_BY rules
// (hybridse/src/vm/transform.cc, ValidateOnlyFullGroupBy): outside
// aggregates, the select list and HAVING may read only the GROUP BY
// columns (none for a whole-table aggregate); GROUP BY lists plain
// columns of a key type; a window cannot be mixed in.

// groupScope is what an aggregating query's select list and HAVING see.
type groupScope struct {
	keys []int // the input columns grouped by
	// by is set for GROUP BY, else the query is a whole-table aggregate.
	by bool
	// at is where the grouping shows: the first GROUP BY column, or the
	// first aggregate without OVER.
	at diag.Pos
}

// what names the kind of aggregation in messages.
func (g *groupScope) what() string {
	if g.by {
		return "GROUP BY"
	}
	return "a whole-table aggregate (an aggregate without OVER)"
}

// grouping returns the group scope of q when q aggregates rows into
// groups (it has GROUP BY or HAVING, or an item calls an aggregate
// without OVER), else nil. ok is false after errors.
func (c *checker) grouping(q *ast.Select, in *relation) (g *groupScope, ok bool) {
	var first *ast.Call
	for _, it := range q.Items {
		if it.Expr != nil {
			if first = aggWithoutOver(it.Expr); first != nil {
				break
			}
		}
	}
	if len(q.GroupBy) == 0 && q.Having == nil && first == nil {
		return nil, true
	}
	g = &groupScope{by: len(q.GroupBy) > 0}
	switch {
	case g.by:
		g.at = q.GroupBy[0].Pos()
	case first != nil:
		g.at = first.At
	default:
		g.at = q.Having.Pos()
	}
	if in == nil {
		c.errorf(g.at, "%s needs a FROM clause", g.what())
		return nil, false
	}
	ok = true
	for _, k := range q.GroupBy {
		i, good := c.groupKey(k, in)
		if good && !slices.Contains(g.keys, i) {
			g.keys = append(g.keys, i)
		}
		ok = ok && good
	}
	if c.opts.Deploy {
		over := "OVER a window"
		if g.by {
			over = "OVER a window that partitions by the grouped columns"
		}
		c.errorf(g.at, "%s runs offline only, as in OpenMLDB, and cannot be deployed: a deployment computes one row per request, not one per group; run the query offline (SELECT ... INTO OUTFILE), or deploy aggregates %s", g.what(), over)
		ok = false
	}
	return g, ok
}

// groupKey checks one GROUP BY item: a column of in, of a key type.
func (c *checker) groupKey(k ast.Expr, in *relation) (int, bool) {
	ref, isCol := k.(*ast.ColumnRef)
	if !isCol {
		c.errorf(k.Pos(), "GROUP BY takes column names; to group by an expression, compute it as a column of a subquery and group by that column")
		return 0, false
	}
	e := c.column(ref, &scope{rel: in})
	if e == nil {
		return 0, false
	}
	if plan.KeyClass(e.Type) == 0 || e.Type.IsFloat() {
		c.errorf(k.Pos(), "cannot group by %s; use an integer, string, date, timestamp or bool column", e.Type)
		return 0, false
	}
	return e.Col, true
}

// aggregated turns the checked select list of an aggregating query into
// an Aggregate node, with HAVING checked in the same scope.
func (c *checker) aggregated(q *ast.Select, sc *scope, out *relation) *relation {
	n := out.node
	n.Op, n.Windows = plan.Aggregate, nil
	for _, k := range sc.group.keys {
		n.GroupBy = append(n.GroupBy, &plan.Expr{Op: plan.Col, Col: k, Type: sc.rel.schema()[k].Type})
	}
	if q.Having != nil {
		cond := c.expr(q.Having, sc)
		if cond == nil || !c.wantBool(q.Having, cond, "HAVING condition") {
			return nil
		}
		n.Cond = cond
	}
	return out
}

// groupColumn reports a column read outside aggregates in an aggregating
// query that is not one of its GROUP BY columns.
func (c *checker) groupColumn(at diag.Pos, name string, col int, sc *scope) bool {
	g := sc.group
	if g == nil || sc.inAgg || slices.Contains(g.keys, col) {
		return true
	}
	if g.by {
		c.errorf(at, "column %q is neither grouped nor aggregated: add it to GROUP BY, or aggregate it (e.g. max(%s))", name, name)
	} else {
		c.errorf(at, "column %q is not aggregated: a query with an aggregate without OVER has one row for the whole table; aggregate the column too, or compute every aggregate OVER a window for a row per input row", name)
	}
	return false
}

// groupAggregate checks name(args) without OVER in an aggregating query:
// an aggregate over the rows of each group.
func (c *checker) groupAggregate(n *ast.Call, name string, sc *scope) *plan.Expr {
	switch {
	case sc.noAggWhy != "":
		c.errorf(n.At, "aggregate %s is not allowed %s", name, sc.noAggWhy)
		return nil
	case sc.inAgg:
		c.errorf(n.At, "aggregate %s cannot be nested in another aggregate of %s; aggregate in a subquery, then again in the outer query", name, sc.group.what())
		return nil
	}
	inner := *sc
	inner.inAgg = true
	f, args := c.aggArgs(n, name, &inner)
	if f == nil {
		return nil
	}
	if !n.Star && !slices.ContainsFunc(args, func(a *plan.Expr) bool { return a.Op != plan.Const }) {
		// OpenMLDB does not take a call that reads no column for an
		// aggregate (count(1) is refused).
		c.errorf(n.At, "%s without OVER reads no column, so it aggregates nothing%s", name, map[bool]string{true: "; write count(*) to count rows", false: ""}[name == "count"])
		return nil
	}
	return &plan.Expr{Op: plan.Agg, Fn: f.Name, Type: f.Result, Args: args}
}

// aggArgs checks the arguments of aggregate call n in scope inner and
// resolves the aggregate; nil after errors.
func (c *checker) aggArgs(n *ast.Call, name string, inner *scope) (*agg.Func, []*plan.Expr) {
	args := make([]*plan.Expr, len(n.Args))
	ok := true
	for i, a := range n.Args {
		if _, star := a.(*ast.Star); star && i == 0 {
			// name(*, ...) aggregates every row: a value that is never NULL
			args[i] = constExpr(types.Int64Value(1))
			continue
		}
		if args[i] = c.expr(a, inner); args[i] == nil {
			ok = false
		}
	}
	if !ok {
		return nil, nil
	}
	argTypes := make([]types.Type, len(args))
	consts := make([]*types.Value, len(args))
	for i, a := range args {
		argTypes[i] = a.Type
		if a.Op == plan.Const {
			consts[i] = a.Value
		}
	}
	f, err := agg.Resolve(name, argTypes, consts)
	if err != nil {
		c.errorf(n.At, "%s", err)
		return nil, nil
	}
	return f, args
}

// aggWithoutOver returns the first call in e of an aggregate without
// OVER, outside the arguments of calls with OVER (whose OVER-less
// aggregates use that call's window); nil when there is none.
func aggWithoutOver(e ast.Expr) *ast.Call {
	if call, ok := e.(*ast.Call); ok {
		if call.Over != nil || call.OverDef != nil {
			return nil
		}
		if groupAggregate(call.Name) {
			return call
		}
	}
	for _, x := range children(e) {
		if x == nil {
			continue
		}
		if found := aggWithoutOver(x); found != nil {
			return found
		}
	}
	return nil
}

// groupAggregate reports whether a call of name without OVER in an
// aggregating query is an aggregate: an aggregate that is not also a
// scalar function (at(array, i) is one).
func groupAggregate(name string) bool {
	if !agg.IsAggregate(name) {
		return false
	}
	_, err := funcs.Resolve(name, nil)
	return errors.Is(err, funcs.ErrUnknown)
}

// children returns the operands of an expression (some may be nil).
func children(e ast.Expr) []ast.Expr {
	switch e := e.(type) {
	case *ast.Unary:
		return []ast.Expr{e.X}
	case *ast.Binary:
		return []ast.Expr{e.L, e.R}
	case *ast.IsNull:
		return []ast.Expr{e.X}
	case *ast.Like:
		return []ast.Expr{e.X, e.Pattern, e.Escape}
	case *ast.In:
		return append([]ast.Expr{e.X}, e.List...)
	case *ast.Between:
		return []ast.Expr{e.X, e.Lo, e.Hi}
	case *ast.Case:
		out := []ast.Expr{e.Operand, e.Else}
		for _, w := range e.Whens {
			out = append(out, w.Cond, w.Result)
		}
		return out
	case *ast.Cast:
		return []ast.Expr{e.X}
	case *ast.Call:
		return e.Args
	case *ast.Subscript:
		return []ast.Expr{e.X, e.Index}
	case *ast.ArrayLit:
		return e.Elems
	}
	return nil
}
