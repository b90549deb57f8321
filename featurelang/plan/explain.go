package plan

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Explain renders a plan as an indented tree, one operator per line, with
// expressions written over the column names of their input.
func Explain(p *Plan) string {
	var b strings.Builder
	explainNode(&b, p.Root, 0)
	return b.String()
}

func explainNode(b *strings.Builder, n *Node, depth int) {
	pad := strings.Repeat("  ", depth)
	var in types.Schema
	if n.Input != nil {
		in = n.Input.Schema
	}
	switch n.Op {
	case Scan:
		fmt.Fprintf(b, "%sscan %s (%s)\n", pad, n.Table, n.Schema)
	case ConstRow:
		fmt.Fprintf(b, "%sconst row: %s\n", pad, exprList(n.Exprs, n.Schema, nil, nil))
	case Project:
		fmt.Fprintf(b, "%sproject: %s\n", pad, exprList(n.Exprs, n.Schema, in, n.Windows))
		for _, w := range n.Windows {
			fmt.Fprintf(b, "%s  window %s\n", pad, explainWindow(w, in))
			for _, u := range w.Unions {
				fmt.Fprintf(b, "%s    union:\n", pad)
				explainNode(b, u, depth+3)
			}
		}
		explainTiles(b, pad, n, in)
	case Aggregate:
		by := "whole table"
		if len(n.GroupBy) > 0 {
			keys := make([]string, len(n.GroupBy))
			for i, k := range n.GroupBy {
				keys[i] = ExprString(k, in, nil)
			}
			by = "group by " + strings.Join(keys, ", ")
		}
		if n.Cond != nil {
			by += ", having " + ExprString(n.Cond, in, nil)
		}
		fmt.Fprintf(b, "%saggregate (%s): %s\n", pad, by, exprList(n.Exprs, n.Schema, in, nil))
	case Filter:
		fmt.Fprintf(b, "%sfilter %s\n", pad, ExprString(n.Cond, in, nil))
	case Limit:
		fmt.Fprintf(b, "%slimit %d\n", pad, n.N)
	case LastJoin:
		both := append(append(types.Schema{}, in...), n.Right.Schema...)
		var keys []string
		for i := range n.LeftKeys {
			keys = append(keys, ExprString(n.LeftKeys[i], in, nil)+" = "+ExprString(n.RightKeys[i], n.Right.Schema, nil))
		}
		fmt.Fprintf(b, "%slast join on [%s]", pad, strings.Join(keys, ", "))
		if n.Cond != nil {
			fmt.Fprintf(b, " where %s", ExprString(n.Cond, both, nil))
		}
		if n.OrderBy != nil {
			fmt.Fprintf(b, " order by %s", ExprString(n.OrderBy, n.Right.Schema, nil))
		}
		b.WriteString("\n")
		explainNode(b, n.Input, depth+1)
		explainNode(b, n.Right, depth+1)
		return
	}
	if n.Input != nil {
		explainNode(b, n.Input, depth+1)
	}
}

// explainTiles writes, for each aggregate over a long window, whether it
// is served from tiles or raw rows, and why not when not.
func explainTiles(b *strings.Builder, pad string, n *Node, in types.Schema) {
	long := false
	for _, w := range n.Windows {
		long = long || w.Tiles != nil
	}
	if !long {
		return
	}
	seen := map[string]bool{}
	for _, e := range n.Exprs {
		walkExpr(e, func(x *Expr) {
			if x.Op != Agg || x.Window >= len(n.Windows) {
				return
			}
			w := n.Windows[x.Window]
			line := ExprString(x, in, n.Windows) + ": "
			switch {
			case x.Tile == nil:
				line += "raw rows: " + w.Name + " is not a long window"
			case x.Tile.Tiled && w.Tiles != nil:
				line += fmt.Sprintf("tiles (window %s, %s buckets)", w.Name, w.Tiles.Bucket())
			default:
				line += "raw rows: " + x.Tile.Why
			}
			if !seen[line] {
				seen[line] = true
				fmt.Fprintf(b, "%s  %s\n", pad, line)
			}
		})
	}
}

