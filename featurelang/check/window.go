package check

import (
	"strconv"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// windowSet is the windows of one SELECT: the named ones from its WINDOW
// clause and any inline OVER (...) windows, in one list that the Project
// node carries. byName maps a lower-case name to its index, or -1 when its
// definition had errors.
type windowSet struct {
	list   []*plan.Window
	byName map[string]int
}

// windows checks a WINDOW clause over the relation in.
func (c *checker) windows(defs []*ast.WindowDef, in *relation) *windowSet {
	ws := &windowSet{byName: map[string]int{}}
	for _, d := range defs {
		key := strings.ToLower(d.Name)
		if _, dup := ws.byName[key]; dup {
			c.errorf(d.At, "window %q is defined twice", d.Name)
			continue
		}
		w := c.window(d, in)
		if w == nil {
			ws.byName[key] = -1
			continue
		}
		ws.byName[key] = len(ws.list)
		ws.list = append(ws.list, w)
	}
	return ws
}

// window checks one window definition over in.
func (c *checker) window(d *ast.WindowDef, in *relation) *plan.Window {
	w := &plan.Window{Name: d.Name}
	ok := c.unions(d, in, w)
	sc := &scope{rel: in, noAggWhy: "in a window definition"}
	if len(d.PartitionBy) == 0 {
		c.errorf(d.At, "window %s needs PARTITION BY", windowLabel(d))
		ok = false
	}
	for _, p := range d.PartitionBy {
		e := c.expr(p, sc)
		switch {
		case e == nil:
			ok = false
		case plan.KeyClass(e.Type) == 0 || e.Type.IsFloat():
			c.errorf(p.Pos(), "cannot partition by %s; use an integer, string, date, timestamp or bool key", e.Type)
			ok = false
		default:
			w.PartitionBy = append(w.PartitionBy, e)
		}
	}
	ok = c.windowOrder(d, sc, w) && ok
	ok = c.frame(d, w) && ok
	if !ok {
		return nil
	}
	return w
}

func windowLabel(d *ast.WindowDef) string {
	if d.Name == "" {
		return "OVER (...)"
	}
	return strconv.Quote(d.Name)
}

// unions checks UNION sources: each must have the window table's column
// types, position by position.
func (c *checker) unions(d *ast.WindowDef, in *relation, w *plan.Window) bool {
	ok := true
	for _, u := range d.Unions {
		r := c.tableExpr(u)
		if r == nil {
			ok = false
			continue
		}
		if !sameColumns(r.schema(), in.schema()) {
			c.errorf(u.Pos(), "UNION source has columns %s but the window's table has %s; they must match",
				typesOf(r.schema()), typesOf(in.schema()))
			ok = false
			continue
		}
		w.Unions = append(w.Unions, r.node)
	}
	return ok
}

// sameColumns reports whether two schemas have the same column names and
// types in the same order.
func sameColumns(a, b types.Schema) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type || !strings.EqualFold(a[i].Name, b[i].Name) {
			return false
		}
	}
	return true
}

// windowOrder checks ORDER BY: one int64 or timestamp expression. Without
// ORDER BY, a window takes rows in arrival order, in the forms OpenMLDB
// allows (BatchModeTransformer::CheckWindow in hybridse/src/vm/
// transform.cc, and its WINDOW clause reference): a ROWS frame, or a
// ROWS_RANGE frame from UNBOUNDED PRECEDING to CURRENT ROW, without
// EXCLUDE CURRENT_TIME. fenestra also needs it with UNION.
func (c *checker) windowOrder(d *ast.WindowDef, sc *scope, w *plan.Window) bool {
	if len(d.OrderBy) == 0 {
		return c.noOrder(d)
	}
	switch {
	case len(d.OrderBy) > 1:
		c.errorf(d.OrderBy[1].At, "a window orders by one expression")
		return false
	case d.OrderBy[0].Desc:
		c.errorf(d.OrderBy[0].At, "a window orders ascending by time; DESC is not supported")
		return false
	}
	e := c.expr(d.OrderBy[0].Expr, sc)
	if e == nil {
		return false
	}
	if e.Type != types.Int64 && e.Type != types.Timestamp {
		c.errorf(d.OrderBy[0].At, "a window orders by a timestamp or bigint, not %s", e.Type)
		return false
	}
	w.OrderBy = e
	return true
}

