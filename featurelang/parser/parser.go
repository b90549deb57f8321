package parser

import (
	"fmt"
	"sort"
	"unicode/utf8"

	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/diag"
)

// maxDepth bounds the nesting of expressions, subqueries and types, so that
// hostile input fails with an error instead of exhausting the stack.
const maxDepth = 1000

// Parse parses a feature file or an OpenMLDB script: statements separated
// by ';' (the last may lack one; empty statements are skipped). See the
// package documentation for the statements.
//
// It returns the script and nil when the file is well formed. Otherwise the
// error is a *diag.List of positioned syntax errors (capped at
// diag.MaxErrors) and the script holds only the statements that parsed
// cleanly, with their end offsets in Script.Ends. After a syntax error the
// parser skips to the next ';' (or to a line that starts a statement, such
// as CREATE, DEPLOY, SELECT or LOAD DATA) and goes on, so one run reports
// errors in several statements. A statement it does not know or run (CREATE
// INDEX, DELETE, SHOW JOBS, a misspelt keyword...) gets exactly one error,
// at its first token, and is skipped to the next ';'. Parse never panics;
// it is safe for concurrent use.
func Parse(src *diag.Source) (*ast.Script, error) {
	if err := checkUTF8(src); err != nil {
		return &ast.Script{Source: src}, err
	}
	p := newParser(src)
	script := &ast.Script{Source: p.src}
	for p.tok().kind != tEOF {
		if p.gotOp(";") {
			continue
		}
		if st, end := p.stmtOrSync(); st != nil {
			script.Stmts = append(script.Stmts, st)
			script.Ends = append(script.Ends, end)
		}
	}
	return script, p.err()
}

// ParseQuery parses exactly one SELECT, optionally followed by ';', such as
// a query given on a command line. It returns the query, or nil and a
// *diag.List of positioned errors.
func ParseQuery(src *diag.Source) (*ast.Select, error) {
	if err := checkUTF8(src); err != nil {
		return nil, err
	}
	p := newParser(src)
	sel := p.queryOnly()
	if err := p.err(); err != nil {
		return nil, err
	}
	return sel, nil
}

// checkUTF8 rejects a source that is not UTF-8, at its first bad byte:
// names and strings in plans must survive serialization unchanged.
func checkUTF8(src *diag.Source) error {
	for i, r := range src.Text {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(src.Text[i:]); size <= 1 {
				var errs diag.List
				errs.Add(src, diag.Pos(i), "the source is not valid UTF-8 (byte 0x%02x)", src.Text[i])
				return errs.Err()
			}
		}
	}
	return nil
}

// parser is a recursive-descent parser over the token slice of one source.
// A syntax error is recorded and unwinds to the statement being parsed with
// a bailout panic; nothing else panics.
type parser struct {
	src     *diag.Source
	toks    []token
	i       int
	lexErrs []lexError   // the lexer's errors, in source order
	errs    []diag.Error // the parser's errors, in the order found
	lastErr diag.Pos
	depth   int
	start   int  // index of the first token of the current statement
	skip    bool // the current statement is unknown: skip it whole (skipStmt)
}

// bailout is the panic value that abandons the current statement.
type bailout struct{}

func newParser(src *diag.Source) *parser {
	if src == nil {
		src = diag.NewSource("", "")
	}
	p := &parser{src: src, lastErr: diag.NoPos}
	p.toks, p.lexErrs = lex(src)
	return p
}

// err returns the errors found, nil when none: the lexer's (less those
// silenced by skipStmt), then the parser's, capped and sorted by
// diag.List.
func (p *parser) err() error {
	var list diag.List
	for _, e := range p.lexErrs {
		if !e.quiet {
			list.Add(p.src, e.pos, "%s", e.msg)
		}
	}
	for _, e := range p.errs {
		list.Add(p.src, e.Pos, "%s", e.Msg)
	}
	return list.Err()
}

