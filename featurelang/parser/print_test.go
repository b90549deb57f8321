package parser

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/ast"
)

// render prints a syntax tree compactly and deterministically for tests.
// Every operator application is parenthesized so precedence is visible;
// literals show their kind (1 int, 1L bigint, 1.5 or 2.0 double, 1.5f
// float, "x" string); frame offsets show milliseconds and the unit written.
// The script statements (CREATE DATABASE, USE, SET, LOAD DATA, SHOW, DESC,
// DROP, INSERT) backquote names that need it, so their rendering parses
// back to the same tree when their values are literals (see roundTrips).
func render(n any) string {
	var b strings.Builder
	pr := printer{&b}
	pr.node(n)
	return b.String()
}

type printer struct{ b *strings.Builder }

func (pr printer) p(format string, args ...any) { fmt.Fprintf(pr.b, format, args...) }

func (pr printer) node(n any) {
	switch n := n.(type) {
	case *ast.Script:
		for i, st := range n.Stmts {
			pr.sep(i, "; ")
			pr.node(st)
		}
	case *ast.Query:
		pr.sel(n.Query)
		pr.outfile(n.Into)
	case *ast.Explain:
		pr.p("EXPLAIN ")
		pr.sel(n.Query)
	case *ast.Select:
		pr.sel(n)
	case *ast.CreateTable:
		pr.create(n)
	case *ast.Deploy:
		pr.p("DEPLOY %s", strings.Join(n.Name.Parts, "."))
		pr.options(n.Options)
		pr.p(" ")
		pr.sel(n.Query)
	case ast.Stmt:
		pr.scriptStmt(n)
	case ast.TableExpr:
		pr.table(n)
	case ast.Expr:
		pr.expr(n)
	default:
		pr.p("<%T>", n)
	}
}

// scriptStmt prints the statements of OpenMLDB scripts other than queries,
// CREATE TABLE and DEPLOY.
func (pr printer) scriptStmt(st ast.Stmt) {
	switch n := st.(type) {
	case *ast.CreateDatabase:
		pr.p("CREATE DATABASE %s%s", ifExists(n.IfNotExists, "IF NOT EXISTS "), sqlIdent(n.Name.Name))
	case *ast.Use:
		pr.p("USE %s", sqlIdent(n.DB.Name))
	case *ast.Set:
		pr.p("SET @@")
		if n.Scope != "" {
			pr.p("%s.", n.Scope)
		}
		pr.p("%s = ", sqlIdent(n.Name))
		pr.expr(n.Value)
	case *ast.LoadData:
		pr.p("LOAD DATA INFILE %s INTO TABLE %s", strconv.Quote(n.Path), sqlName(n.Table))
		pr.options(n.Options)
	case *ast.Show:
		pr.show(n)
	case *ast.Drop:
		pr.p("DROP %s %s%s", n.What, ifExists(n.IfExists, "IF EXISTS "), sqlName(n.Name))
	case *ast.Insert:
		pr.insert(n)
	default:
		pr.p("<%T>", n)
	}
}

func (pr printer) outfile(o *ast.Outfile) {
	if o != nil {
		pr.p(" INTO OUTFILE %s", strconv.Quote(o.Path))
		pr.options(o.Options)
	}
}

func (pr printer) show(s *ast.Show) {
	if s.What == "TABLE" {
		pr.p("DESC %s", sqlName(s.Name))
		return
	}
	pr.p("SHOW %s", s.What)
	if s.Name.Parts != nil {
		pr.p(" %s", sqlName(s.Name))
	}
}

func (pr printer) insert(ins *ast.Insert) {
	pr.p("INSERT INTO %s", sqlName(ins.Table))
	if ins.Columns != nil {
		cols := make([]string, len(ins.Columns))
		for i, c := range ins.Columns {
			cols[i] = sqlIdent(c.Name)
		}
		pr.p(" (%s)", strings.Join(cols, ", "))
	}
	pr.p(" VALUES ")
	for i, row := range ins.Rows {
		pr.sep(i, ", ")
		pr.p("(%s)", renderList(row))
	}
}

func ifExists(b bool, s string) string {
	if b {
		return s
	}
	return ""
}

