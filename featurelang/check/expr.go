package check

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/fenestra-dev/fenestra/featurelang/agg"
	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/celexpr"
	"github.com/fenestra-dev/fenestra/featurelang/diag"
	"github.com/fenestra-dev/fenestra/featurelang/funcs"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// scope is what an expression can see: the columns of rel, the query's
// windows, and whether aggregates are allowed here.
type scope struct {
	rel     *relation
	windows *windowSet
	// noAggWhy, when set, forbids aggregates and says where we are ("in
	// WHERE").
	noAggWhy string
	// inAgg is set inside an aggregate's arguments, whose window aggWin
	// the aggregates nested there share.
	inAgg  bool
	aggWin int
	// defaultWin is the window of f(...) OVER w for the OVER-less
	// aggregates inside f's arguments; -1 when none.
	defaultWin int
	hasDefault bool
	// group is set in the select list and HAVING of a query that
	// aggregates rows into groups: aggregates without OVER aggregate a
	// group, and columns outside them must be grouped.
	group *groupScope
}

func (s *scope) usedWindows() []*plan.Window {
	if s.windows == nil {
		return nil
	}
	return s.windows.list
}

// remapWindows is a no-op kept for clarity: aggregate window indices already
// point into the node's window list, which holds every defined window.
func remapWindows([]*plan.Expr, *scope) {}

// expr checks one expression; nil after an error (already reported).
func (c *checker) expr(e ast.Expr, sc *scope) *plan.Expr {
	switch e := e.(type) {
	case *ast.Literal:
		return literal(e)
	case *ast.ColumnRef:
		return c.column(e, sc)
	case *ast.Unary:
		return c.unary(e, sc)
	case *ast.Binary:
		return c.call(e.At, strings.ToLower(e.Op), opName(e.Op), sc, e.L, e.R)
	case *ast.IsNull:
		name := "is_null"
		if e.Not {
			name = "is_not_null"
		}
		return c.call(e.At, name, "IS NULL", sc, e.X)
	case *ast.Like:
		return c.like(e, sc)
	case *ast.In:
		return c.in(e, sc)
	case *ast.Between:
		return c.between(e, sc)
	case *ast.Case:
		return c.caseExpr(e, sc)
	case *ast.Cast:
		return c.cast(e, sc)
	case *ast.Call:
		return c.callExpr(e, sc)
	case *ast.Subscript:
		return c.call(e.At, "[]", "subscript", sc, e.X, e.Index)
	case *ast.ArrayLit:
		return c.array(e, sc)
	case *ast.CEL:
		return c.cel(e, sc)
	case *ast.Param:
		c.errorf(e.At, "query parameters (?) are not supported in feature views")
		return nil
	}
	c.errorf(e.Pos(), "unsupported expression")
	return nil
}

// opName is how an operator is named in messages.
func opName(op string) string { return op }

func literal(l *ast.Literal) *plan.Expr {
	var v types.Value
	switch l.Kind {
	case ast.NullLit:
		v = types.NullOf(types.Null)
	case ast.BoolLit:
		v = types.BoolValue(l.I != 0)
	case ast.IntLit:
		v = types.IntValue(types.Int32, l.I)
	case ast.BigIntLit:
		v = types.Int64Value(l.I)
	case ast.FloatLit:
		v = types.FloatValue(l.F)
	case ast.DoubleLit:
		v = types.DoubleValue(l.F)
	case ast.StringLit:
		v = types.StringValue(l.S)
	}
	return constExpr(v)
}

func constExpr(v types.Value) *plan.Expr {
	return &plan.Expr{Op: plan.Const, Type: v.Type, Value: &v}
}

func (c *checker) column(r *ast.ColumnRef, sc *scope) *plan.Expr {
	if sc.rel == nil {
		c.errorf(r.At, "unknown column %q: the query has no FROM clause", r.Name)
		return nil
	}
	i, ambiguous := sc.rel.lookup(r.DB, r.Table, r.Name)
	if i < 0 {
		c.errorf(r.At, "unknown column %s%s", quoteRef(r), c.suggestColumn(r, sc.rel))
		return nil
	}
	if ambiguous {
		c.errorf(r.At, "column %q is ambiguous; qualify it with its table", r.Name)
		return nil
	}
	if !c.groupColumn(r.At, r.Name, i, sc) {
		return nil
	}
	return &plan.Expr{Op: plan.Col, Col: i, Type: sc.rel.schema()[i].Type}
}