// stmtOrSync parses one statement and returns it with the offset just past
// its last token. On a syntax error it returns nil, having skipped to where
// the next statement may start.
func (p *parser) stmtOrSync() (ast.Stmt, diag.Pos) {
	p.start, p.skip, p.depth = p.i, false, 0
	var st ast.Stmt
	if !p.try(func() { st = p.stmt(); p.endStmt() }) {
		if p.skip {
			p.skipStmt()
		} else {
			p.sync(p.start)
		}
		return nil, 0
	}
	last := p.toks[p.i-1]
	return st, last.pos + diag.Pos(len(last.text))
}

// skipStmt skips an unknown statement to the next ';' or the end of input,
// ignoring line starts, and silences the lexer's errors inside it, so the
// statement yields exactly one error: the parser's, or the lexer's error in
// its first token when that token is illegal. The ';'s inside a
// BEGIN ... END block (OpenMLDB's CREATE PROCEDURE) do not end it.
func (p *parser) skipStmt() {
	open := 0 // BEGIN and CASE not yet closed by END, once a BEGIN is seen
	for p.tok().kind != tEOF && (open > 0 || !p.isOp(";")) {
		switch kw := p.advance().kw; {
		case kw == "BEGIN" || kw == "CASE" && open > 0:
			open++
		case kw == "END" && open > 0:
			open--
		}
	}
	from := p.start
	if p.toks[from].kind == tIllegal {
		from++
	}
	k := sort.Search(len(p.lexErrs), func(k int) bool { return p.lexErrs[k].tok >= from })
	for ; k < len(p.lexErrs) && p.lexErrs[k].tok < p.i; k++ {
		p.lexErrs[k].quiet = true
	}
}

// queryOnly parses the single query of ParseQuery; nil on error.
func (p *parser) queryOnly() *ast.Select {
	var sel *ast.Select
	ok := p.try(func() {
		sel = p.query()
		p.gotOp(";")
		if p.tok().kind != tEOF {
			p.unexpected("end of query")
		}
	})
	if !ok {
		return nil
	}
	return sel
}

// try runs f and reports whether it finished without a syntax error
// (a bailout). Any other panic is a bug and propagates.
func (p *parser) try(f func()) (ok bool) {
	defer func() {
		if !ok {
			if r := recover(); r != nil {
				if _, bail := r.(bailout); !bail {
					panic(r)
				}
			}
		}
	}()
	f()
	return true
}

// endStmt checks that a statement ends at ';' or at the end of input, which
// it leaves for the statement loop.
func (p *parser) endStmt() {
	if p.isOp(";") || p.tok().kind == tEOF {
		return
	}
	p.unexpected("';' after statement")
}

// sync skips from a syntax error to the next ';', the end of input, or a
// token starting a line that likely starts a new statement. It always moves
// past the token at start so the statement loop makes progress.
func (p *parser) sync(start int) {
	if p.i == start {
		p.advance()
	}
	depth := 0
	for ; ; p.advance() {
		t := p.tok()
		switch {
		case t.kind == tEOF || p.isOp(";"):
			return
		case p.isOp("("):
			depth++
		case p.isOp(")"):
			depth--
		case t.bol && p.startsStmt(depth):
			return
		}
	}
}

func (p *parser) startsStmt(depth int) bool {
	switch p.tok().kw {
	case "CREATE", "DEPLOY":
		return true
	case "SELECT":
		return depth <= 0 && !(p.i > 0 && p.toks[p.i-1].kind == tOp && p.toks[p.i-1].text == "(")
	}
	return depth <= 0 && p.atScriptStmt()
}

