package parser

import "github.com/fenestra-dev/fenestra/featurelang/ast"

// reserved holds the reserved words: ZetaSQL's reserved keywords plus
// OpenMLDB's additions (DIV, MOD, XOR, OPEN, ILIKE, RLIKE, LAST,
// ROWS_RANGE, INSTANCE_NOT_IN_WINDOW, INDEX). Unquoted, they are never
// column names, table names or aliases; that is what lets an alias follow an
// expression without AS. Backquote them to use them as names.
var reserved = setOf(
	"ALL", "AND", "ANY", "ARRAY", "AS", "ASC", "ASSERT_ROWS_MODIFIED", "AT",
	"BETWEEN", "BY", "CASE", "CAST", "COLLATE", "CONTAINS", "CREATE", "CROSS",
	"CUBE", "CURRENT", "DEFAULT", "DEFINE", "DESC", "DISTINCT", "DIV", "ELSE",
	"END", "ENUM", "ESCAPE", "EXCEPT", "EXCLUDE", "EXISTS", "EXTRACT", "FALSE",
	"FETCH", "FOLLOWING", "FOR", "FROM", "FULL", "GROUP", "GROUPING", "GROUPS",
	"HASH", "HAVING", "IF", "IGNORE", "ILIKE", "IN", "INDEX", "INNER",
	"INSTANCE_NOT_IN_WINDOW", "INTERSECT", "INTERVAL", "INTO", "IS", "JOIN",
	"LAST", "LATERAL", "LEFT", "LIKE", "LIMIT", "LOOKUP", "MERGE", "MOD",
	"NATURAL", "NEW", "NO", "NOT", "NULL", "NULLS", "OF", "ON", "OPEN", "OR",
	"ORDER", "OUTER", "OVER", "PARTITION", "PRECEDING", "PROTO", "RANGE",
	"RECURSIVE", "RESPECT", "RIGHT", "RLIKE", "ROLLUP", "ROWS", "ROWS_RANGE",
	"SELECT", "SET", "SOME", "STRUCT", "TABLESAMPLE", "THEN", "TO", "TREAT",
	"TRUE", "UNBOUNDED", "UNION", "UNNEST", "USING", "WHEN", "WHERE", "WINDOW",
	"WITH", "WITHIN", "XOR",
)

// keywordFuncs are reserved words that are still function names when
// followed by '(' (mod(a, b), at(x, 1), if(c, a, b), left(s, 2)).
var keywordFuncs = setOf("AT", "CONTAINS", "GROUPING", "HASH", "IF", "LEFT", "MOD", "RANGE", "RIGHT")

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// Binary operator levels, lowest precedence first, as in OpenMLDB's
// ZetaSQL grammar: OR < AND < XOR < NOT < comparisons < | < ^ < & < + - <
// * / % DIV MOD < unary - + ~. The NOT and comparison levels are parsed by
// their own functions between levelXor and levelBitOr.
const (
	levelOr = iota
	levelAnd
	levelXor
	levelBitOr
	levelBitXor
	levelBitAnd
	levelAdd
	levelMul
)

// binaryLevels maps, per level, a token spelling to the canonical
// ast.Binary operator.
var binaryLevels = [...]map[string]string{
	levelOr:     {"OR": "OR", "||": "OR"},
	levelAnd:    {"AND": "AND", "&&": "AND"},
	levelXor:    {"XOR": "XOR"},
	levelBitOr:  {"|": "|"},
	levelBitXor: {"^": "^"},
	levelBitAnd: {"&": "&"},
	levelAdd:    {"+": "+", "-": "-"},
	levelMul:    {"*": "*", "/": "/", "%": "%", "DIV": "DIV", "MOD": "%"},
}

// comparisonOps maps comparison spellings to canonical operators.
var comparisonOps = map[string]string{
	"=": "=", "==": "=", "!=": "!=", "<>": "!=",
	"<": "<", "<=": "<=", ">": ">", ">=": ">=",
}

// unaryOps maps the tight-binding prefix operators to canonical operators.
// NOT and ! bind looser, below the comparisons.
var unaryOps = map[string]string{"-": "-", "+": "+", "~": "~"}

// ttlTypes are the accepted TTL_TYPE values of an index.
var ttlTypes = setOf("absolute", "latest", "absorlat", "absandlat")

// joinKinds maps the first keyword of a join to its kind.
var joinKinds = map[string]ast.JoinKind{
	"LAST": ast.LastJoin, "LEFT": ast.LeftJoin, "RIGHT": ast.RightJoin,
	"FULL": ast.FullJoin, "INNER": ast.InnerJoin, "CROSS": ast.CrossJoin,
	"JOIN": ast.InnerJoin,
}

// isIdent reports whether the current token can be a name: a backquoted
// identifier or an unquoted word that is not reserved.
func (p *parser) isIdent() bool {
	t := p.tok()
	return t.kind == tIdent && (t.quoted || !reserved[t.kw])
}

// ident consumes a name, or fails with "expected <what>".
func (p *parser) ident(what string) ast.Ident {
	if !p.isIdent() {
		p.unexpected(what)
	}
	t := p.advance()
	return ast.Ident{At: t.pos, Name: t.val}
}

// anyWord consumes any identifier, reserved words included (the part after
// a dot, an option name), or fails with "expected <what>".
func (p *parser) anyWord(what string) token {
	if p.tok().kind != tIdent {
		p.unexpected(what)
	}
	return p.advance()
}

// name parses a possibly qualified name such as db.table.
func (p *parser) name(what string) ast.Name {
	first := p.ident(what)
	n := ast.Name{At: first.At, Parts: []string{first.Name}}
	for p.gotOp(".") {
		n.Parts = append(n.Parts, p.anyWord("name after '.'").val)
	}
	return n
}

// optAlias parses [AS] alias and returns the alias, or "" when absent.
// Without AS, CONFIG ( and a DEPLOY starting a line are not aliases: they
// begin a clause or, after a missing ';', the next statement.
func (p *parser) optAlias() string {
	if p.gotKw("AS") {
		return p.ident("alias after AS").Name
	}
	if p.isIdent() && !p.atConfig() && !p.atLineStmt() {
		return p.advance().val
	}
	return ""
}

// atLineStmt reports whether the current token is DEPLOY, or a script
// statement's first two words (see atScriptStmt), starting a line: the start
// of the next statement after a missing ';'. (CREATE and SELECT are
// reserved, so they are never mistaken for names.)
func (p *parser) atLineStmt() bool {
	return p.tok().bol && (p.isKw("DEPLOY") || p.atScriptStmt())
}