func quoteRef(r *ast.ColumnRef) string {
	if r.Table != "" {
		return fmt.Sprintf("%q", r.Table+"."+r.Name)
	}
	return fmt.Sprintf("%q", r.Name)
}

func (c *checker) suggestColumn(r *ast.ColumnRef, rel *relation) string {
	var names []string
	for _, cn := range rel.cols {
		if closeName(cn.name, r.Name) && (r.Table == "" || strings.EqualFold(cn.qual, r.Table)) {
			names = append(names, cn.name)
		}
	}
	if len(names) > 0 {
		return "; did you mean " + names[0] + "?"
	}
	if r.Table != "" {
		for _, cn := range rel.cols {
			if strings.EqualFold(cn.qual, r.Table) {
				return ""
			}
		}
		return fmt.Sprintf(" (no table %q in FROM)", r.Table)
	}
	return ""
}

// closeName reports whether a and b are near misses of each other,
// ignoring case: one edit apart for short names, two for names of four
// characters or more. It feeds "did you mean" hints.
func closeName(a, b string) bool {
	a, b = strings.ToLower(a), strings.ToLower(b)
	if a == b {
		return false
	}
	if len(a) < len(b) {
		a, b = b, a
	}
	limit := 2
	if len(b) < 4 {
		limit = 1
	}
	if len(a)-len(b) > limit || len(b) < 2 {
		return false
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)] <= limit
}

func (c *checker) unary(u *ast.Unary, sc *scope) *plan.Expr {
	switch u.Op {
	case "+":
		return c.expr(u.X, sc)
	case "-":
		return c.call(u.At, "neg", "unary -", sc, u.X)
	case "NOT":
		return c.call(u.At, "not", "NOT", sc, u.X)
	case "~":
		return c.call(u.At, "~", "~", sc, u.X)
	}
	c.errorf(u.At, "unknown operator %s", u.Op)
	return nil
}

// call checks a scalar function or operator applied to argument
// expressions.
func (c *checker) call(at diag.Pos, name, display string, sc *scope, args ...ast.Expr) *plan.Expr {
	bound, ok := c.exprs(args, sc)
	if !ok {
		return nil
	}
	return c.resolve(at, name, bound)
}

func (c *checker) exprs(args []ast.Expr, sc *scope) ([]*plan.Expr, bool) {
	out := make([]*plan.Expr, len(args))
	ok := true
	for i, a := range args {
		if out[i] = c.expr(a, sc); out[i] == nil {
			ok = false
		}
	}
	return out, ok
}

// resolve types a scalar call over checked arguments, folding it to a
// constant when every argument is one (functions are pure, but for the
// Volatile ones).
func (c *checker) resolve(at diag.Pos, name string, args []*plan.Expr) *plan.Expr {
	ov, err := resolveScalar(name, args)
	if err == nil {
		err = checkConstArgs(ov.Name, args)
	}
	if err != nil {
		c.errorf(at, "%s", err)
		return nil
	}
	return fold(&plan.Expr{Op: plan.Call, Fn: ov.Name, Type: ov.Result, Args: args}, ov)
}

// checkConstArgs rejects constant arguments a function cannot take: an
// ESCAPE of more than one character in the LIKE and ILIKE operators (the
// like_match functions accept it and match nothing, as in OpenMLDB).
func checkConstArgs(name string, args []*plan.Expr) error {
	switch name {
	case "like", "ilike":
		if len(args) == 3 && args[2].Op == plan.Const && !args[2].Value.Null && utf8.RuneCountInString(args[2].Value.S) > 1 {
			return fmt.Errorf("%s: the escape must be one character (or '' for none), got %q", name, args[2].Value.S)
		}
	}
	return nil
}

// fold evaluates a call of constant arguments at compile time, unless the
// function is volatile.
func fold(e *plan.Expr, ov *funcs.Overload) *plan.Expr {
	if ov.Volatile {
		return e
	}
	vals := make([]types.Value, len(e.Args))
	for i, a := range e.Args {
		if a.Op != plan.Const {
			return e
		}
		if vals[i] = *a.Value; vals[i].Null && !ov.NullSafe {
			return constExpr(types.NullOf(ov.Result))
		}
	}
	v := ov.Impl(vals)
	v.Type = ov.Result
	return constExpr(v)
}

