package parser

import (
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/diag"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// primary parses a literal, column reference, call, parenthesized
// expression, CASE, CAST, array literal or parameter.
func (p *parser) primary() ast.Expr {
	t := p.tok()
	switch t.kind {
	case tNumber:
		return p.numberLit()
	case tString:
		return p.stringLit()
	case tOp:
		return p.opPrimary()
	case tIdent:
		if t.quoted || !reserved[t.kw] {
			return p.identPrimary()
		}
		if x := p.keywordPrimary(); x != nil {
			return x
		}
	}
	p.unexpected("expression")
	return nil
}

// opPrimary parses a primary starting with punctuation: (expr), [array]
// or the parameter ?.
func (p *parser) opPrimary() ast.Expr {
	switch p.tok().text {
	case "(":
		return p.paren()
	case "[":
		return p.arrayLit(p.pos(), types.Null)
	case "?":
		return &ast.Param{At: p.advance().pos}
	case "*":
		p.failf(p.pos(), "'*' is only allowed as a select item or a function argument")
	}
	p.unexpected("expression")
	return nil
}

func (p *parser) paren() ast.Expr {
	p.advance()
	if p.isKw("SELECT") {
		p.failf(p.pos(), "subqueries are not supported in expressions")
	}
	x := p.expr()
	p.wantOp(")", "after expression")
	return x
}

// keywordPrimary parses a primary starting with a reserved word, or returns
// nil when the word cannot start one.
func (p *parser) keywordPrimary() ast.Expr {
	t := p.tok()
	switch t.kw {
	case "NULL":
		return &ast.Literal{At: p.advance().pos, Kind: ast.NullLit, Raw: t.text}
	case "TRUE", "FALSE":
		lit := &ast.Literal{At: p.advance().pos, Kind: ast.BoolLit, Raw: t.text}
		if t.kw == "TRUE" {
			lit.I = 1
		}
		return lit
	case "CASE":
		return p.caseExpr()
	case "CAST":
		return p.cast()
	case "ARRAY":
		return p.typedArray()
	case "EXISTS":
		p.failf(t.pos, "subqueries are not supported in expressions")
	}
	if keywordFuncs[t.kw] && p.peekOp(1, "(") {
		return p.call()
	}
	return nil
}

// identPrimary parses a call name(...) or a column reference.
func (p *parser) identPrimary() ast.Expr {
	if p.peekOp(1, "(") {
		return p.call()
	}
	return p.columnRef()
}

// columnRef parses name, table.name or db.table.name.
func (p *parser) columnRef() ast.Expr {
	first := p.advance()
	parts := []string{first.val}
	for p.gotOp(".") {
		if p.isOp("*") {
			p.failf(p.pos(), "'%s.*' is only allowed as a select item", strings.Join(parts, "."))
		}
		parts = append(parts, p.anyWord("column name after '.'").val)
	}
	if len(parts) > 3 {
		p.failf(first.pos, "column reference %s has too many qualifiers", strings.Join(parts, "."))
	}
	if p.isOp("(") {
		p.failf(first.pos, "qualified function names are not supported")
	}
	return columnOf(first.pos, parts)
}

func columnOf(at diag.Pos, parts []string) *ast.ColumnRef {
	c := &ast.ColumnRef{At: at, Name: parts[len(parts)-1]}
	if len(parts) > 1 {
		c.Table = parts[len(parts)-2]
	}
	if len(parts) > 2 {
		c.DB = parts[0]
	}
	return c
}

// call parses name(args) [OVER w | OVER (spec)], including count(*),
// count(DISTINCT x) and CEL('...'). The name is lower-cased.
func (p *parser) call() ast.Expr {
	name := p.advance()
	lname := strings.ToLower(name.val)
	if lname == "cel" {
		return p.cel(name)
	}
	c := &ast.Call{At: name.pos, Name: lname}
	p.advance()
	p.callArgs(c)
	p.over(c)
	return c
}

func (p *parser) callArgs(c *ast.Call) {
	if p.gotOp(")") {
		return
	}
	if p.isOp("*") && p.peekOp(1, ")") {
		p.advance()
		p.advance()
		c.Star = true
		return
	}
	c.Distinct = p.gotKw("DISTINCT")
	c.Args = []ast.Expr{p.arg()}
	for p.gotOp(",") {
		c.Args = append(c.Args, p.arg())
	}
	p.wantOp(")", "after function arguments")
}

// arg parses a function argument: an expression, or a bare * among other
// arguments as in count_where(*, cond).
func (p *parser) arg() ast.Expr {
	if p.isOp("*") && (p.peekOp(1, ",") || p.peekOp(1, ")")) {
		return &ast.Star{At: p.advance().pos}
	}
	return p.expr()
}

// over parses an optional OVER window_name or OVER (window spec).
func (p *parser) over(c *ast.Call) {
	at := p.pos()
	if !p.gotKw("OVER") {
		return
	}
	if p.isOp("(") {
		c.OverDef = p.windowSpec(at)
		return
	}
	w := p.ident("window name or '(' after OVER")
	c.Over = &w
}

// cel parses CEL('<cel source>'), which takes exactly one string literal.
func (p *parser) cel(name token) ast.Expr {
	p.advance()
	t := p.tok()
	if t.kind == tIllegal {
		p.unexpected("string literal")
	}
	if t.kind != tString || !p.peekOp(1, ")") {
		p.failf(name.pos, "CEL takes one string literal")
	}
	lit := p.stringLit()
	p.advance()
	return &ast.CEL{At: name.pos, Lit: lit}
}

// caseExpr parses CASE [operand] WHEN c THEN r ... [ELSE e] END.
func (p *parser) caseExpr() ast.Expr {
	c := &ast.Case{At: p.advance().pos}
	if !p.isKw("WHEN") {
		c.Operand = p.expr()
	}
	if !p.isKw("WHEN") {
		p.unexpected("'WHEN' in CASE")
	}
	for p.gotKw("WHEN") {
		cond := p.expr()
		p.wantKw("THEN", "after WHEN condition")
		c.Whens = append(c.Whens, ast.When{Cond: cond, Result: p.expr()})
	}
	if p.gotKw("ELSE") {
		c.Else = p.expr()
	}
	p.wantKw("END", "to close CASE")
	return c
}

// cast parses CAST(x AS type).
func (p *parser) cast() ast.Expr {
	at := p.advance().pos
	p.wantOp("(", "after CAST")
	x := p.expr()
	p.wantKw("AS", "in CAST")
	to := p.typeName()
	p.wantOp(")", "after CAST type")
	return &ast.Cast{At: at, X: x, To: to}
}

// typedArray parses ARRAY<T>[...] or ARRAY[...].
func (p *parser) typedArray() ast.Expr {
	at := p.pos()
	if p.peekOp(1, "[") {
		p.advance()
		return p.arrayLit(at, types.Null)
	}
	if !p.peekOp(1, "<") {
		p.advance()
		p.unexpected("'<' or '[' after ARRAY")
	}
	typ := p.typeName()
	return p.arrayLit(at, typ.Elem())
}

// arrayLit parses [e1, e2, ...] (possibly empty) with declared element
// type elem.
func (p *parser) arrayLit(at diag.Pos, elem types.Type) ast.Expr {
	p.wantOp("[", "after array type")
	a := &ast.ArrayLit{At: at, Elem: elem}
	if !p.isOp("]") {
		a.Elems = p.exprList()
	}
	p.wantOp("]", "after array elements")
	return a
}