// atScriptStmt reports whether the current token and the next look like
// the start of a script statement: LOAD DATA, SET @@, USE name ;,
// INSERT INTO, SHOW or DROP of a known object. Its keyword alone is a
// valid name, so one word is not enough.
func (p *parser) atScriptStmt() bool {
	next := p.peek(1)
	switch p.tok().kw {
	case "LOAD":
		return next.kw == "DATA"
	case "SET":
		return p.peekOp(1, "@@")
	case "USE":
		after := p.peek(2)
		return next.kind == tIdent && (after.kind == tEOF || after.kind == tOp && after.text == ";")
	case "INSERT":
		return next.kw == "INTO"
	case "SHOW":
		return showWhat[next.kw] || next.kw == "CREATE"
	case "DROP":
		return dropWhat[next.kw]
	}
	return false
}

// Token access.

func (p *parser) tok() *token { return &p.toks[p.i] }

// peek returns the token n places ahead of the current one (EOF past the
// end).
func (p *parser) peek(n int) *token {
	if p.i+n >= len(p.toks) {
		return &p.toks[len(p.toks)-1]
	}
	return &p.toks[p.i+n]
}

func (p *parser) pos() diag.Pos { return p.tok().pos }

// advance consumes and returns the current token; at EOF it stays put.
func (p *parser) advance() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// isKw reports whether the current token is the unquoted keyword kw (upper
// case).
func (p *parser) isKw(kw string) bool { return p.tok().kw == kw }

func (p *parser) isOp(op string) bool {
	t := p.tok()
	return t.kind == tOp && t.text == op
}

func (p *parser) peekOp(n int, op string) bool {
	t := p.peek(n)
	return t.kind == tOp && t.text == op
}

func (p *parser) gotKw(kw string) bool {
	if p.isKw(kw) {
		p.advance()
		return true
	}
	return false
}

func (p *parser) gotOp(op string) bool {
	if p.isOp(op) {
		p.advance()
		return true
	}
	return false
}

// wantKw consumes the keyword kw or fails with "expected 'KW' <ctx>".
func (p *parser) wantKw(kw, ctx string) token {
	if !p.isKw(kw) {
		p.unexpected(phrase(quote(kw), ctx))
	}
	return p.advance()
}

// wantOp consumes the operator op or fails with "expected 'op' <ctx>".
func (p *parser) wantOp(op, ctx string) token {
	if !p.isOp(op) {
		p.unexpected(phrase(quote(op), ctx))
	}
	return p.advance()
}

// spelling is how the current token selects an operator: the text of an
// operator, the upper-cased word of an unquoted identifier, else "".
func (p *parser) spelling() string {
	t := p.tok()
	if t.kind == tOp {
		return t.text
	}
	return t.kw
}

// Errors.

// failf records an error at pos and abandons the current statement. A
// second error at the same position (a cascade) is dropped.
func (p *parser) failf(pos diag.Pos, format string, args ...any) {
	if pos != p.lastErr {
		p.lastErr = pos
		p.errs = append(p.errs, diag.Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
	}
	panic(bailout{})
}

// unexpected fails with "expected <want>, found <current token>". A
// tIllegal token was reported by the lexer, so it fails silently.
func (p *parser) unexpected(want string) {
	t := p.tok()
	if t.kind == tIllegal {
		panic(bailout{})
	}
	p.failf(t.pos, "expected %s, found %s", want, describe(t))
}

// enter and leave bracket every construct that can nest; enter fails once
// the nesting passes maxDepth. After a bailout the count is reset per
// statement, so leave need not run on the error path.
func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.failf(p.pos(), "nesting too deep (more than %d levels)", maxDepth)
	}
}

func (p *parser) leave() { p.depth-- }

// describe renders a token for an error message.
func describe(t *token) string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tString:
		return "string literal " + truncate(t.text)
	}
	return quote(truncate(t.text))
}

func quote(s string) string { return "'" + s + "'" }

// phrase joins what is expected with its context: "')'" and "after
// window frame" make "')' after window frame".
func phrase(what, ctx string) string {
	if ctx == "" {
		return what
	}
	return what + " " + ctx
}

func truncate(s string) string {
	const max = 32
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s...", s[:cut])
}