// sqlName renders a qualified name with each part as sqlIdent does.
func sqlName(n ast.Name) string {
	parts := make([]string, len(n.Parts))
	for i, s := range n.Parts {
		parts[i] = sqlIdent(s)
	}
	return strings.Join(parts, ".")
}

// sqlIdent renders a name as written in SQL: bare when it is a word that is
// not reserved, else backquoted.
func sqlIdent(s string) string {
	plain := s != "" && isIdentStart(s[0]) && !reserved[strings.ToUpper(s)]
	for i := 0; plain && i < len(s); i++ {
		plain = isIdentChar(s[i])
	}
	if plain {
		return s
	}
	return "`" + s + "`"
}

func (pr printer) sep(i int, s string) {
	if i > 0 {
		pr.p("%s", s)
	}
}

func (pr printer) create(c *ast.CreateTable) {
	pr.p("CREATE TABLE ")
	if c.IfNotExists {
		pr.p("IF NOT EXISTS ")
	}
	pr.p("%s (", strings.Join(c.Name.Parts, "."))
	for i, col := range c.Columns {
		pr.sep(i, ", ")
		pr.p("%s %s", col.Name, col.Type)
		if col.NotNull {
			pr.p(" NOT NULL")
		}
		if col.Default != nil {
			pr.p(" DEFAULT ")
			pr.expr(col.Default)
		}
	}
	for _, idx := range c.Indexes {
		pr.p(", ")
		pr.index(idx)
	}
	pr.p(")")
	pr.options(c.Options)
}

func (pr printer) index(idx *ast.IndexDef) {
	pr.p("INDEX %s(KEY=(", idx.Name)
	for i, k := range idx.Keys {
		pr.sep(i, ", ")
		pr.p("%s", k.Name)
	}
	pr.p(")")
	if idx.TS != nil {
		pr.p(", TS=%s", idx.TS.Name)
	}
	if idx.TTL != nil {
		pr.p(", TTL=(")
		for i, v := range idx.TTL {
			pr.sep(i, ", ")
			pr.p("%d%s", v.Value, v.Unit)
		}
		pr.p(")")
	}
	if idx.TTLType != "" {
		pr.p(", TTL_TYPE=%s", idx.TTLType)
	}
	pr.p(")")
}

func (pr printer) options(opts []*ast.Option) {
	if opts == nil {
		return
	}
	pr.p(" OPTIONS(")
	for i, o := range opts {
		pr.sep(i, ", ")
		pr.p("%s=", o.Key)
		pr.expr(o.Value)
	}
	pr.p(")")
}

func (pr printer) sel(s *ast.Select) {
	pr.p("SELECT ")
	if s.Distinct {
		pr.p("DISTINCT ")
	}
	for i, it := range s.Items {
		pr.sep(i, ", ")
		pr.item(it)
	}
	if s.From != nil {
		pr.p(" FROM ")
		pr.table(s.From)
	}
	pr.clause(" WHERE ", s.Where)
	pr.list(" GROUP BY ", s.GroupBy)
	pr.clause(" HAVING ", s.Having)
	for i, w := range s.Windows {
		pr.p("%s%s AS ", map[bool]string{true: " WINDOW ", false: ", "}[i == 0], w.Name)
		pr.window(w)
	}
	pr.orderBy(s.OrderBy)
	pr.clause(" LIMIT ", s.Limit)
	if c := s.Config; c != nil {
		pr.p(" CONFIG (")
		for i, o := range c.Options {
			pr.sep(i, ", ")
			pr.p("%s = ", o.Key)
			pr.expr(o.Value)
		}
		if c.Values != nil {
			pr.sep(len(c.Options), ", ")
			pr.p("values = [")
			for i, row := range c.Values {
				pr.sep(i, ", ")
				pr.p("(")
				for j, e := range row {
					pr.sep(j, ", ")
					pr.expr(e)
				}
				pr.p(")")
			}
			pr.p("]")
		}
		pr.p(")")
	}
}

func (pr printer) item(it *ast.SelectItem) {
	switch {
	case it.Star && it.StarTable != "":
		pr.p("%s.*", it.StarTable)
	case it.Star:
		pr.p("*")
	default:
		pr.expr(it.Expr)
	}
	if it.Alias != "" {
		pr.p(" AS %s", it.Alias)
	}
}

