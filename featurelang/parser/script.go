package parser

import (
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/ast"
)

// runs lists the statements fenestra runs, for the error on any other.
const runs = "CREATE DATABASE/TABLE, USE, SET, LOAD DATA, SELECT [INTO OUTFILE], DEPLOY, SHOW, DESC, DROP, INSERT, EXPLAIN"

// showWhat and dropWhat are the objects SHOW and DROP take.
var (
	showWhat = setOf("DATABASES", "TABLES", "DEPLOYMENTS", "DEPLOYMENT")
	dropWhat = setOf("DEPLOYMENT", "TABLE", "DATABASE")
)

// otherStmts are the first keywords of OpenMLDB statements fenestra does
// not run (besides the other forms of CREATE, SHOW and DROP).
var otherStmts = setOf("ALTER", "CALL", "DELETE", "GRANT", "REVOKE", "STOP", "TRUNCATE", "UPDATE")

// objectVerbs maps the first keywords of statements named with the next
// word too (CREATE INDEX, STOP JOB) to the words after which the name goes
// on (CREATE OR REPLACE FUNCTION, SHOW TABLE STATUS, INSERT OR IGNORE).
var objectVerbs = map[string]map[string]bool{
	"ALTER":    nil,
	"CREATE":   setOf("AGGREGATE", "OR", "REPLACE", "TEMPORARY"),
	"DROP":     setOf("AGGREGATE"),
	"INSERT":   setOf("OR"),
	"SHOW":     setOf("CREATE", "FULL", "GLOBAL", "SESSION", "TABLE"),
	"STOP":     nil,
	"TRUNCATE": nil,
}

// unknownStmt fails on a statement that is not one fenestra parses:
// "unsupported statement: <name> (...)" for another OpenMLDB statement,
// else "expected a statement (...), found <token>". Either way the whole
// statement is skipped and yields this one error.
func (p *parser) unknownStmt() {
	if otherStmts[p.tok().kw] {
		p.unsupported(p.stmtName())
	}
	p.skip = true
	p.unexpected("a statement (" + runs + ")")
}

// unsupported fails at the statement's first token with "unsupported
// statement: <name>" and has the statement skipped whole.
func (p *parser) unsupported(name string) {
	p.skip = true
	p.failf(p.toks[p.start].pos, "unsupported statement: %s (fenestra runs %s)", name, runs)
}

// stmtName names the current statement by its leading words, upper-cased:
// DELETE, CREATE INDEX, SHOW TABLE STATUS.
func (p *parser) stmtName() string {
	verb := p.toks[p.start].kw
	words := []string{verb}
	more, named := objectVerbs[verb]
	for k := p.start + 1; named && k < len(p.toks); k++ {
		t := p.toks[k]
		if t.kind != tIdent || t.quoted {
			break
		}
		words = append(words, t.kw)
		named = more[t.kw]
	}
	return strings.Join(words, " ")
}

// create parses CREATE TABLE or CREATE DATABASE; another CREATE is
// unsupported.
func (p *parser) create() ast.Stmt {
	switch next := p.peek(1); {
	case next.kw == "TABLE":
		return p.createTable()
	case next.kw == "DATABASE":
		return p.createDatabase()
	case next.kind == tIdent && !next.quoted:
		p.unsupported(p.stmtName())
	}
	p.advance()
	p.unexpected("'TABLE' or 'DATABASE' after CREATE")
	return nil
}

// createDatabase parses CREATE DATABASE [IF NOT EXISTS] name.
func (p *parser) createDatabase() *ast.CreateDatabase {
	cd := &ast.CreateDatabase{At: p.advance().pos}
	p.advance()
	cd.IfNotExists = p.ifNotExists()
	cd.Name = p.ident("database name")
	return cd
}

// use parses USE name.
func (p *parser) use() *ast.Use {
	u := &ast.Use{At: p.advance().pos}
	u.DB = p.ident("database name after USE")
	return u
}

// set parses SET @@[session.|global.]name = value or
// SET [SESSION|GLOBAL] name = value.
func (p *parser) set() *ast.Set {
	s := &ast.Set{At: p.advance().pos}
	var name token
	if p.gotOp("@@") {
		s.Scope, name = p.systemVariable()
	} else {
		if (p.isKw("SESSION") || p.isKw("GLOBAL")) && !p.peekOp(1, "=") {
			s.Scope = strings.ToLower(p.advance().val)
		}
		name = p.anyWord("variable name after SET")
	}
	s.Name, s.NameAt = strings.ToLower(name.val), name.pos
	p.wantOp("=", "after variable name")
	s.Value = p.setValue()
	return s
}

// systemVariable parses what follows @@: name, session.name or
// global.name. It returns the scope (lower case, "" when absent) and the
// name's token.
func (p *parser) systemVariable() (string, token) {
	first := p.anyWord("variable name after @@")
	if !p.gotOp(".") {
		return "", first
	}
	scope := strings.ToLower(first.val)
	if first.quoted || scope != "session" && scope != "global" {
		p.failf(first.pos, "unknown variable scope %q (want session or global)", first.val)
	}
	return scope, p.anyWord("variable name after @@" + scope + ".")
}

// setValue parses the value of SET: a string, a number, TRUE or FALSE.
func (p *parser) setValue() ast.Expr {
	switch t := p.tok(); {
	case t.kind == tString:
		return p.stringLit()
	case t.kind == tNumber:
		return p.numberLit()
	case t.kw == "TRUE" || t.kw == "FALSE":
		return p.keywordPrimary()
	}
	p.unexpected("a value (a string, a number, TRUE or FALSE)")
	return nil
}

