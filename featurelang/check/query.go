package check

import (
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/funcs"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// query checks a SELECT and returns its relation (nil after errors).
func (c *checker) query(q *ast.Select) *relation {
	if q.Distinct {
		c.errorf(q.At, "SELECT DISTINCT is not supported: GROUP BY the selected columns for their distinct values (batch mode only), or compute a row per input row")
	}
	if len(q.OrderBy) > 0 {
		c.errorf(q.OrderBy[0].At, "ORDER BY on a query is not supported: a feature view keeps the order of its input rows")
	}
	var in *relation
	if q.From != nil {
		if in = c.tableExpr(q.From); in == nil {
			return nil
		}
		if q.Where != nil {
			in = c.where(q.Where, in)
		}
	} else if q.Where != nil {
		c.errorf(q.Where.Pos(), "WHERE needs a FROM clause")
	}
	if in == nil && q.From != nil {
		return nil
	}
	sc := &scope{rel: in}
	if in != nil {
		sc.windows = c.windows(q.Windows, in)
		c.sets = append(c.sets, sc.windows)
	} else if len(q.Windows) > 0 {
		c.errorf(q.Windows[0].At, "WINDOW needs a FROM clause")
	}
	group, ok := c.grouping(q, in)
	if !ok {
		return nil
	}
	sc.group = group
	out := c.items(q.Items, sc)
	if out != nil && group != nil {
		out = c.aggregated(q, sc, out)
	}
	if out == nil {
		return nil
	}
	if q.Limit != nil {
		out = c.limit(q.Limit, out)
	}
	return out
}

// where adds a Filter for cond over in.
func (c *checker) where(cond ast.Expr, in *relation) *relation {
	e := c.expr(cond, &scope{rel: in, noAggWhy: "in WHERE"})
	if e == nil {
		return nil
	}
	if !c.wantBool(cond, e, "WHERE condition") {
		return nil
	}
	return &relation{node: &plan.Node{Op: plan.Filter, Schema: in.schema(), Input: in.node, Cond: e}, cols: in.cols}
}

func (c *checker) wantBool(at ast.Expr, e *plan.Expr, what string) bool {
	if e.Type != types.Bool && e.Type != types.Null {
		c.errorf(at.Pos(), "%s must be bool, not %s", what, e.Type)
		return false
	}
	return true
}

func (c *checker) limit(l ast.Expr, in *relation) *relation {
	lit, ok := l.(*ast.Literal)
	if !ok || (lit.Kind != ast.IntLit && lit.Kind != ast.BigIntLit) || lit.I < 0 {
		c.errorf(l.Pos(), "LIMIT takes a non-negative integer constant")
		return in
	}
	return &relation{node: &plan.Node{Op: plan.Limit, Schema: in.schema(), Input: in.node, N: lit.I}, cols: in.cols}
}

// tableExpr checks a FROM item.
func (c *checker) tableExpr(t ast.TableExpr) *relation {
	switch t := t.(type) {
	case *ast.TableRef:
		return c.tableRef(t)
	case *ast.SubqueryTable:
		r := c.query(t.Query)
		if r == nil || t.Alias == "" {
			return r // without an alias, columns keep their tables' names
		}
		return requalify(r, t.Alias)
	case *ast.Join:
		return c.join(t)
	}
	c.errorf(t.Pos(), "unsupported FROM item")
	return nil
}

func (c *checker) tableRef(t *ast.TableRef) *relation {
	tbl, full := c.cat.resolve(t.Name, c.opts.DB)
	if tbl == nil {
		c.errorf(t.At, "unknown table %q%s", full, c.suggestTable(full))
		return nil
	}
	c.use(tbl)
	db, qual := plan.SplitName(tbl.Name)
	if t.Alias != "" {
		qual = t.Alias
	}
	r := &relation{node: &plan.Node{Op: plan.Scan, Table: tbl.Name, Schema: tbl.Schema}}
	for _, f := range tbl.Schema {
		r.cols = append(r.cols, colName{db: db, qual: qual, name: f.Name})
	}
	return r
}

func (c *checker) suggestTable(name string) string {
	var names []string
	for n := range c.cat {
		if closeName(n, name) {
			names = append(names, n)
		}
	}
	if len(names) == 1 {
		return "; did you mean " + names[0] + "?"
	}
	return ""
}

// join checks Left LAST JOIN Right [ORDER BY ...] ON cond.
func (c *checker) join(j *ast.Join) *relation {
	if j.Kind != ast.LastJoin {
		c.errorf(j.At, "%s is not supported: use LAST JOIN, which takes the latest matching row", j.Kind)
		return nil
	}
	left, right := c.tableExpr(j.Left), c.tableExpr(j.Right)
	if left == nil || right == nil {
		return nil
	}
	both := &relation{cols: append(append([]colName{}, left.cols...), right.cols...)}
	schema := append(append(types.Schema{}, left.schema()...), right.schema()...)
	both.node = &plan.Node{Op: plan.LastJoin, Schema: schema, Input: left.node, Right: right.node}
	if j.On == nil {
		c.errorf(j.At, "LAST JOIN needs an ON condition")
		return nil
	}
	cond := c.expr(j.On, &scope{rel: both, noAggWhy: "in a join condition"})
	if cond == nil || !c.wantBool(j.On, cond, "join condition") {
		return nil
	}
	c.splitJoinCond(both.node, cond, len(left.cols))
	if len(j.OrderBy) > 1 {
		c.errorf(j.OrderBy[1].At, "LAST JOIN orders by one expression")
	}
	if len(j.OrderBy) > 0 {
		o := j.OrderBy[0]
		e := c.expr(o.Expr, &scope{rel: right, noAggWhy: "in a join ORDER BY"})
		if e == nil {
			return nil
		}
		if !e.Type.IsInteger() && e.Type != types.Timestamp {
			c.errorf(o.At, "a LAST JOIN orders by a timestamp or integer, not %s", e.Type)
			return nil
		}
		both.node.OrderBy, both.node.OrderDesc = e, o.Desc
	} else {
		both.node.OrderBy = indexOrder(c.cat, right.node, both.node.RightKeys)
	}
	return both
}

// splitJoinCond moves the equality conjuncts between a left and a right
// column expression of the same key class into LeftKeys/RightKeys (matched
// NULL-safely, as OpenMLDB does) and leaves the rest in Cond.
func (c *checker) splitJoinCond(n *plan.Node, cond *plan.Expr, nLeft int) {
	var rest []*plan.Expr
	for _, conj := range conjuncts(cond) {
		l, r, ok := keyPair(conj, nLeft)
		if !ok {
			rest = append(rest, conj)
			continue
		}
		n.LeftKeys = append(n.LeftKeys, l)
		n.RightKeys = append(n.RightKeys, shiftCols(r, -nLeft))
	}
	n.Cond = andAll(rest)
}

func conjuncts(e *plan.Expr) []*plan.Expr {
	if e.Op == plan.Call && e.Fn == "and" && len(e.Args) == 2 {
		return append(conjuncts(e.Args[0]), conjuncts(e.Args[1])...)
	}
	return []*plan.Expr{e}
}

func andAll(es []*plan.Expr) *plan.Expr {
	if len(es) == 0 {
		return nil
	}
	out := es[0]
	for _, e := range es[1:] {
		out = &plan.Expr{Op: plan.Call, Fn: "and", Type: types.Bool, Args: []*plan.Expr{out, e}}
	}
	return out
}

// keyPair recognizes a = b with a over left columns only and b over right
// columns only (either way round), both of one key class.
func keyPair(e *plan.Expr, nLeft int) (l, r *plan.Expr, ok bool) {
	if e.Op != plan.Call || e.Fn != "=" || len(e.Args) != 2 {
		return nil, nil, false
	}
	a, b := e.Args[0], e.Args[1]
	sa, sb := side(a, nLeft), side(b, nLeft)
	switch {
	case sa == sideLeft && sb == sideRight:
	case sa == sideRight && sb == sideLeft:
		a, b = b, a
	default:
		return nil, nil, false
	}
	if plan.KeyClass(a.Type) == 0 || plan.KeyClass(a.Type) != plan.KeyClass(b.Type) {
		return nil, nil, false
	}
	return a, b, true
}

const (
	sideNone = iota
	sideLeft
	sideRight
	sideBoth
)

// side says which side of a join an expression reads.
func side(e *plan.Expr, nLeft int) int {
	s := sideNone
	walk(e, func(x *plan.Expr) {
		switch {
		case x.Op == plan.Col && x.Col < nLeft:
			s |= sideLeft
		case x.Op == plan.Col:
			s |= sideRight
		case x.Op == plan.CEL:
			for _, v := range x.CEL.Vars {
				if v.Col < nLeft {
					s |= sideLeft
				} else {
					s |= sideRight
				}
			}
		}
	})
	return s
}

func walk(e *plan.Expr, f func(*plan.Expr)) {
	f(e)
	for _, a := range e.Args {
		walk(a, f)
	}
}

// shiftCols returns a copy of e with column references moved by d.
func shiftCols(e *plan.Expr, d int) *plan.Expr {
	cp := *e
	if cp.Op == plan.Col {
		cp.Col += d
	}
	if cp.CEL != nil {
		cel := *cp.CEL
		cel.Vars = append([]plan.CELVar(nil), cel.Vars...)
		for i := range cel.Vars {
			cel.Vars[i].Col += d
		}
		cp.CEL = &cel
	}
	cp.Args = make([]*plan.Expr, len(e.Args))
	for i, a := range e.Args {
		cp.Args[i] = shiftCols(a, d)
	}
	return &cp
}

// indexOrder picks the order of a LAST JOIN without ORDER BY: the TS column
// of an index of the right table whose keys are exactly the join's right
// key columns; nil (latest arrival wins) when there is none.
func indexOrder(cat Catalog, right *plan.Node, keys []*plan.Expr) *plan.Expr {
	if right.Op != plan.Scan || len(keys) == 0 {
		return nil
	}
	tbl := cat.lookup(right.Table)
	var names []string
	for _, k := range keys {
		if k.Op != plan.Col {
			return nil
		}
		names = append(names, right.Schema[k.Col].Name)
	}
	for _, ix := range tbl.Indexes {
		if ix.TS != "" && sameSet(ix.Keys, names) {
			i := tbl.Schema.Index(ix.TS)
			return &plan.Expr{Op: plan.Col, Col: i, Type: tbl.Schema[i].Type}
		}
	}
	return nil
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		found := false
		for _, y := range b {
			if strings.EqualFold(x, y) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// items checks the projection list into a Project (or ConstRow) node.
func (c *checker) items(items []*ast.SelectItem, sc *scope) *relation {
	out := &relation{node: &plan.Node{Op: plan.Project}}
	if sc.rel == nil {
		out.node.Op = plan.ConstRow
	} else {
		out.node.Input = sc.rel.node
	}
	ok := true
	for _, it := range items {
		if it.Star {
			ok = c.star(it, sc, out) && ok
			continue
		}
		e := c.expr(it.Expr, sc)
		if e == nil {
			ok = false
			continue
		}
		name := it.Alias
		if name == "" {
			name = exprName(it.Expr)
		}
		if e.Type == types.Null {
			e = c.convert(e, types.Bool) // an untyped NULL column is a bool, as in OpenMLDB
		}
		cn := colName{name: name}
		if e.Op == plan.Col && it.Alias == "" {
			cn.qual = sc.rel.cols[e.Col].qual
		}
		out.node.Exprs = append(out.node.Exprs, e)
		out.node.Schema = append(out.node.Schema, types.Field{Name: name, Type: e.Type})
		out.cols = append(out.cols, cn)
	}
	if !ok {
		return nil
	}
	if sc.rel != nil {
		out.node.Windows = sc.usedWindows()
		remapWindows(out.node.Exprs, sc)
	}
	return out
}

func (c *checker) star(it *ast.SelectItem, sc *scope, out *relation) bool {
	if sc.rel == nil {
		c.errorf(it.At, "* needs a FROM clause")
		return false
	}
	if sc.group != nil {
		c.errorf(it.At, "* cannot be selected with %s: list the grouped columns and aggregates", sc.group.what())
		return false
	}
	found := false
	for i, cn := range sc.rel.cols {
		if it.StarTable != "" && !strings.EqualFold(cn.qual, it.StarTable) {
			continue
		}
		found = true
		f := sc.rel.schema()[i]
		out.node.Exprs = append(out.node.Exprs, &plan.Expr{Op: plan.Col, Col: i, Type: f.Type})
		out.node.Schema = append(out.node.Schema, f)
		out.cols = append(out.cols, colName{qual: cn.qual, name: f.Name})
	}
	if !found {
		c.errorf(it.At, "no table %q in FROM for %s.*", it.StarTable, it.StarTable)
	}
	return found
}

// typeOfCall resolves a scalar call, used by the expression checker.
func resolveScalar(name string, args []*plan.Expr) (*funcs.Overload, error) {
	ts := make([]types.Type, len(args))
	for i, a := range args {
		ts[i] = a.Type
	}
	return funcs.Resolve(name, ts)
}