func (pr printer) clause(kw string, e ast.Expr) {
	if e != nil {
		pr.p("%s", kw)
		pr.expr(e)
	}
}

func (pr printer) list(kw string, es []ast.Expr) {
	if es == nil {
		return
	}
	pr.p("%s", kw)
	pr.exprs(es)
}

func (pr printer) exprs(es []ast.Expr) {
	for i, e := range es {
		pr.sep(i, ", ")
		pr.expr(e)
	}
}

func (pr printer) orderBy(items []*ast.OrderItem) {
	if items == nil {
		return
	}
	pr.p(" ORDER BY ")
	for i, o := range items {
		pr.sep(i, ", ")
		pr.expr(o.Expr)
		if o.Desc {
			pr.p(" DESC")
		}
	}
}

func (pr printer) table(t ast.TableExpr) {
	switch t := t.(type) {
	case *ast.TableRef:
		pr.p("%s", strings.Join(t.Name.Parts, "."))
		pr.alias(t.Alias)
	case *ast.SubqueryTable:
		pr.p("(")
		pr.sel(t.Query)
		pr.p(")")
		pr.alias(t.Alias)
	case *ast.Join:
		pr.p("(")
		pr.table(t.Left)
		pr.p(" %s ", t.Kind)
		pr.table(t.Right)
		pr.orderBy(t.OrderBy)
		pr.clause(" ON ", t.On)
		pr.p(")")
	}
}

func (pr printer) alias(a string) {
	if a != "" {
		pr.p(" AS %s", a)
	}
}

func (pr printer) window(w *ast.WindowDef) {
	pr.p("(")
	var parts []string
	if w.Unions != nil {
		u := make([]string, len(w.Unions))
		for i, t := range w.Unions {
			u[i] = render(t)
		}
		parts = append(parts, "UNION "+strings.Join(u, ", "))
	}
	if w.PartitionBy != nil {
		parts = append(parts, "PARTITION BY "+renderList(w.PartitionBy))
	}
	if w.OrderBy != nil {
		var b strings.Builder
		printer{&b}.orderBy(w.OrderBy)
		parts = append(parts, strings.TrimSpace(b.String()))
	}
	if w.HasFrame {
		unit := map[ast.FrameUnit]string{ast.Rows: "ROWS", ast.RowsRange: "ROWS_RANGE"}[w.Unit]
		parts = append(parts, fmt.Sprintf("%s BETWEEN %s AND %s", unit, bound(w.Start), bound(w.End)))
	}
	parts = append(parts, windowFlags(w)...)
	pr.p("%s)", strings.Join(parts, " "))
}

func windowFlags(w *ast.WindowDef) []string {
	var flags []string
	if w.ExcludeCurrentRow {
		flags = append(flags, "EXCLUDE CURRENT_ROW")
	}
	if w.ExcludeCurrentTime {
		flags = append(flags, "EXCLUDE CURRENT_TIME")
	}
	if w.MaxSize != 0 {
		flags = append(flags, fmt.Sprintf("MAXSIZE %d", w.MaxSize))
	}
	if w.InstanceNotInWindow {
		flags = append(flags, "INSTANCE_NOT_IN_WINDOW")
	}
	return flags
}

func renderList(es []ast.Expr) string {
	var b strings.Builder
	printer{&b}.exprs(es)
	return b.String()
}

// bound renders a frame bound; an offset with a unit shows both, as
// 3000(3s).
func bound(b ast.FrameBound) string {
	off := strconv.FormatInt(b.Offset, 10)
	if b.Unit != "" {
		off += "(" + strconv.FormatInt(b.Offset/millisPerUnit[b.Unit], 10) + b.Unit + ")"
	}
	if b.Open {
		off += " OPEN"
	}
	switch b.Kind {
	case ast.UnboundedPreceding:
		return "UNBOUNDED PRECEDING"
	case ast.UnboundedFollowing:
		return "UNBOUNDED FOLLOWING"
	case ast.CurrentRow:
		return "CURRENT ROW"
	case ast.Preceding:
		return off + " PRECEDING"
	}
	return off + " FOLLOWING"
}

