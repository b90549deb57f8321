package parser

import (
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/diag"
)

// stmt parses one statement, dispatching on its first keyword.
func (p *parser) stmt() ast.Stmt {
	switch p.tok().kw {
	case "SELECT", "WITH":
		return p.queryStmt()
	case "CREATE":
		return p.create()
	case "DEPLOY":
		return p.deploy()
	case "USE":
		return p.use()
	case "SET":
		return p.set()
	case "LOAD":
		return p.loadData()
	case "SHOW":
		return p.show()
	case "DESC", "DESCRIBE":
		return p.desc()
	case "DROP":
		return p.drop()
	case "INSERT":
		return p.insert()
	case "EXPLAIN":
		return p.explain()
	}
	p.unknownStmt()
	return nil
}

// queryStmt parses a top-level SELECT [INTO OUTFILE 'path' [OPTIONS(...)]].
func (p *parser) queryStmt() *ast.Query {
	q := &ast.Query{Query: p.query()}
	if p.isKw("INTO") {
		q.Into = p.outfile()
	}
	return q
}

// noOutfile fails at INTO when a query that may not export is followed by
// INTO OUTFILE: in DEPLOY or EXPLAIN (stmt names the statement).
func (p *parser) noOutfile(stmt string) {
	if p.isKw("INTO") {
		p.failf(p.pos(), "INTO OUTFILE is not allowed in %s", stmt)
	}
}

// query parses a top-level SELECT and its CONFIG clause, and rejects what
// OpenMLDB's feature SQL does not support around it: WITH and set
// operations.
func (p *parser) query() *ast.Select {
	if p.isKw("WITH") {
		p.failf(p.pos(), "WITH clauses are not supported")
	}
	sel := p.selectStmt()
	p.unsupportedTail()
	if p.atConfig() {
		sel.Config = p.config()
	}
	return sel
}

// unsupportedTail rejects, with a clear message, what OpenMLDB allows after
// a query but feature SQL does not: set operations.
func (p *parser) unsupportedTail() {
	switch kw := p.tok().kw; kw {
	case "UNION", "EXCEPT", "INTERSECT":
		p.failf(p.pos(), "set operations (%s) are not supported", kw)
	}
}

// config parses CONFIG (key = value, ...). The value of values is a row,
// (e, ...), or a list of rows, [(e, ...), ...]; any other key takes an
// expression.
func (p *parser) config() *ast.Config {
	c := &ast.Config{At: p.advance().pos}
	p.wantOp("(", "after CONFIG")
	for {
		key := p.anyWord("CONFIG key")
		p.wantOp("=", "after CONFIG key")
		if k := strings.ToLower(key.val); k != "values" {
			c.Options = append(c.Options, &ast.Option{At: key.pos, Key: k, Value: p.expr()})
		} else {
			if c.Values != nil {
				p.failf(key.pos, "values is given twice")
			}
			c.ValuesAt = key.pos
			p.configValues(c)
		}
		if !p.gotOp(",") {
			break
		}
	}
	p.wantOp(")", "after CONFIG values")
	return c
}

// configValues parses (e, ...) or [(e, ...), ...] into c.Values.
func (p *parser) configValues(c *ast.Config) {
	row := func() {
		c.RowsAt = append(c.RowsAt, p.wantOp("(", "to start a row of values").pos)
		c.Values = append(c.Values, p.exprList())
		p.wantOp(")", "after a row of values")
	}
	if !p.gotOp("[") {
		row()
		return
	}
	row()
	for p.gotOp(",") {
		row()
	}
	p.wantOp("]", "after the rows of values")
}

// noConfig fails at a CONFIG clause of a query that may not have one:
// stmt names the statement, why says what to do instead.
func (p *parser) noConfig(sel *ast.Select, stmt, why string) {
	if sel != nil && sel.Config != nil {
		p.failf(sel.Config.At, "CONFIG is not allowed in %s: %s", stmt, why)
	}
}

// atConfig reports whether the current tokens are OpenMLDB's CONFIG (.
func (p *parser) atConfig() bool { return p.isKw("CONFIG") && p.peekOp(1, "(") }

// createTable parses CREATE TABLE [IF NOT EXISTS] name (elements)
// [OPTIONS(...)].
func (p *parser) createTable() *ast.CreateTable {
	ct := &ast.CreateTable{At: p.advance().pos}
	p.wantKw("TABLE", "after CREATE")
	ct.IfNotExists = p.ifNotExists()
	ct.Name = p.name("table name")
	if p.isKw("LIKE") {
		p.unsupported("CREATE TABLE ... LIKE")
	}
	p.wantOp("(", "after table name")
	p.tableElement(ct)
	for p.gotOp(",") {
		p.tableElement(ct)
	}
	p.wantOp(")", "after column definitions")
	if p.isKw("OPTIONS") {
		ct.Options = p.options()
	}
	return ct
}

func (p *parser) ifNotExists() bool {
	if !p.gotKw("IF") {
		return false
	}
	p.wantKw("NOT", "after IF")
	p.wantKw("EXISTS", "after IF NOT")
	return true
}

func (p *parser) tableElement(ct *ast.CreateTable) {
	if p.isKw("INDEX") {
		ct.Indexes = append(ct.Indexes, p.index())
		return
	}
	ct.Columns = append(ct.Columns, p.column())
}

