package parser

import (
	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/diag"
)

// selectStmt parses SELECT [DISTINCT|ALL] items [FROM ...] [WHERE ...]
// [GROUP BY ...] [HAVING ...] [WINDOW ...] [ORDER BY ...] [LIMIT ...], the
// clauses in this order.
func (p *parser) selectStmt() *ast.Select {
	p.enter()
	sel := &ast.Select{At: p.wantKw("SELECT", "").pos}
	sel.Distinct = p.gotKw("DISTINCT")
	if !sel.Distinct {
		p.gotKw("ALL")
	}
	sel.Items = p.selectItems()
	p.selectClauses(sel)
	p.leave()
	return sel
}

func (p *parser) selectClauses(sel *ast.Select) {
	if p.gotKw("FROM") {
		sel.From = p.fromClause()
	}
	if p.gotKw("WHERE") {
		sel.Where = p.expr()
	}
	if p.gotKw("GROUP") {
		p.wantKw("BY", "after GROUP")
		sel.GroupBy = p.exprList()
	}
	if p.gotKw("HAVING") {
		sel.Having = p.expr()
	}
	if p.gotKw("WINDOW") {
		sel.Windows = p.windowDefs()
	}
	if p.isKw("ORDER") {
		sel.OrderBy = p.orderBy()
	}
	if p.gotKw("LIMIT") {
		sel.Limit = p.expr()
	}
}

// selectItems parses the projection list. A trailing comma before FROM or
// the end of the query is allowed, as OpenMLDB allows it.
func (p *parser) selectItems() []*ast.SelectItem {
	items := []*ast.SelectItem{p.selectItem()}
	for p.gotOp(",") {
		if p.endsItems() {
			break
		}
		items = append(items, p.selectItem())
	}
	if p.startsOperand() && !p.atConfig() {
		p.unexpected("',' or FROM after select item")
	}
	return items
}

// startsOperand reports whether the current token can only begin another
// operand (a name or a literal), a sign of a missing comma.
func (p *parser) startsOperand() bool {
	k := p.tok().kind
	return p.isIdent() && !p.atLineStmt() || k == tNumber || k == tString
}

// endsItems reports whether the current token ends the select list after
// a trailing comma: FROM, or the end of the query.
func (p *parser) endsItems() bool {
	return p.isKw("FROM") || p.isOp(";") || p.isOp(")") || p.tok().kind == tEOF || p.atConfig()
}

// selectItem parses *, t.* or expr [[AS] alias].
func (p *parser) selectItem() *ast.SelectItem {
	at := p.pos()
	if p.gotOp("*") {
		return &ast.SelectItem{At: at, Star: true}
	}
	if p.isIdent() && p.peekOp(1, ".") && p.peekOp(2, "*") {
		table := p.advance().val
		p.advance()
		p.advance()
		return &ast.SelectItem{At: at, Star: true, StarTable: table}
	}
	item := &ast.SelectItem{At: at, Expr: p.expr()}
	item.Alias = p.optAlias()
	return item
}

// fromClause parses the table expression after FROM.
func (p *parser) fromClause() ast.TableExpr {
	t := p.joinExpr()
	if p.isOp(",") {
		p.failf(p.pos(), "comma-separated FROM lists are not supported; use LAST JOIN ... ON")
	}
	return t
}

// joinExpr parses a table followed by any number of joins, left-deep.
func (p *parser) joinExpr() ast.TableExpr {
	left := p.tablePrimary()
	for {
		kind, ok := joinKinds[p.tok().kw]
		if !ok {
			return left
		}
		left = p.join(kind, left)
	}
}

// join parses the rest of one join after its left side: the join keywords,
// the right table, LAST JOIN's ORDER BY and the ON condition (none for
// CROSS JOIN).
func (p *parser) join(kind ast.JoinKind, left ast.TableExpr) *ast.Join {
	at := p.joinKeywords()
	j := &ast.Join{At: at, Kind: kind, Left: left, Right: p.tablePrimary()}
	if p.isKw("ORDER") {
		j.OrderBy = p.orderBy()
	}
	if kind == ast.CrossJoin && !p.isKw("ON") {
		return j
	}
	p.wantKw("ON", "after joined table")
	j.On = p.expr()
	return j
}

// joinKeywords consumes LAST JOIN, LEFT [OUTER] JOIN, ..., or JOIN and
// returns the position of the first keyword.
func (p *parser) joinKeywords() diag.Pos {
	first := p.advance()
	if first.kw == "JOIN" {
		return first.pos
	}
	if first.kw == "LEFT" || first.kw == "RIGHT" || first.kw == "FULL" {
		p.gotKw("OUTER")
	}
	p.wantKw("JOIN", "after "+first.kw)
	return first.pos
}

// tablePrimary parses a table name, a parenthesized subquery, or a
// parenthesized join, each with an optional alias (none for a join).
func (p *parser) tablePrimary() ast.TableExpr {
	if !p.isOp("(") {
		ref := &ast.TableRef{At: p.pos(), Name: p.name("table name")}
		ref.Alias = p.optAlias()
		return ref
	}
	if p.peek(1).kw == "SELECT" {
		return p.subqueryTable()
	}
	p.enter()
	p.advance()
	t := p.joinExpr()
	p.wantOp(")", "after joined tables")
	p.leave()
	return t
}

// subqueryTable parses (SELECT ...) [[AS] alias].
func (p *parser) subqueryTable() *ast.SubqueryTable {
	at := p.advance().pos
	q := p.selectStmt()
	p.unsupportedTail()
	if p.isKw("INTO") {
		p.failf(p.pos(), "INTO OUTFILE is only allowed at the end of the outermost SELECT")
	}
	p.wantOp(")", "after subquery")
	return &ast.SubqueryTable{At: at, Query: q, Alias: p.optAlias()}
}

// orderBy parses ORDER BY item, ... where item is expr [ASC|DESC].
func (p *parser) orderBy() []*ast.OrderItem {
	p.advance()
	p.wantKw("BY", "after ORDER")
	items := []*ast.OrderItem{p.orderItem()}
	for p.gotOp(",") {
		items = append(items, p.orderItem())
	}
	return items
}

func (p *parser) orderItem() *ast.OrderItem {
	item := &ast.OrderItem{At: p.pos(), Expr: p.expr()}
	if !p.gotKw("ASC") {
		item.Desc = p.gotKw("DESC")
	}
	return item
}

// exprList parses expr, expr, ....
func (p *parser) exprList() []ast.Expr {
	list := []ast.Expr{p.expr()}
	for p.gotOp(",") {
		list = append(list, p.expr())
	}
	return list
}
