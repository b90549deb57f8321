// Package ast is the syntax tree of fenestra's feature SQL (OpenMLDB's
// dialect): the statements of an OpenMLDB script (CREATE DATABASE/TABLE,
// USE, SET, LOAD DATA, SELECT [INTO OUTFILE], DEPLOY, SHOW, DESC, DROP,
// INSERT, EXPLAIN) and their expressions. Every node records the byte offset
// where it starts, so the checker can report errors with positions. The
// parser builds it; nothing here checks names or types.
package ast

import (
	"github.com/fenestra-dev/fenestra/featurelang/diag"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Node is any syntax-tree node.
type Node interface {
	Pos() diag.Pos
}

// Script is a parsed feature file: its statements in order.
//
// Ends[i] is the offset just past the last token of Stmts[i], not counting
// its ';' or any comment after it; Stmts[i].Pos() is the offset of its
// first token. Source.Text[Stmts[i].Pos():Ends[i]] is thus the statement as
// written (see Text), and Source.LineCol(Stmts[i].Pos()) its line.
type Script struct {
	Source *diag.Source
	Stmts  []Stmt
	Ends   []diag.Pos
}

// Text returns the source text of statement i, from its first token to its
// last (without the ';'). It returns "" when the script has no source or
// no statement i.
func (s *Script) Text(i int) string {
	if s.Source == nil || i < 0 || i >= len(s.Stmts) || i >= len(s.Ends) {
		return ""
	}
	start, end := int(s.Stmts[i].Pos()), int(s.Ends[i])
	if start < 0 || end > len(s.Source.Text) || start > end {
		return ""
	}
	return s.Source.Text[start:end]
}

// Stmt is a statement: *CreateDatabase, *CreateTable, *Use, *Set,
// *LoadData, *Query, *Deploy, *Show, *Drop, *Insert or *Explain. Pos is the
// offset of its first keyword.
type Stmt interface {
	Node
	stmt()
}

// CreateDatabase is CREATE DATABASE [IF NOT EXISTS] name.
type CreateDatabase struct {
	At          diag.Pos
	Name        Ident
	IfNotExists bool
}

// Use is USE name: it makes DB the current database.
type Use struct {
	At diag.Pos
	DB Ident
}

// Set is SET of a system variable, written SET @@name = value,
// SET @@session.name = value, SET @@global.name = value, or
// SET [SESSION|GLOBAL] name = value.
type Set struct {
	At     diag.Pos
	Scope  string   // "session" or "global" as written (lower case); "" when not given
	Name   string   // lower case, without @@ and scope
	NameAt diag.Pos // the name's first byte (after @@ and scope)
	Value  Expr     // a *Literal: string, number, TRUE or FALSE
}

// LoadData is LOAD DATA INFILE 'path' INTO TABLE name [OPTIONS(...)]. Path
// is the string's value (escapes decoded); PathAt is the offset of the
// string literal (its opening quote).
type LoadData struct {
	At      diag.Pos
	Path    string
	PathAt  diag.Pos
	Table   Name
	Options []*Option
}

// Outfile is the INTO OUTFILE 'path' [OPTIONS(...)] ending a top-level
// SELECT. At is the offset of INTO; Path and PathAt are as in LoadData.
type Outfile struct {
	At      diag.Pos
	Path    string
	PathAt  diag.Pos
	Options []*Option
}

// Show is SHOW DATABASES, SHOW TABLES, SHOW DEPLOYMENTS,
// SHOW DEPLOYMENT name, SHOW CREATE TABLE name, or DESC|DESCRIBE name.
// What is "DATABASES", "TABLES", "DEPLOYMENTS", "DEPLOYMENT",
// "CREATE TABLE" or, for DESC, "TABLE". Name is the zero Name for the forms
// without one.
type Show struct {
	At   diag.Pos
	What string
	Name Name
}

// Drop is DROP DEPLOYMENT|TABLE|DATABASE [IF EXISTS] name. What is
// "DEPLOYMENT", "TABLE" or "DATABASE".
type Drop struct {
	At       diag.Pos
	What     string
	Name     Name
	IfExists bool
}

// Insert is INSERT INTO name [(col, ...)] VALUES (expr, ...), .... Columns
// is nil when no column list is written. The rows' lengths are as written;
// matching them to the columns is the consumer's business.
type Insert struct {
	At      diag.Pos
	Table   Name
	Columns []Ident
	Rows    [][]Expr
}

// Explain is EXPLAIN SELECT ....
type Explain struct {
	At    diag.Pos
	Query *Select
}

// CreateTable is CREATE TABLE [IF NOT EXISTS] name (columns..., indexes...)
// [OPTIONS(...)].
type CreateTable struct {
	At          diag.Pos
	Name        Name
	IfNotExists bool
	Columns     []*ColumnDef
	Indexes     []*IndexDef
	Options     []*Option
}

// ColumnDef is one column of CREATE TABLE: name type [NOT NULL] [DEFAULT expr].
type ColumnDef struct {
	At      diag.Pos
	Name    string
	Type    types.Type
	NotNull bool
	Default Expr
}

// IndexDef is INDEX(KEY=(c1, c2), TS=c, TTL=..., TTL_TYPE=...). Name is the
// index name when written as INDEX name(...), else empty.
type IndexDef struct {
	At      diag.Pos
	Name    string
	Keys    []Ident
	TS      *Ident
	TTL     []TTLValue
	TTLType string // lower case: absolute, latest, absorlat, absandlat, or empty
}

// TTLValue is one TTL value as written: a number with an optional unit
// (s, m, h, d). TTL=(10d, 100) has two values.
type TTLValue struct {
	At    diag.Pos
	Value int64
	Unit  string // lower case; empty for a bare number
}

// Option is KEY = value inside OPTIONS(...).
type Option struct {
	At    diag.Pos
	Key   string
	Value Expr
}

// Deploy is DEPLOY name [OPTIONS(...)] SELECT ...: a named feature view.
type Deploy struct {
	At      diag.Pos
	Name    Name
	Options []*Option
	Query   *Select
}

// Query is a bare SELECT statement. Into is its INTO OUTFILE clause, nil
// when absent.
type Query struct {
	Query *Select
	Into  *Outfile
}

func (*CreateDatabase) stmt() {}
func (*CreateTable) stmt()    {}
func (*Use) stmt()            {}
func (*Set) stmt()            {}
func (*LoadData) stmt()       {}
func (*Deploy) stmt()         {}
func (*Query) stmt()          {}
func (*Show) stmt()           {}
func (*Drop) stmt()           {}
func (*Insert) stmt()         {}
func (*Explain) stmt()        {}

func (s *CreateDatabase) Pos() diag.Pos { return s.At }
func (s *CreateTable) Pos() diag.Pos    { return s.At }
func (s *Use) Pos() diag.Pos            { return s.At }
func (s *Set) Pos() diag.Pos            { return s.At }
func (s *LoadData) Pos() diag.Pos       { return s.At }
func (s *Deploy) Pos() diag.Pos         { return s.At }
func (s *Query) Pos() diag.Pos          { return s.Query.At }
func (s *Show) Pos() diag.Pos           { return s.At }
func (s *Drop) Pos() diag.Pos           { return s.At }
func (s *Insert) Pos() diag.Pos         { return s.At }
func (s *Explain) Pos() diag.Pos        { return s.At }
func (o *Outfile) Pos() diag.Pos        { return o.At }

// Name is a possibly qualified name such as db.table.
type Name struct {
	At    diag.Pos
	Parts []string
}

// Last returns the final part of the name.
func (n Name) Last() string {
	if len(n.Parts) == 0 {
		return ""
	}
	return n.Parts[len(n.Parts)-1]
}

// Ident is a simple identifier with its position.
type Ident struct {
	At   diag.Pos
	Name string
}

// Select is a SELECT query.
type Select struct {
	At       diag.Pos
	Distinct bool
	Items    []*SelectItem
	From     TableExpr // nil for SELECT without FROM
	Where    Expr
	GroupBy  []Expr
	Having   Expr
	Windows  []*WindowDef
	OrderBy  []*OrderItem
	Limit    Expr    // nil when absent
	Config   *Config // CONFIG (...) after a top-level query; nil when absent
}

// Config is a query's CONFIG (key = value, ...) clause (OpenMLDB 0.9):
// execute_mode ('online', 'request' or 'offline') and, for request mode,
// the request rows: values = (e, ...) for one row or [(e, ...), ...] for
// several.
type Config struct {
	At       diag.Pos
	Options  []*Option // every key but values
	Values   [][]Expr  // the request rows; nil when values is absent
	ValuesAt diag.Pos
	RowsAt   []diag.Pos // where each row of Values starts
}

// SelectItem is one projection: an expression with an optional alias, or a
// star (* or t.*).
type SelectItem struct {
	At        diag.Pos
	Expr      Expr   // nil for a star
	Alias     string // empty when not given
	Star      bool
	StarTable string // the qualifier of t.*, empty for a bare *
}

// TableExpr is a FROM item: *TableRef, *SubqueryTable or *Join.
type TableExpr interface {
	Node
	tableExpr()
}

// TableRef names a table: [db.]name [AS alias].
type TableRef struct {
	At    diag.Pos
	Name  Name
	Alias string
}

// SubqueryTable is (SELECT ...) [AS] alias.
type SubqueryTable struct {
	At    diag.Pos
	Query *Select
	Alias string
}

// JoinKind says which join a Join is.
type JoinKind uint8

// The join kinds. Only LAST JOIN is supported by the checker; the others are
// parsed so the error can say so precisely.
const (
	LastJoin JoinKind = iota
	LeftJoin
	InnerJoin
	RightJoin
	FullJoin
	CrossJoin
)

func (k JoinKind) String() string {
	return [...]string{"LAST JOIN", "LEFT JOIN", "JOIN", "RIGHT JOIN", "FULL JOIN", "CROSS JOIN"}[k]
}

// Join is Left <kind> JOIN Right [ORDER BY ...] ON cond.
type Join struct {
	At      diag.Pos
	Kind    JoinKind
	Left    TableExpr
	Right   TableExpr
	OrderBy []*OrderItem // LAST JOIN ... ORDER BY r.c
	On      Expr
}

func (*TableRef) tableExpr()      {}
func (*SubqueryTable) tableExpr() {}
func (*Join) tableExpr()          {}

func (t *TableRef) Pos() diag.Pos      { return t.At }
func (t *SubqueryTable) Pos() diag.Pos { return t.At }
func (t *Join) Pos() diag.Pos          { return t.At }

// OrderItem is an ORDER BY expression with its direction.
type OrderItem struct {
	At   diag.Pos
	Expr Expr
	Desc bool
}

// FrameUnit is ROWS or ROWS_RANGE.
type FrameUnit uint8

// The frame units.
const (
	Rows FrameUnit = iota
	RowsRange
)

// BoundKind is the kind of a frame bound.
type BoundKind uint8

// The frame bound kinds.
const (
	UnboundedPreceding BoundKind = iota
	Preceding
	CurrentRow
	Following
	UnboundedFollowing
)

// FrameBound is one end of a window frame. Offset is a row count for ROWS and
// milliseconds for ROWS_RANGE (units already applied: 3s is 3000).
type FrameBound struct {
	At     diag.Pos
	Kind   BoundKind
	Offset int64
	Unit   string // the unit as written (s, m, h, d) or empty
	Open   bool   // n OPEN PRECEDING
}

// WindowDef is a named window: name AS ([UNION t, ...] PARTITION BY ...
// ORDER BY ... frame [EXCLUDE CURRENT_ROW] [EXCLUDE CURRENT_TIME]
// [MAXSIZE n] [INSTANCE_NOT_IN_WINDOW]). An inline OVER (...) window has an
// empty Name.
type WindowDef struct {
	At                  diag.Pos
	Name                string
	Unions              []TableExpr
	PartitionBy         []Expr
	OrderBy             []*OrderItem
	HasFrame            bool
	Unit                FrameUnit
	Start, End          FrameBound
	ExcludeCurrentRow   bool
	ExcludeCurrentTime  bool
	InstanceNotInWindow bool
	MaxSize             int64 // 0 when absent
}

// Expr is an expression.
type Expr interface {
	Node
	expr()
}

// ColumnRef is a column reference: name, table.name or db.table.name.
type ColumnRef struct {
	At    diag.Pos
	DB    string
	Table string
	Name  string
}

// LitKind is the kind of a literal.
type LitKind uint8

// The literal kinds. Int is an integer literal that fits int32 (typed int32
// as in OpenMLDB); BigInt is a literal with an L suffix or too large for
// int32; Float has an f suffix.
const (
	NullLit LitKind = iota
	BoolLit
	IntLit
	BigIntLit
	FloatLit
	DoubleLit
	StringLit
)

// Literal is a constant as written.
type Literal struct {
	At   diag.Pos
	Kind LitKind
	Raw  string  // the source text
	I    int64   // BoolLit (0/1), IntLit, BigIntLit
	F    float64 // FloatLit, DoubleLit
	S    string  // StringLit, after escape processing
	// ValueAt is the offset of the first byte of a string literal's content
	// (after the opening quote). Offsets maps byte k of S to its source
	// offset when the literal contained escapes; it is nil otherwise.
	ValueAt diag.Pos
	Offsets []diag.Pos
}

// SourcePos returns the source offset of byte k of a string literal's value.
func (l *Literal) SourcePos(k int) diag.Pos {
	if l.Offsets != nil {
		if k < len(l.Offsets) {
			return l.Offsets[k]
		}
		if n := len(l.Offsets); n > 0 {
			return l.Offsets[n-1] + 1
		}
	}
	return l.ValueAt + diag.Pos(k)
}

// Unary is a prefix operator: "-", "+", "NOT" (also written !), "~".
type Unary struct {
	At diag.Pos
	Op string
	X  Expr
}

// Binary is an infix operator. Op is upper case and canonical:
// + - * / % DIV AND OR XOR = != < <= > >= & | ^.
// (MOD is written as %, == as =, <> as !=, && as AND, || as OR.)
type Binary struct {
	At   diag.Pos // position of the operator
	Op   string
	L, R Expr
}

// IsNull is x IS [NOT] NULL.
type IsNull struct {
	At  diag.Pos
	X   Expr
	Not bool
}

// Like is x [NOT] LIKE|ILIKE|RLIKE pattern [ESCAPE e]. Op is upper case.
type Like struct {
	At      diag.Pos
	Op      string
	X       Expr
	Pattern Expr
	Escape  Expr // nil when absent
	Not     bool
}

// In is x [NOT] IN (list).
type In struct {
	At   diag.Pos
	X    Expr
	List []Expr
	Not  bool
}

// Between is x [NOT] BETWEEN lo AND hi.
type Between struct {
	At     diag.Pos
	X      Expr
	Lo, Hi Expr
	Not    bool
}

// When is one WHEN cond THEN result arm of a CASE.
type When struct {
	Cond, Result Expr
}

// Case is CASE [operand] WHEN ... THEN ... [ELSE ...] END.
type Case struct {
	At      diag.Pos
	Operand Expr // nil for a searched CASE
	Whens   []When
	Else    Expr // nil when absent
}

// Cast is CAST(x AS type).
type Cast struct {
	At diag.Pos
	X  Expr
	To types.Type
}

// Call is a function call name(args) [OVER window]. count(*) has Star set and
// no Args. Name is lower case. A type name called as a function (int(x),
// string(x)) is a Call too.
type Call struct {
	At       diag.Pos
	Name     string
	Args     []Expr
	Star     bool
	Distinct bool
	Over     *Ident     // OVER name; nil when absent
	OverDef  *WindowDef // OVER (...); nil when absent
}

// Subscript is x[index], e.g. map(...)[k] or split(...)[0].
type Subscript struct {
	At    diag.Pos
	X     Expr
	Index Expr
}

// ArrayLit is [e1, e2, ...] or ARRAY<T>[e1, ...]. Elem is the declared
// element type, or 0 (types.Null) when undeclared.
type ArrayLit struct {
	At    diag.Pos
	Elems []Expr
	Elem  types.Type
}

// CEL is CEL('<cel source>'): an expression written in the Common Expression
// Language. Lit is the string literal holding the source, for mapping CEL
// error positions back into the SQL file.
type CEL struct {
	At  diag.Pos
	Lit *Literal
}

// Param is a positional query parameter "?" (parsed; not supported).
type Param struct {
	At diag.Pos
}

// Star is a bare * passed as a function argument among other arguments, as
// in count_where(*, cond). A sole * argument, count(*), sets Call.Star
// instead and never produces a Star.
type Star struct {
	At diag.Pos
}

func (*ColumnRef) expr() {}
func (*Literal) expr()   {}
func (*Unary) expr()     {}
func (*Binary) expr()    {}
func (*IsNull) expr()    {}
func (*Like) expr()      {}
func (*In) expr()        {}
func (*Between) expr()   {}
func (*Case) expr()      {}
func (*Cast) expr()      {}
func (*Call) expr()      {}
func (*Subscript) expr() {}
func (*ArrayLit) expr()  {}
func (*CEL) expr()       {}
func (*Param) expr()     {}
func (*Star) expr()      {}

func (e *ColumnRef) Pos() diag.Pos { return e.At }
func (e *Literal) Pos() diag.Pos   { return e.At }
func (e *Unary) Pos() diag.Pos     { return e.At }
func (e *Binary) Pos() diag.Pos    { return e.At }
func (e *IsNull) Pos() diag.Pos    { return e.At }
func (e *Like) Pos() diag.Pos      { return e.At }
func (e *In) Pos() diag.Pos        { return e.At }
func (e *Between) Pos() diag.Pos   { return e.At }
func (e *Case) Pos() diag.Pos      { return e.At }
func (e *Cast) Pos() diag.Pos      { return e.At }
func (e *Call) Pos() diag.Pos      { return e.At }
func (e *Subscript) Pos() diag.Pos { return e.At }
func (e *ArrayLit) Pos() diag.Pos  { return e.At }
func (e *CEL) Pos() diag.Pos       { return e.At }
func (e *Param) Pos() diag.Pos     { return e.At }
func (e *Star) Pos() diag.Pos      { return e.At }
func (s *Select) Pos() diag.Pos    { return s.At }