// pathLit consumes a string literal naming a file and returns its token
// (val is the path, pos the opening quote), or fails with
// "expected <what>".
func (p *parser) pathLit(what string) token {
	if p.tok().kind != tString {
		p.unexpected(what)
	}
	return p.advance()
}

// loadData parses LOAD DATA INFILE 'path' INTO TABLE name [OPTIONS(...)].
func (p *parser) loadData() *ast.LoadData {
	ld := &ast.LoadData{At: p.advance().pos}
	p.wantKw("DATA", "after LOAD")
	p.wantKw("INFILE", "after LOAD DATA")
	path := p.pathLit("file path (a string literal) after INFILE")
	ld.Path, ld.PathAt = path.val, path.pos
	p.wantKw("INTO", "after file path")
	p.wantKw("TABLE", "after INTO")
	ld.Table = p.name("table name")
	if p.isKw("OPTIONS") {
		ld.Options = p.options()
	}
	return ld
}

// outfile parses INTO OUTFILE 'path' [OPTIONS(...)].
func (p *parser) outfile() *ast.Outfile {
	o := &ast.Outfile{At: p.advance().pos}
	p.wantKw("OUTFILE", "after INTO")
	path := p.pathLit("file path (a string literal) after OUTFILE")
	o.Path, o.PathAt = path.val, path.pos
	if p.isKw("OPTIONS") {
		o.Options = p.options()
	}
	return o
}

// show parses SHOW DATABASES|TABLES|DEPLOYMENTS, SHOW DEPLOYMENT name and
// SHOW CREATE TABLE name; another SHOW is unsupported.
func (p *parser) show() *ast.Show {
	s := &ast.Show{At: p.advance().pos}
	t := p.tok()
	switch {
	case showWhat[t.kw]:
		s.What = p.advance().kw
		if s.What == "DEPLOYMENT" {
			s.Name = p.name("deployment name after SHOW DEPLOYMENT")
		}
		return s
	case t.kw == "CREATE" && p.peek(1).kw == "TABLE":
		p.advance()
		p.advance()
		s.What = "CREATE TABLE"
		s.Name = p.name("table name after SHOW CREATE TABLE")
		return s
	case t.kind == tIdent && !t.quoted:
		p.unsupported(p.stmtName())
	}
	p.unexpected("DATABASES, TABLES, DEPLOYMENTS, DEPLOYMENT or CREATE TABLE after SHOW")
	return nil
}

// desc parses DESC|DESCRIBE name, a Show of What "TABLE".
func (p *parser) desc() *ast.Show {
	kw := p.tok().kw
	s := &ast.Show{At: p.advance().pos, What: "TABLE"}
	s.Name = p.name("table name after " + kw)
	return s
}

// drop parses DROP DEPLOYMENT|TABLE|DATABASE [IF EXISTS] name; another DROP
// is unsupported.
func (p *parser) drop() *ast.Drop {
	switch next := p.peek(1); {
	case dropWhat[next.kw]:
	case next.kind == tIdent && !next.quoted:
		p.unsupported(p.stmtName())
	default:
		p.advance()
		p.unexpected("'TABLE', 'DATABASE' or 'DEPLOYMENT' after DROP")
	}
	d := &ast.Drop{At: p.advance().pos, What: p.advance().kw}
	if p.gotKw("IF") {
		p.wantKw("EXISTS", "after IF")
		d.IfExists = true
	}
	if d.What == "DATABASE" {
		db := p.ident("database name")
		d.Name = ast.Name{At: db.At, Parts: []string{db.Name}}
		return d
	}
	d.Name = p.name(strings.ToLower(d.What) + " name")
	return d
}

// insert parses INSERT INTO name [(col, ...)] VALUES (expr, ...), ....
// INSERT [OR] IGNORE is unsupported.
func (p *parser) insert() *ast.Insert {
	if next := p.peek(1).kw; next == "OR" || next == "IGNORE" {
		p.unsupported(p.stmtName())
	}
	ins := &ast.Insert{At: p.advance().pos}
	p.wantKw("INTO", "after INSERT")
	ins.Table = p.name("table name")
	if p.gotOp("(") {
		ins.Columns = []ast.Ident{p.ident("column name")}
		for p.gotOp(",") {
			ins.Columns = append(ins.Columns, p.ident("column name"))
		}
		p.wantOp(")", "after column names")
	}
	p.wantKw("VALUES", "in INSERT")
	ins.Rows = [][]ast.Expr{p.valuesRow()}
	for p.gotOp(",") {
		ins.Rows = append(ins.Rows, p.valuesRow())
	}
	return ins
}

// valuesRow parses (expr, ...).
func (p *parser) valuesRow() []ast.Expr {
	p.wantOp("(", "to start a row of values")
	row := p.exprList()
	p.wantOp(")", "after row values")
	return row
}

// explain parses EXPLAIN SELECT ....
func (p *parser) explain() *ast.Explain {
	e := &ast.Explain{At: p.advance().pos}
	if !p.isKw("SELECT") && !p.isKw("WITH") {
		p.unexpected("'SELECT' after EXPLAIN")
	}
	e.Query = p.query()
	p.noConfig(e.Query, "EXPLAIN", "the plan does not depend on it; EXPLAIN the query without CONFIG")
	p.noOutfile("EXPLAIN")
	return e
}