func (c *checker) like(l *ast.Like, sc *scope) *plan.Expr {
	args := []ast.Expr{l.X, l.Pattern}
	if l.Escape != nil {
		args = append(args, l.Escape)
	}
	e := c.call(l.At, strings.ToLower(l.Op), l.Op, sc, args...)
	if e == nil || !l.Not {
		return e
	}
	return c.resolve(l.At, "not", []*plan.Expr{e})
}

// in checks x [NOT] IN (a, b, ...) as (x = a OR x = b ...), which has the
// SQL NULL semantics.
func (c *checker) in(n *ast.In, sc *scope) *plan.Expr {
	x := c.expr(n.X, sc)
	list, ok := c.exprs(n.List, sc)
	if x == nil || !ok {
		return nil
	}
	var out *plan.Expr
	for i, v := range list {
		eq := c.resolve(n.List[i].Pos(), "=", []*plan.Expr{x, v})
		if eq == nil {
			return nil
		}
		if out == nil {
			out = eq
		} else if out = c.resolve(n.At, "or", []*plan.Expr{out, eq}); out == nil {
			return nil
		}
	}
	if out == nil {
		c.errorf(n.At, "IN needs at least one value")
		return nil
	}
	if n.Not {
		return c.resolve(n.At, "not", []*plan.Expr{out})
	}
	return out
}

// between checks x [NOT] BETWEEN lo AND hi as x >= lo AND x <= hi.
func (c *checker) between(b *ast.Between, sc *scope) *plan.Expr {
	x, lo, hi := c.expr(b.X, sc), c.expr(b.Lo, sc), c.expr(b.Hi, sc)
	if x == nil || lo == nil || hi == nil {
		return nil
	}
	ge := c.resolve(b.At, ">=", []*plan.Expr{x, lo})
	le := c.resolve(b.At, "<=", []*plan.Expr{x, hi})
	if ge == nil || le == nil {
		return nil
	}
	out := c.resolve(b.At, "and", []*plan.Expr{ge, le})
	if out != nil && b.Not {
		return c.resolve(b.At, "not", []*plan.Expr{out})
	}
	return out
}

// caseExpr checks CASE; all results are converted to their common type.
func (c *checker) caseExpr(n *ast.Case, sc *scope) *plan.Expr {
	var operand *plan.Expr
	if n.Operand != nil {
		if operand = c.expr(n.Operand, sc); operand == nil {
			return nil
		}
	}
	var conds, results []*plan.Expr
	ok := true
	for _, w := range n.Whens {
		cond := c.expr(w.Cond, sc)
		if cond != nil && operand != nil {
			cond = c.resolve(w.Cond.Pos(), "=", []*plan.Expr{operand, cond})
		}
		if cond != nil && !c.wantBool(w.Cond, cond, "WHEN condition") {
			cond = nil
		}
		res := c.expr(w.Result, sc)
		ok = ok && cond != nil && res != nil
		conds, results = append(conds, cond), append(results, res)
	}
	var elseExpr *plan.Expr
	if n.Else != nil {
		elseExpr = c.expr(n.Else, sc)
		ok = ok && elseExpr != nil
	}
	if !ok {
		return nil
	}
	all := results
	if elseExpr != nil {
		all = append(append([]*plan.Expr{}, results...), elseExpr)
	}
	t, ok := c.commonType(n.At, all)
	if !ok {
		return nil
	}
	out := &plan.Expr{Op: plan.Case, Type: t}
	for i := range conds {
		out.Args = append(out.Args, conds[i], c.convert(results[i], t))
	}
	if elseExpr != nil {
		out.Args = append(out.Args, c.convert(elseExpr, t))
	}
	return out
}

// commonType is the type all of es convert to.
func (c *checker) commonType(at diag.Pos, es []*plan.Expr) (types.Type, bool) {
	t := types.Null
	for _, e := range es {
		u, ok := funcs.CommonType(t, e.Type)
		if !ok {
			c.errorf(at, "CASE results have incompatible types %s and %s", t, e.Type)
			return 0, false
		}
		t = u
	}
	return t, true
}

// convert casts e to t when its type differs.
func (c *checker) convert(e *plan.Expr, t types.Type) *plan.Expr {
	if e.Type == t {
		return e
	}
	if e.Op == plan.Const && e.Value.Null {
		return constExpr(types.NullOf(t))
	}
	return &plan.Expr{Op: plan.Cast, Type: t, Args: []*plan.Expr{e}}
}

