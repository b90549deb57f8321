package check

import (
	"fmt"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/diag"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// aggUse is one aggregate call of the statement, kept for the long-window
// check: its syntax, its plan expression, and the windows and input it
// was checked against.
type aggUse struct {
	call *ast.Call
	e    *plan.Expr
	ws   *windowSet
	in   *relation
}

// preAggregated are the aggregates OpenMLDB pre-aggregates over a long
// window (docs DEPLOY_STATEMENT.md; storage/aggregator.cc,
// CreateAggregator). For them fenestra accepts exactly the call shapes
// OpenMLDB's DEPLOY accepts.
var preAggregated = map[string]bool{
	"count": true, "sum": true, "avg": true, "min": true, "max": true,
	"count_where": true, "sum_where": true, "avg_where": true, "min_where": true, "max_where": true,
}

// tileable are the aggregates whose state over a bucket of rows merges
// into the state over several buckets: the core ones and their *_where
// forms, distinct_count (a tile holds its distinct values), the frequency
// aggregates and entropy (a tile holds value counts) and top (the counts
// of the k greatest values); each has an agg.Partial, serializable
// (TestPartialsMatchTiles keeps the two in step). The others read raw
// rows: median, drawdown and ew_avg, for instance, depend on every row or
// on the rows' order.
var tileable = map[string]bool{
	"distinct_count": true, "topn_frequency": true, "top1_ratio": true,
	"entropy": true, "top": true,
}

func init() {
	for f := range preAggregated {
		tileable[f] = true
	}
}

// longWindows applies the long_windows option to the checked statement:
// each named window must be defined and aggregated over; OpenMLDB's
// pre-aggregated functions over it must have a shape OpenMLDB accepts;
// then the window gets its Tiles and each aggregate over it a Tile.
func (c *checker) longWindows(lws []LongWindow) {
	for _, lw := range lws {
		key := strings.ToLower(lw.Name)
		found, used := false, false
		for _, ws := range c.sets {
			i, ok := ws.byName[key]
			if !ok || i < 0 {
				continue
			}
			found = true
			w := ws.list[i]
			tiles := lw.Tiles
			w.Tiles = &tiles
			why := windowRawWhy(w, c.inputOf(ws))
			for _, a := range c.aggs {
				if a.ws != ws || a.e.Window != i {
					continue
				}
				used = true
				c.openMLDBShape(w.Name, a)
				a.e.Tile = aggTile(w, a, why)
			}
		}
		switch {
		case !found:
			c.errs.Add(lw.src, lw.at, "long_windows names window %s, which the query does not define", lw.Name)
		case !used:
			c.errs.Add(lw.src, lw.at, "long window %s has no aggregate over it", lw.Name)
		}
	}
}

// inputOf returns the input relation of the SELECT that owns ws.
func (c *checker) inputOf(ws *windowSet) *relation {
	for _, a := range c.aggs {
		if a.ws == ws {
			return a.in
		}
	}
	return nil
}

// openMLDBShape reports the calls OpenMLDB refuses to pre-aggregate:
//   - a first argument other than a column, or * outside count and
//     count_where (long_window_optimized.cc, CheckCallExpr;
//     aggregator.cc: "aggr_col not found in base table");
//   - a *_where condition other than column op constant, op one of
//     = != < <= > >= (ddl_parser.cc, ExtractInfosFromProjectPlan;
//     long_window_optimized.cc, CheckCountWhereArgs);
//   - a *_where filter column of type date or timestamp
//     (sql_cluster_router.cc, HandleLongWindows).
func (c *checker) openMLDBShape(win string, a aggUse) {
	fn := a.e.Fn
	if !preAggregated[fn] {
		return
	}
	n := a.call
	star := n.Star
	if len(n.Args) > 0 {
		_, star = n.Args[0].(*ast.Star)
	}
	switch {
	case star && fn != "count" && fn != "count_where":
		c.errorf(argPos(n, 0), "long window %s: %s(*) cannot be pre-aggregated; only count and count_where take *", win, fn)
	case !star && len(n.Args) > 0 && !isColumnRef(n.Args[0]):
		c.errorf(startPos(n.Args[0]), "long window %s: the first argument of %s must be a column, as OpenMLDB pre-aggregates one column", win, fn)
	}
	if !strings.HasSuffix(fn, "_where") || len(n.Args) < 2 {
		return
	}
	cond := n.Args[1]
	ref, ok := comparison(cond)
	if !ok {
		c.errorf(startPos(cond), "long window %s: the condition of %s must compare one column with a constant (=, !=, <, <=, >, >=), as OpenMLDB pre-aggregates it", win, fn)
		return
	}
	if i, _ := a.in.lookup(ref.DB, ref.Table, ref.Name); i >= 0 {
		if t := a.in.schema()[i].Type; t == types.Date || t == types.Timestamp {
			c.errorf(ref.At, "long window %s: %s cannot filter on %s, a %s column; OpenMLDB pre-aggregates no date or timestamp filter", win, fn, ref.Name, t)
		}
	}
}

func argPos(n *ast.Call, i int) diag.Pos {
	if i < len(n.Args) {
		return n.Args[i].Pos()
	}
	return n.At
}

// startPos returns where e starts in the source (a binary expression's
// position is its operator's).
func startPos(e ast.Expr) diag.Pos {
	if b, ok := e.(*ast.Binary); ok {
		return startPos(b.L)
	}
	return e.Pos()
}

func isColumnRef(e ast.Expr) bool {
	_, ok := e.(*ast.ColumnRef)
	return ok
}

// comparison recognizes column op constant or constant op column and
// returns the column.
func comparison(e ast.Expr) (*ast.ColumnRef, bool) {
	b, ok := e.(*ast.Binary)
	if !ok {
		return nil, false
	}
	switch b.Op {
	case "=", "!=", "<", "<=", ">", ">=":
	default:
		return nil, false
	}
	if ref, ok := b.L.(*ast.ColumnRef); ok && isConstant(b.R) {
		return ref, true
	}
	if ref, ok := b.R.(*ast.ColumnRef); ok && isConstant(b.L) {
		return ref, true
	}
	return nil, false
}

// isConstant reports a literal, possibly negated.
func isConstant(e ast.Expr) bool {
	if u, ok := e.(*ast.Unary); ok && (u.Op == "-" || u.Op == "+") {
		e = u.X
	}
	_, ok := e.(*ast.Literal)
	return ok
}

// aggTile decides whether aggregate a over long window w can be served
// from tiles; windowWhy, when set, is why no aggregate of w can.
func aggTile(w *plan.Window, a aggUse, windowWhy string) *plan.Tile {
	if windowWhy != "" {
		return &plan.Tile{Why: windowWhy}
	}
	if !tileable[a.e.Fn] {
		return &plan.Tile{Why: a.e.Fn + " has no mergeable per-bucket state (tiled: count, sum, avg, min, max, their _where forms, distinct_count, topn_frequency, top1_ratio, entropy, top)"}
	}
	var in *plan.Node
	if a.in != nil {
		in = a.in.node
	}
	for _, arg := range a.e.Args {
		if why := exprUnfixed(arg, in); why != "" {
			return &plan.Tile{Why: "its arguments " + why}
		}
	}
	if why := notTableRows(in); why != "" {
		return &plan.Tile{Why: why}
	}
	return &plan.Tile{Tiled: true}
}

// windowRawWhy says why no aggregate of w can be served from tiles, or "".
// Tiles hold time buckets of stored rows; the reader is to take whole
// buckets from tiles and the partial buckets at both edges from raw rows.
// That covers a ROWS_RANGE frame ending at CURRENT ROW, with any start
// (OPEN or not, or UNBOUNDED), and EXCLUDE CURRENT_TIME: the rows it drops
// share the current time, so they lie in the newest bucket, which is
// always an edge bucket read raw. Everything else reads raw rows.
func windowRawWhy(w *plan.Window, in *relation) string {
	switch {
	case w.Tiles.BucketRows > 0:
		return fmt.Sprintf("buckets of %d rows are not tiled (a late row would shift every later bucket); give a duration such as 1d", w.Tiles.BucketRows)
	case w.Rows:
		return "a ROWS frame counts rows, while tiles hold time ranges"
	case w.OrderBy == nil:
		return "the window takes rows in arrival order, not by time"
	case w.End.Offset != 0 || w.End.Open:
		return "the frame ends before CURRENT ROW"
	case w.ExcludeCurrentRow:
		return "EXCLUDE CURRENT_ROW is not tiled"
	case w.InstanceNotInWindow:
		return "INSTANCE_NOT_IN_WINDOW is not tiled"
	case w.MaxSize > 0:
		return "MAXSIZE keeps the newest rows by count, which tiles cannot cut"
	case len(w.Unions) > 0:
		return "WINDOW UNION merges rows of other tables into the window"
	}
	if in == nil {
		return "the window's input is unknown"
	}
	if why := rowsUnfixed(in.node); why != "" {
		return "the window's rows " + why
	}
	if w.OrderBy.Op != plan.Col {
		return "its ORDER BY is an expression; tiles are bucketed by a column"
	}
	for _, p := range w.PartitionBy {
		if p.Op != plan.Col {
			return "its PARTITION BY has an expression; tiles are keyed by columns"
		}
	}
	for _, p := range append([]*plan.Expr{w.OrderBy}, w.PartitionBy...) {
		if why := exprUnfixed(p, in.node); why != "" {
			return "its partition or order " + why
		}
	}
	return ""
}

// notTableRows says why the rows of n are not a table's own rows through
// WHERE clauses and LAST JOINs (which keep every left row), the rows
// tiles are built from, or "".
func notTableRows(n *plan.Node) string {
	for ; n != nil; n = n.Input {
		switch n.Op {
		case plan.Scan:
			return ""
		case plan.Filter, plan.LastJoin:
		default:
			return "the window's rows come from a subquery, while tiles are built from a table's rows"
		}
	}
	return "the window has no table"
}

// rowsUnfixed says why the set of rows n yields for a stored row may
// change after the row is stored, or "".
func rowsUnfixed(n *plan.Node) string {
	switch n.Op {
	case plan.Scan, plan.ConstRow:
		return ""
	case plan.Limit:
		return "pass a LIMIT, which depends on the whole table"
	case plan.Filter:
		if why := exprUnfixed(n.Cond, n.Input); why != "" {
			return "pass a WHERE whose terms " + why
		}
	}
	return rowsUnfixed(n.Input)
}

// exprUnfixed says why e, evaluated on a stored row of in, may change
// value after the row is stored, or "" when it depends only on the row's
// own columns.
func exprUnfixed(e *plan.Expr, in *plan.Node) string {
	var why string
	walk(e, func(x *plan.Expr) {
		if why != "" {
			return
		}
		switch x.Op {
		case plan.Agg:
			why = "hold a nested aggregate, whose value depends on the current row's frame"
		case plan.Col:
			why = colUnfixed(in, x.Col)
		case plan.CEL:
			for _, v := range x.CEL.Vars {
				if why = colUnfixed(in, v.Col); why != "" {
					return
				}
			}
		}
	})
	return why
}

// colUnfixed says why column col of n's output may change after its row
// is stored, or "".
func colUnfixed(n *plan.Node, col int) string {
	if n == nil {
		return ""
	}
	switch n.Op {
	case plan.Scan, plan.ConstRow:
		return ""
	case plan.Filter, plan.Limit:
		return colUnfixed(n.Input, col)
	case plan.LastJoin:
		if nl := len(n.Input.Schema); col >= nl {
			return fmt.Sprintf("read %s from a LAST JOIN, whose matching row is looked up when the window is read, not when the row is stored", n.Schema[col].Name)
		}
		return colUnfixed(n.Input, col)
	case plan.Project:
		if col < len(n.Exprs) {
			if why := exprUnfixed(n.Exprs[col], n.Input); why != "" {
				if strings.HasPrefix(why, "hold") {
					return fmt.Sprintf("read %s, a window aggregate of a subquery", n.Schema[col].Name)
				}
				return why
			}
		}
	}
	return ""
}