// noOrder checks a window without ORDER BY.
func (c *checker) noOrder(d *ast.WindowDef) bool {
	const fix = "ORDER BY a timestamp or bigint column"
	var why string
	switch {
	case !d.HasFrame:
		why = "" // frame reports it
	case len(d.Unions) > 0:
		why = "with UNION: the union tables' rows and the table's own have no common arrival order; add " + fix
	case d.ExcludeCurrentTime:
		why = "with EXCLUDE CURRENT_TIME, which compares the ORDER BY values (as in OpenMLDB); add " + fix
	case d.Unit != ast.Rows && (d.Start.Kind != ast.UnboundedPreceding || d.End.Kind != ast.CurrentRow):
		why = "for a ROWS_RANGE frame with an offset, which is measured on the ORDER BY column (as in OpenMLDB); add " +
			fix + ", or use a ROWS frame, or ROWS_RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
	default:
		return true
	}
	if why != "" {
		c.errorf(d.At, "window %s needs ORDER BY %s", windowLabel(d), why)
	}
	return false
}

// frame checks the frame bounds and options.
func (c *checker) frame(d *ast.WindowDef, w *plan.Window) bool {
	w.ExcludeCurrentRow = d.ExcludeCurrentRow
	w.ExcludeCurrentTime = d.ExcludeCurrentTime
	w.InstanceNotInWindow = d.InstanceNotInWindow
	w.MaxSize = d.MaxSize
	if !d.HasFrame {
		c.errorf(d.At, "window %s needs a frame: ROWS or ROWS_RANGE BETWEEN ... AND ...", windowLabel(d))
		return false
	}
	w.Rows = d.Unit == ast.Rows
	start, ok1 := c.bound(d.Start, true)
	end, ok2 := c.bound(d.End, false)
	if !ok1 || !ok2 {
		return false
	}
	if !start.Unbounded && start.Offset < end.Offset {
		c.errorf(d.Start.At, "the frame starts after it ends: %s PRECEDING is later than %s PRECEDING",
			plan.OffsetString(start.Offset, w.Rows), plan.OffsetString(end.Offset, w.Rows))
		return false
	}
	if d.MaxSize < 0 {
		c.errorf(d.At, "MAXSIZE must be positive")
		return false
	}
	if d.MaxSize > 0 && w.Rows {
		c.errorf(d.At, "MAXSIZE applies to ROWS_RANGE windows; a ROWS window is already bounded")
		return false
	}
	w.Start, w.End = start, end
	return true
}

func (c *checker) bound(b ast.FrameBound, isStart bool) (plan.Bound, bool) {
	switch b.Kind {
	case ast.UnboundedPreceding:
		if !isStart {
			c.errorf(b.At, "a frame cannot end at UNBOUNDED PRECEDING")
			return plan.Bound{}, false
		}
		return plan.Bound{Unbounded: true}, true
	case ast.Preceding:
		// A negative offset reaches into the future, which a point-in-time
		// window never sees: it means CURRENT ROW.
		if b.Offset < 0 {
			return plan.Bound{}, true
		}
		return plan.Bound{Offset: b.Offset, Open: b.Open}, true
	case ast.CurrentRow:
		return plan.Bound{}, true
	}
	c.errorf(b.At, "FOLLOWING frames are not supported: a feature only looks back in time")
	return plan.Bound{}, false
}

// exprName names an unaliased projection as OpenMLDB does: a column by its
// name, a literal by its text, a call as name(args) with "over w" appended.
func exprName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.ColumnRef:
		return e.Name
	case *ast.Literal:
		return e.Raw
	case *ast.Call:
		args := make([]string, len(e.Args))
		for i, a := range e.Args {
			args[i] = exprName(a)
		}
		if e.Star {
			args = []string{"*"}
		}
		s := e.Name + "(" + strings.Join(args, ", ") + ")"
		if e.Over != nil {
			s += "over " + e.Over.Name
		}
		return s
	case *ast.Binary:
		return exprName(e.L) + " " + e.Op + " " + exprName(e.R)
	case *ast.Unary:
		return e.Op + exprName(e.X)
	case *ast.Cast:
		return "cast(" + exprName(e.X) + " as " + e.To.String() + ")"
	case *ast.CEL:
		return "cel"
	}
	return "expr"
}