func walkExpr(e *Expr, f func(*Expr)) {
	f(e)
	for _, a := range e.Args {
		walkExpr(a, f)
	}
}

func exprList(es []*Expr, out, in types.Schema, ws []*Window) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = out[i].Name + " = " + ExprString(e, in, ws)
	}
	return strings.Join(parts, ", ")
}

func explainWindow(w *Window, in types.Schema) string {
	var parts []string
	for _, p := range w.PartitionBy {
		parts = append(parts, ExprString(p, in, nil))
	}
	unit := "rows_range"
	if w.Rows {
		unit = "rows"
	}
	order := "arrival"
	if w.OrderBy != nil {
		order = ExprString(w.OrderBy, in, nil)
	}
	s := fmt.Sprintf("%s: partition by %s order by %s %s between %s and %s",
		w.Name, strings.Join(parts, ", "), order, unit, bound(w.Start, w.Rows), bound(w.End, w.Rows))
	for _, opt := range []struct {
		on   bool
		name string
	}{{w.ExcludeCurrentRow, "exclude current_row"}, {w.ExcludeCurrentTime, "exclude current_time"}, {w.InstanceNotInWindow, "instance_not_in_window"}} {
		if opt.on {
			s += " " + opt.name
		}
	}
	if w.MaxSize > 0 {
		s += fmt.Sprintf(" maxsize %d", w.MaxSize)
	}
	if w.Tiles != nil {
		s += ", long window: " + w.Tiles.Bucket() + " buckets"
	}
	return s
}

func bound(b Bound, rows bool) string {
	switch {
	case b.Unbounded:
		return "unbounded preceding"
	case b.Offset == 0 && !b.Open:
		return "current row"
	case b.Open:
		return OffsetString(b.Offset, rows) + " open preceding"
	}
	return OffsetString(b.Offset, rows) + " preceding"
}

// OffsetString writes a frame offset as a user would: a row count, or a
// duration in the largest unit that divides it (90m, 2h, 30d; 1500 for
// milliseconds).
func OffsetString(off int64, rows bool) string {
	if rows || off == 0 {
		return strconv.FormatInt(off, 10)
	}
	for _, u := range []struct {
		ms   int64
		unit string
	}{{86_400_000, "d"}, {3_600_000, "h"}, {60_000, "m"}, {1000, "s"}} {
		if off%u.ms == 0 {
			return strconv.FormatInt(off/u.ms, 10) + u.unit
		}
	}
	return strconv.FormatInt(off, 10)
}

// ExprString renders an expression over the column names of schema in.
func ExprString(e *Expr, in types.Schema, ws []*Window) string {
	if e == nil {
		return "<nil>"
	}
	args := func() string {
		parts := make([]string, len(e.Args))
		for i, a := range e.Args {
			parts[i] = ExprString(a, in, ws)
		}
		return strings.Join(parts, ", ")
	}
	switch e.Op {
	case Col:
		if e.Col < len(in) {
			return in[e.Col].Name
		}
		return fmt.Sprintf("#%d", e.Col)
	case Const:
		if e.Value.Type == types.String && !e.Value.Null {
			return fmt.Sprintf("%q", e.Value.S)
		}
		return e.Value.String()
	case Call:
		if len(e.Args) == 2 && !isWord(e.Fn) {
			return "(" + ExprString(e.Args[0], in, ws) + " " + e.Fn + " " + ExprString(e.Args[1], in, ws) + ")"
		}
		return e.Fn + "(" + args() + ")"
	case Cast:
		return "cast(" + args() + " as " + e.Type.String() + ")"
	case Case:
		return "case(" + args() + ")"
	case Agg:
		if ws == nil { // an Aggregate's: over the group
			return e.Fn + "(" + args() + ")"
		}
		w := fmt.Sprint(e.Window)
		if e.Window < len(ws) {
			w = ws[e.Window].Name
		}
		return e.Fn + "(" + args() + ") over " + w
	case CEL:
		return fmt.Sprintf("CEL(%q)", e.CEL.Source)
	case Array:
		return "[" + args() + "]"
	}
	return string(e.Op)
}

func isWord(s string) bool {
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