func (pr printer) expr(e ast.Expr) {
	switch e := e.(type) {
	case *ast.ColumnRef:
		pr.p("%s", strings.Join(nonEmpty(e.DB, e.Table, e.Name), "."))
	case *ast.Literal:
		pr.p("%s", literal(e))
	case *ast.Unary:
		pr.p("(%s ", e.Op)
		pr.expr(e.X)
		pr.p(")")
	case *ast.Binary:
		pr.p("(")
		pr.expr(e.L)
		pr.p(" %s ", e.Op)
		pr.expr(e.R)
		pr.p(")")
	default:
		pr.predicate(e)
	}
}

func nonEmpty(parts ...string) []string {
	var out []string
	for _, s := range parts {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func literal(l *ast.Literal) string {
	switch l.Kind {
	case ast.NullLit:
		return "NULL"
	case ast.BoolLit:
		return map[int64]string{0: "FALSE", 1: "TRUE"}[l.I]
	case ast.IntLit:
		return strconv.FormatInt(l.I, 10)
	case ast.BigIntLit:
		return strconv.FormatInt(l.I, 10) + "L"
	case ast.FloatLit:
		return strconv.FormatFloat(l.F, 'g', -1, 32) + "f"
	case ast.DoubleLit:
		s := strconv.FormatFloat(l.F, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eIN") {
			s += ".0"
		}
		return s
	}
	return strconv.Quote(l.S)
}

func (pr printer) predicate(e ast.Expr) {
	switch e := e.(type) {
	case *ast.IsNull:
		pr.p("(")
		pr.expr(e.X)
		pr.p(" IS %sNULL)", not(e.Not))
	case *ast.Like:
		pr.p("(")
		pr.expr(e.X)
		pr.p(" %s%s ", not(e.Not), e.Op)
		pr.expr(e.Pattern)
		pr.clause(" ESCAPE ", e.Escape)
		pr.p(")")
	case *ast.In:
		pr.p("(")
		pr.expr(e.X)
		pr.p(" %sIN (%s))", not(e.Not), renderList(e.List))
	case *ast.Between:
		pr.p("(")
		pr.expr(e.X)
		pr.p(" %sBETWEEN ", not(e.Not))
		pr.expr(e.Lo)
		pr.p(" AND ")
		pr.expr(e.Hi)
		pr.p(")")
	default:
		pr.compound(e)
	}
}

func not(b bool) string {
	if b {
		return "NOT "
	}
	return ""
}

func (pr printer) compound(e ast.Expr) {
	switch e := e.(type) {
	case *ast.Case:
		pr.caseExpr(e)
	case *ast.Cast:
		pr.p("CAST(")
		pr.expr(e.X)
		pr.p(" AS %s)", e.To)
	case *ast.Call:
		pr.call(e)
	case *ast.Subscript:
		pr.expr(e.X)
		pr.p("[")
		pr.expr(e.Index)
		pr.p("]")
	case *ast.ArrayLit:
		if e.Elem != 0 {
			pr.p("array<%s>", e.Elem)
		}
		pr.p("[%s]", renderList(e.Elems))
	case *ast.CEL:
		pr.p("CEL(%q)", e.Lit.S)
	case *ast.Param:
		pr.p("?")
	case *ast.Star:
		pr.p("*")
	default:
		pr.p("<%T>", e)
	}
}

func (pr printer) caseExpr(c *ast.Case) {
	pr.p("CASE")
	pr.clause(" ", c.Operand)
	for _, w := range c.Whens {
		pr.clause(" WHEN ", w.Cond)
		pr.clause(" THEN ", w.Result)
	}
	pr.clause(" ELSE ", c.Else)
	pr.p(" END")
}

func (pr printer) call(c *ast.Call) {
	pr.p("%s(", c.Name)
	switch {
	case c.Star:
		pr.p("*")
	case c.Distinct:
		pr.p("DISTINCT ")
	}
	pr.exprs(c.Args)
	pr.p(")")
	if c.Over != nil {
		pr.p(" OVER %s", c.Over.Name)
	}
	if c.OverDef != nil {
		pr.p(" OVER ")
		pr.window(c.OverDef)
	}
}
