package parser

import (
	"math"
	"strconv"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// numShape classifies the text of a tNumber token.
type numShape uint8

const (
	numInt      numShape = iota // 123
	numLong                     // 123L
	numDouble                   // 1.5, 1e3, .5
	numFloat                    // 1.5f
	numInterval                 // 3s, 10m, 1h, 30d
)

// numShapeOf classifies a number as validated by the lexer.
func numShapeOf(text string) numShape {
	switch text[len(text)-1] | 0x20 {
	case 'l':
		return numLong
	case 'f':
		return numFloat
	case 's', 'm', 'h', 'd':
		return numInterval
	}
	if strings.ContainsAny(text, ".eE") {
		return numDouble
	}
	return numInt
}

// numberLit parses a numeric literal. Integers are IntLit when they fit
// int32, else BigIntLit; a time interval is an error outside frames and TTL.
func (p *parser) numberLit() ast.Expr {
	t := p.tok()
	lit := &ast.Literal{At: t.pos, Raw: t.text}
	switch numShapeOf(t.text) {
	case numInt:
		lit.I = p.intValue(t, t.text)
		lit.Kind = ast.IntLit
		if lit.I > math.MaxInt32 {
			lit.Kind = ast.BigIntLit
		}
	case numLong:
		lit.Kind, lit.I = ast.BigIntLit, p.intValue(t, t.text[:len(t.text)-1])
	case numDouble:
		lit.Kind, lit.F = ast.DoubleLit, p.floatValue(t, t.text, 64)
	case numFloat:
		lit.Kind, lit.F = ast.FloatLit, p.floatValue(t, t.text[:len(t.text)-1], 32)
	case numInterval:
		p.failf(t.pos, "time interval %s is only allowed in window frames and TTL", t.text)
	}
	p.advance()
	return lit
}

// intValue parses the decimal digits s of token t as an int64.
func (p *parser) intValue(t *token, s string) int64 {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		p.failf(t.pos, "integer literal %s is out of range", t.text)
	}
	return v
}

// floatValue parses s as a float of the given bit size (a float literal's
// value is rounded to float32).
func (p *parser) floatValue(t *token, s string, bits int) float64 {
	v, err := strconv.ParseFloat(s, bits)
	if err != nil {
		p.failf(t.pos, "floating-point literal %s is out of range", t.text)
	}
	return v
}

// interval splits a time interval such as 10d into its count and its
// lower-case unit.
func (p *parser) interval(t *token) (int64, string) {
	n := len(t.text) - 1
	return p.intValue(t, t.text[:n]), strings.ToLower(t.text[n:])
}

// stringLit converts the current string token into a literal.
func (p *parser) stringLit() *ast.Literal {
	t := p.advance()
	return &ast.Literal{
		At: t.pos, Kind: ast.StringLit, Raw: t.text, S: t.val,
		ValueAt: t.pos + 1, Offsets: t.offs,
	}
}

// typeName parses a type as written in CAST and CREATE TABLE: a scalar name
// (varchar(n) allowed), array<T> or map<K, V>.
func (p *parser) typeName() types.Type {
	at := p.pos()
	typ, err := types.Parse(p.typeText())
	if err != nil {
		p.failf(at, "%s", err.Error())
	}
	return typ
}

// typeText consumes a type and returns its text for types.Parse.
func (p *parser) typeText() string {
	name := p.anyWord("type name").val
	switch {
	case p.isOp("<"):
		return name + "<" + p.typeArgs() + ">"
	case p.isOp("("):
		p.typeLength()
	}
	return name
}

// typeArgs parses <T, ...> and returns the arguments' text.
func (p *parser) typeArgs() string {
	p.enter()
	p.advance()
	args := []string{p.typeText()}
	for p.gotOp(",") {
		args = append(args, p.typeText())
	}
	p.wantOp(">", "after type arguments")
	p.leave()
	return strings.Join(args, ", ")
}

// typeLength parses and ignores the (n) of varchar(n).
func (p *parser) typeLength() {
	p.advance()
	if t := p.tok(); t.kind != tNumber || numShapeOf(t.text) != numInt {
		p.unexpected("length in type")
	}
	p.advance()
	p.wantOp(")", "after type length")
}