// column parses name type [NOT NULL] [DEFAULT expr], the constraints in
// either order.
func (p *parser) column() *ast.ColumnDef {
	name := p.ident("column name or INDEX")
	col := &ast.ColumnDef{At: name.At, Name: name.Name, Type: p.typeName()}
	for {
		at := p.pos()
		switch {
		case p.gotKw("NOT"):
			p.wantKw("NULL", "after NOT")
			p.dupIf(col.NotNull, at, "NOT NULL")
			col.NotNull = true
		case p.gotKw("DEFAULT"):
			p.dupIf(col.Default != nil, at, "DEFAULT")
			col.Default = p.expr()
		default:
			return col
		}
	}
}

// dupIf fails with "duplicate <what>" when dup is true.
func (p *parser) dupIf(dup bool, at diag.Pos, what string) {
	if dup {
		p.failf(at, "duplicate %s", what)
	}
}

// index parses INDEX [name](KEY=..., TS=..., TTL=..., TTL_TYPE=...), the
// items in any order.
func (p *parser) index() *ast.IndexDef {
	idx := &ast.IndexDef{At: p.advance().pos}
	if p.isIdent() {
		idx.Name = p.advance().val
	}
	p.wantOp("(", "after INDEX")
	p.indexItem(idx)
	for p.gotOp(",") {
		p.indexItem(idx)
	}
	p.wantOp(")", "after index options")
	return idx
}

func (p *parser) indexItem(idx *ast.IndexDef) {
	key := p.anyWord("index option (KEY, TS, TTL or TTL_TYPE)")
	set, ok := indexItems[key.kw]
	if !ok {
		p.failf(key.pos, "unknown index option %q (want KEY, TS, TTL or TTL_TYPE)", key.val)
	}
	p.wantOp("=", "after "+key.kw)
	set(p, idx, key)
}

// indexItems parses the value of each index option into idx.
var indexItems = map[string]func(p *parser, idx *ast.IndexDef, key token){
	"KEY": func(p *parser, idx *ast.IndexDef, key token) {
		p.dupIf(idx.Keys != nil, key.pos, "KEY in INDEX")
		idx.Keys = p.keyColumns()
	},
	"TS": func(p *parser, idx *ast.IndexDef, key token) {
		p.dupIf(idx.TS != nil, key.pos, "TS in INDEX")
		ts := p.ident("column name after TS=")
		idx.TS = &ts
	},
	"TTL": func(p *parser, idx *ast.IndexDef, key token) {
		p.dupIf(idx.TTL != nil, key.pos, "TTL in INDEX")
		idx.TTL = p.ttlValues()
	},
	"TTL_TYPE": func(p *parser, idx *ast.IndexDef, key token) {
		p.dupIf(idx.TTLType != "", key.pos, "TTL_TYPE in INDEX")
		idx.TTLType = p.ttlType()
	},
}

// keyColumns parses c or (c1, c2, ...).
func (p *parser) keyColumns() []ast.Ident {
	if !p.gotOp("(") {
		return []ast.Ident{p.ident("column name after KEY=")}
	}
	keys := []ast.Ident{p.ident("column name in KEY")}
	for p.gotOp(",") {
		keys = append(keys, p.ident("column name in KEY"))
	}
	p.wantOp(")", "after KEY columns")
	return keys
}

// ttlValues parses v or (v1, v2).
func (p *parser) ttlValues() []ast.TTLValue {
	if !p.gotOp("(") {
		return []ast.TTLValue{p.ttlValue()}
	}
	vals := []ast.TTLValue{p.ttlValue()}
	for p.gotOp(",") {
		vals = append(vals, p.ttlValue())
	}
	p.wantOp(")", "after TTL values")
	return vals
}

// ttlValue parses a TTL: an integer with an optional unit (10d, 100).
func (p *parser) ttlValue() ast.TTLValue {
	t := p.tok()
	if t.kind != tNumber {
		p.unexpected("TTL value (a number with an optional unit s, m, h or d)")
	}
	v := ast.TTLValue{At: t.pos}
	switch numShapeOf(t.text) {
	case numInt:
		v.Value = p.intValue(t, t.text)
	case numInterval:
		v.Value, v.Unit = p.interval(t)
	default:
		p.failf(t.pos, "TTL must be an integer with an optional unit (s, m, h, d), found %s", t.text)
	}
	p.advance()
	return v
}

func (p *parser) ttlType() string {
	t := p.anyWord("TTL type (absolute, latest, absorlat or absandlat)")
	typ := strings.ToLower(t.val)
	if !ttlTypes[typ] {
		p.failf(t.pos, "unknown TTL_TYPE %q (want absolute, latest, absorlat or absandlat)", t.val)
	}
	return typ
}

// options parses OPTIONS(key = expr, ...). Keys are lower-cased.
func (p *parser) options() []*ast.Option {
	p.advance()
	p.wantOp("(", "after OPTIONS")
	opts := []*ast.Option{p.option()}
	for p.gotOp(",") {
		opts = append(opts, p.option())
	}
	p.wantOp(")", "after options")
	return opts
}

func (p *parser) option() *ast.Option {
	key := p.anyWord("option name")
	p.wantOp("=", "after option name")
	return &ast.Option{At: key.pos, Key: strings.ToLower(key.val), Value: p.expr()}
}

// deploy parses DEPLOY name [OPTIONS(...)] SELECT ....
func (p *parser) deploy() *ast.Deploy {
	d := &ast.Deploy{At: p.advance().pos}
	d.Name = p.name("deployment name after DEPLOY")
	if p.isKw("OPTIONS") {
		d.Options = p.options()
	}
	if !p.isKw("SELECT") && !p.isKw("WITH") {
		p.unexpected("'SELECT' after DEPLOY " + strings.Join(d.Name.Parts, "."))
	}
	d.Query = p.query()
	p.noConfig(d.Query, "DEPLOY", "a deployment runs in request mode on the rows its requests send")
	p.noOutfile("DEPLOY")
	return d
}
