package parser

import (
	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/diag"
)

// windowDefs parses the WINDOW clause: name AS (spec), ....
func (p *parser) windowDefs() []*ast.WindowDef {
	defs := []*ast.WindowDef{p.namedWindow()}
	for p.gotOp(",") {
		defs = append(defs, p.namedWindow())
	}
	return defs
}

func (p *parser) namedWindow() *ast.WindowDef {
	name := p.ident("window name")
	p.wantKw("AS", "after window name")
	w := p.windowSpec(name.At)
	w.Name = name.Name
	return w
}

// windowSpec parses ([UNION ...] [PARTITION BY ...] [ORDER BY ...] [frame]
// [options]) into a WindowDef positioned at at.
func (p *parser) windowSpec(at diag.Pos) *ast.WindowDef {
	p.wantOp("(", "to start window definition")
	w := &ast.WindowDef{At: at}
	if p.gotKw("UNION") {
		w.Unions = p.windowUnions()
	}
	if p.gotKw("PARTITION") {
		p.wantKw("BY", "after PARTITION")
		w.PartitionBy = p.exprList()
	}
	if p.isKw("ORDER") {
		w.OrderBy = p.orderBy()
	}
	if p.isKw("ROWS") || p.isKw("ROWS_RANGE") {
		p.frame(w)
	} else if p.isKw("RANGE") {
		p.failf(p.pos(), "RANGE frames are not supported; use ROWS or ROWS_RANGE")
	}
	p.windowOptions(w)
	if w.HasFrame {
		p.wantOp(")", "after window frame")
	} else {
		p.wantOp(")", "to end window definition")
	}
	return w
}

// windowUnions parses the tables after UNION: t1, (SELECT ...) AS x, ....
func (p *parser) windowUnions() []ast.TableExpr {
	u := []ast.TableExpr{p.tablePrimary()}
	for p.gotOp(",") {
		u = append(u, p.tablePrimary())
	}
	return u
}

// frame parses ROWS|ROWS_RANGE BETWEEN bound AND bound, or a single start
// bound (ending at CURRENT ROW).
func (p *parser) frame(w *ast.WindowDef) {
	w.HasFrame = true
	if p.advance().kw == "ROWS_RANGE" {
		w.Unit = ast.RowsRange
	}
	if !p.gotKw("BETWEEN") {
		w.Start = p.bound(w.Unit)
		w.End = ast.FrameBound{At: w.Start.At, Kind: ast.CurrentRow}
		return
	}
	w.Start = p.bound(w.Unit)
	p.wantKw("AND", "between frame bounds")
	w.End = p.bound(w.Unit)
}

// bound parses UNBOUNDED PRECEDING|FOLLOWING, CURRENT ROW, or
// n [OPEN] PRECEDING|FOLLOWING.
func (p *parser) bound(unit ast.FrameUnit) ast.FrameBound {
	b := ast.FrameBound{At: p.pos()}
	switch {
	case p.gotKw("UNBOUNDED"):
		b.Kind = p.direction(ast.UnboundedPreceding, ast.UnboundedFollowing)
	case p.gotKw("CURRENT"):
		p.wantKw("ROW", "after CURRENT")
		b.Kind = ast.CurrentRow
	default:
		p.boundOffset(&b, unit)
		b.Open = p.gotKw("OPEN")
		b.Kind = p.direction(ast.Preceding, ast.Following)
	}
	return b
}

func (p *parser) direction(preceding, following ast.BoundKind) ast.BoundKind {
	switch {
	case p.gotKw("PRECEDING"):
		return preceding
	case p.gotKw("FOLLOWING"):
		return following
	}
	p.unexpected("'PRECEDING' or 'FOLLOWING'")
	return 0
}

// boundOffset parses the n of a bound: a row count for ROWS; for
// ROWS_RANGE milliseconds, or a count of the unit written (3s, 10m, 1h, 30d)
// converted to milliseconds.
//
// A negative offset (AND -1 PRECEDING) is kept negative: OpenMLDB accepts
// it and the evaluator decides what it means.
func (p *parser) boundOffset(b *ast.FrameBound, unit ast.FrameUnit) {
	neg := p.isOp("-") && p.peek(1).kind == tNumber
	if neg {
		p.advance()
	}
	t := p.tok()
	if t.kind != tNumber {
		p.unexpected("frame bound (UNBOUNDED, CURRENT ROW or a number)")
	}
	switch numShapeOf(t.text) {
	case numInt:
		b.Offset = p.intValue(t, t.text)
	case numInterval:
		if unit == ast.Rows {
			p.failf(t.pos, "ROWS frame offset %s must be a row count without a time unit (use ROWS_RANGE for time)", t.text)
		}
		n, u := p.interval(t)
		b.Offset, b.Unit = p.millis(t, n, u), u
	default:
		p.failf(t.pos, "frame offset must be an integer, found %s", t.text)
	}
	if neg {
		b.Offset = -b.Offset
	}
	p.advance()
}

// millisPerUnit converts the time units of frames to milliseconds.
var millisPerUnit = map[string]int64{"s": 1000, "m": 60 * 1000, "h": 3600 * 1000, "d": 24 * 3600 * 1000}

func (p *parser) millis(t *token, n int64, unit string) int64 {
	per := millisPerUnit[unit]
	if n > (1<<63-1)/per {
		p.failf(t.pos, "frame offset %s is too large", t.text)
	}
	return n * per
}

// windowOptions parses EXCLUDE CURRENT_ROW, EXCLUDE CURRENT_TIME,
// MAXSIZE n and INSTANCE_NOT_IN_WINDOW in any order, each at most once.
func (p *parser) windowOptions(w *ast.WindowDef) {
	for {
		at := p.pos()
		switch {
		case p.gotKw("EXCLUDE"):
			p.exclude(w, at)
		case p.gotKw("MAXSIZE"):
			p.dupIf(w.MaxSize != 0, at, "MAXSIZE")
			w.MaxSize = p.maxSize()
		case p.gotKw("INSTANCE_NOT_IN_WINDOW"):
			p.dupIf(w.InstanceNotInWindow, at, "INSTANCE_NOT_IN_WINDOW")
			w.InstanceNotInWindow = true
		default:
			return
		}
	}
}

func (p *parser) exclude(w *ast.WindowDef, at diag.Pos) {
	switch {
	case p.gotKw("CURRENT_ROW"):
		p.dupIf(w.ExcludeCurrentRow, at, "EXCLUDE CURRENT_ROW")
		w.ExcludeCurrentRow = true
	case p.gotKw("CURRENT_TIME"):
		p.dupIf(w.ExcludeCurrentTime, at, "EXCLUDE CURRENT_TIME")
		w.ExcludeCurrentTime = true
	default:
		p.unexpected("'CURRENT_ROW' or 'CURRENT_TIME' after EXCLUDE")
	}
}

// maxSize parses the positive integer after MAXSIZE.
func (p *parser) maxSize() int64 {
	t := p.tok()
	if t.kind != tNumber || numShapeOf(t.text) != numInt {
		p.unexpected("row count after MAXSIZE")
	}
	n := p.intValue(t, t.text)
	if n <= 0 {
		p.failf(t.pos, "MAXSIZE must be positive, found %s", t.text)
	}
	p.advance()
	return n
}
