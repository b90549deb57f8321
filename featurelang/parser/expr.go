package parser

import (
	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/diag"
)

// expr parses a full expression.
func (p *parser) expr() ast.Expr {
	p.enter()
	x := p.binary(levelOr)
	p.leave()
	return x
}

// binary parses a left-associative chain of the operators of level lvl.
func (p *parser) binary(lvl int) ast.Expr {
	x := p.operand(lvl)
	for {
		op, ok := binaryLevels[lvl][p.spelling()]
		if !ok {
			return x
		}
		at := p.advance().pos
		x = &ast.Binary{At: at, Op: op, L: x, R: p.operand(lvl)}
	}
}

// operand parses an operand of the operators of level lvl: the next
// tighter level.
func (p *parser) operand(lvl int) ast.Expr {
	switch lvl {
	case levelXor:
		return p.not()
	case levelMul:
		return p.unary()
	}
	return p.binary(lvl + 1)
}

// not parses NOT x or ! x, which bind looser than comparisons.
func (p *parser) not() ast.Expr {
	if !p.isKw("NOT") && !p.isOp("!") {
		return p.comparison()
	}
	at := p.advance().pos
	p.enter()
	x := p.not()
	p.leave()
	return &ast.Unary{At: at, Op: "NOT", X: x}
}

// comparison parses one (non-associative) comparison or predicate over
// bitwise operands: = != < ..., IS [NOT] NULL, [NOT] LIKE|ILIKE|RLIKE,
// [NOT] IN, [NOT] BETWEEN.
func (p *parser) comparison() ast.Expr {
	x := p.predicate(p.binary(levelBitOr))
	if p.atPredicate() {
		p.failf(p.pos(), "comparisons cannot be chained; add parentheses")
	}
	return x
}

// predicate parses the comparison or predicate following x, if any.
func (p *parser) predicate(x ast.Expr) ast.Expr {
	if op, ok := comparisonOps[p.spelling()]; ok {
		at := p.advance().pos
		return &ast.Binary{At: at, Op: op, L: x, R: p.binary(levelBitOr)}
	}
	at := p.pos()
	if p.isKw("IS") {
		return p.isNull(x, at)
	}
	not := p.isKw("NOT") && predicateKw[p.peek(1).kw]
	if not {
		p.advance()
	}
	switch kw := p.tok().kw; kw {
	case "LIKE", "ILIKE", "RLIKE":
		return p.like(x, at, kw, not)
	case "IN":
		return p.in(x, at, not)
	case "BETWEEN":
		return p.between(x, at, not)
	}
	return x
}

// predicateKw are the keywords NOT may negate after an operand.
var predicateKw = setOf("LIKE", "ILIKE", "RLIKE", "IN", "BETWEEN")

// atPredicate reports whether the current token starts a comparison or
// predicate.
func (p *parser) atPredicate() bool {
	_, cmp := comparisonOps[p.spelling()]
	kw := p.tok().kw
	return cmp || kw == "IS" || predicateKw[kw] || kw == "NOT" && predicateKw[p.peek(1).kw]
}

func (p *parser) isNull(x ast.Expr, at diag.Pos) ast.Expr {
	p.advance()
	not := p.gotKw("NOT")
	p.wantKw("NULL", "after IS")
	return &ast.IsNull{At: at, X: x, Not: not}
}

func (p *parser) like(x ast.Expr, at diag.Pos, op string, not bool) ast.Expr {
	p.advance()
	l := &ast.Like{At: at, Op: op, X: x, Pattern: p.binary(levelBitOr), Not: not}
	if p.gotKw("ESCAPE") {
		l.Escape = p.binary(levelBitOr)
	}
	return l
}

func (p *parser) in(x ast.Expr, at diag.Pos, not bool) ast.Expr {
	p.advance()
	p.wantOp("(", "after IN")
	if p.isKw("SELECT") {
		p.failf(p.pos(), "IN (SELECT ...) is not supported")
	}
	list := p.exprList()
	p.wantOp(")", "after IN list")
	return &ast.In{At: at, X: x, List: list, Not: not}
}

func (p *parser) between(x ast.Expr, at diag.Pos, not bool) ast.Expr {
	p.advance()
	lo := p.binary(levelBitOr)
	p.wantKw("AND", "in BETWEEN")
	return &ast.Between{At: at, X: x, Lo: lo, Hi: p.binary(levelBitOr), Not: not}
}

// unary parses - + ~ prefixes, which bind tighter than any binary operator.
func (p *parser) unary() ast.Expr {
	op, ok := unaryOps[p.spelling()]
	if !ok {
		return p.postfix()
	}
	at := p.advance().pos
	p.enter()
	x := p.unary()
	p.leave()
	return &ast.Unary{At: at, Op: op, X: x}
}

// postfix parses a primary followed by subscripts x[i][j].
func (p *parser) postfix() ast.Expr {
	x := p.primary()
	for p.isOp("[") {
		at := p.advance().pos
		x = &ast.Subscript{At: at, X: x, Index: p.expr()}
		p.wantOp("]", "after subscript")
	}
	return x
}