func (c *checker) cast(n *ast.Cast, sc *scope) *plan.Expr {
	x := c.expr(n.X, sc)
	if x == nil {
		return nil
	}
	if _, err := funcs.Cast(x.Type, n.To); err != nil {
		c.errorf(n.At, "%s", err)
		return nil
	}
	return &plan.Expr{Op: plan.Cast, Type: n.To, Args: []*plan.Expr{x}}
}

// array checks [a, b, ...] and ARRAY<T>[...]: elements convert to the
// declared or common element type.
func (c *checker) array(n *ast.ArrayLit, sc *scope) *plan.Expr {
	elems, ok := c.exprs(n.Elems, sc)
	if !ok {
		return nil
	}
	t := n.Elem
	if t == types.Null {
		for _, e := range elems {
			u, ok := funcs.CommonType(t, e.Type)
			if !ok {
				c.errorf(n.At, "array elements have incompatible types %s and %s", t, e.Type)
				return nil
			}
			t = u
		}
	}
	if !t.IsScalar() {
		c.errorf(n.At, "arrays hold scalar values, not %s", t)
		return nil
	}
	out := &plan.Expr{Op: plan.Array, Type: types.ArrayOf(t)}
	for _, e := range elems {
		if e.Type != t && e.Type != types.Null {
			if _, err := funcs.Cast(e.Type, t); err != nil {
				c.errorf(n.At, "array element of type %s does not convert to %s", e.Type, t)
				return nil
			}
		}
		out.Args = append(out.Args, c.convert(e, t))
	}
	return out
}

// callExpr checks a function call: an aggregate over a window, a scalar
// function, or a scalar function applied OVER a window (whose OVER-less
// aggregates inside then use that window).
func (c *checker) callExpr(n *ast.Call, sc *scope) *plan.Expr {
	name := n.Name
	if n.Distinct {
		if name != "count" {
			c.errorf(n.At, "DISTINCT is only supported in count(DISTINCT x)")
			return nil
		}
		name = "distinct_count"
	}
	win, hasWin := -1, n.Over != nil || n.OverDef != nil
	if sc.group != nil && !hasWin && groupAggregate(name) {
		return c.groupAggregate(n, name, sc)
	}
	if hasWin {
		if win = c.windowOf(n, sc); win < 0 {
			return nil
		}
	} else if sc.inAgg && agg.IsAggregate(name) {
		win, hasWin = sc.aggWin, true
	} else if sc.hasDefault && agg.IsAggregate(name) {
		win, hasWin = sc.defaultWin, true
	}
	if hasWin && agg.IsAggregate(name) {
		return c.aggregate(n, name, win, sc)
	}
	if n.Star {
		c.errorf(n.At, "%s(*) is not a function; did you mean count(*)?", name)
		return nil
	}
	inner := *sc
	if hasWin {
		inner.defaultWin, inner.hasDefault = win, true
	}
	args, ok := c.exprs(n.Args, &inner)
	if !ok {
		return nil
	}
	ov, err := resolveScalar(name, args)
	if err == nil {
		err = checkConstArgs(ov.Name, args)
	}
	if errors.Is(err, funcs.ErrUnknown) && agg.IsAggregate(name) {
		if sc.noAggWhy != "" {
			c.errorf(n.At, "aggregate %s is not allowed %s", name, sc.noAggWhy)
		} else {
			c.errorf(n.At, "aggregate %s needs OVER <window>", name)
		}
		return nil
	}
	if err != nil {
		c.errorf(n.At, "%s", err)
		return nil
	}
	return fold(&plan.Expr{Op: plan.Call, Fn: ov.Name, Type: ov.Result, Args: args}, ov)
}

// aggregate checks name(args) OVER window win. An aggregate nested in the
// arguments of another shares its window: it is computed once over the
// current row's frame, and the outer aggregate sees that value on every
// row of the frame.
func (c *checker) aggregate(n *ast.Call, name string, win int, sc *scope) *plan.Expr {
	switch {
	case sc.noAggWhy != "":
		c.errorf(n.At, "aggregate %s is not allowed %s", name, sc.noAggWhy)
		return nil
	case sc.inAgg && win != sc.aggWin:
		c.errorf(n.At, "aggregate %s nested in another aggregate must use that aggregate's window", name)
		return nil
	}
	inner := *sc
	inner.inAgg, inner.aggWin, inner.hasDefault = true, win, false
	f, args := c.aggArgs(n, name, &inner)
	if f == nil {
		return nil
	}
	e := &plan.Expr{Op: plan.Agg, Fn: f.Name, Type: f.Result, Args: args, Window: win}
	c.aggs = append(c.aggs, aggUse{call: n, e: e, ws: sc.windows, in: sc.rel})
	return e
}

// windowOf returns the index of the window a call names (or defines inline).
func (c *checker) windowOf(n *ast.Call, sc *scope) int {
	if sc.noAggWhy != "" {
		c.errorf(n.At, "a window function is not allowed %s", sc.noAggWhy)
		return -1
	}
	if sc.windows == nil || sc.rel == nil {
		c.errorf(n.At, "OVER needs a FROM clause")
		return -1
	}
	if sc.group != nil {
		c.errorf(n.At, "%s OVER a window cannot be combined with %s: compute the window in a subquery, then aggregate its rows in the outer query", n.Name, sc.group.what())
		return -1
	}
	if n.OverDef != nil {
		w := c.window(n.OverDef, sc.rel)
		if w == nil {
			return -1
		}
		sc.windows.list = append(sc.windows.list, w)
		return len(sc.windows.list) - 1
	}
	i, ok := sc.windows.byName[strings.ToLower(n.Over.Name)]
	if !ok {
		c.errorf(n.Over.At, "unknown window %q", n.Over.Name)
		return -1
	}
	if i < 0 {
		return -1 // its definition had errors, already reported
	}
	return i
}

// cel checks CEL('<source>') with the columns in scope as variables. CEL's
// error positions are mapped back into the SQL file.
func (c *checker) cel(n *ast.CEL, sc *scope) *plan.Expr {
	vars, cols := celVars(sc.rel)
	prog, issues := celexpr.Compile(n.Lit.S, vars, c.opts.CELCostLimit)
	if len(issues) > 0 {
		for _, is := range issues {
			c.errorf(n.Lit.SourcePos(is.Offset), "CEL: %s", is.Msg)
		}
		return nil
	}
	ce := &plan.CELExpr{Source: n.Lit.S}
	for _, i := range prog.Refs {
		if !c.groupColumn(n.At, vars[i].Name, cols[i], sc) {
			return nil
		}
		ce.Vars = append(ce.Vars, plan.CELVar{Name: vars[i].Name, Col: cols[i], Type: vars[i].Type})
	}
	return &plan.Expr{Op: plan.CEL, Type: prog.Out, CEL: ce}
}

// celVars lists the CEL variables of a relation's columns: each column by
// its name when that is unique, and as qual.name when qualified.
func celVars(rel *relation) ([]celexpr.Var, []int) {
	if rel == nil {
		return nil, nil
	}
	var vars []celexpr.Var
	var cols []int
	count := map[string]int{}
	for _, cn := range rel.cols {
		count[strings.ToLower(cn.name)]++
	}
	seen := map[string]bool{}
	add := func(name string, i int) {
		if !celIdent(name) || seen[name] {
			return
		}
		seen[name] = true
		vars = append(vars, celexpr.Var{Name: name, Type: rel.schema()[i].Type})
		cols = append(cols, i)
	}
	for i, cn := range rel.cols {
		if count[strings.ToLower(cn.name)] == 1 {
			add(cn.name, i)
		}
		if cn.qual != "" && celIdent(cn.qual) {
			add(cn.qual+"."+cn.name, i)
		}
	}
	return vars, cols
}

// celIdent reports whether each dot-separated part of name is a CEL
// identifier that is not a reserved word.
func celIdent(name string) bool {
	for _, part := range strings.Split(name, ".") {
		if part == "" || celReserved[part] {
			return false
		}
		for i, r := range part {
			if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
				return false
			}
		}
	}
	return true
}

var celReserved = map[string]bool{
	"true": true, "false": true, "null": true, "in": true, "as": true, "break": true,
	"const": true, "continue": true, "else": true, "for": true, "function": true, "if": true,
	"import": true, "let": true, "loop": true, "package": true, "namespace": true,
	"return": true, "var": true, "void": true, "while": true,
}
