package eval_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// This file generates random feature queries with their tables, stored
// rows and request rows, for the differential tests of request mode against
// batch mode. Every case has a request table t1; it may have t2 (t1's
// schema, for WINDOW UNION) and t3 (a table LAST JOINed to t1 by key).

// genCase is one generated case. Its query is kept in parts so that a
// failing case can be shrunk.
type genCase struct {
	seed   uint64
	tables []*plan.Table
	rows   map[string][][]types.Value // stored rows by table, arrival order
	query  genQuery
	reqs   [][]types.Value // request rows of t1
}

// genQuery is a SELECT in parts. Window i is named w<i>; only the windows
// an item uses are rendered.
type genQuery struct {
	items   []genItem
	from    string
	id      string // the id of t1's row in from
	where   string
	windows []string // definitions without the name: "(PARTITION BY ...)"
	// innerWhere is set when from holds a subquery with a WHERE.
	innerWhere bool
}

// probeSQL returns a query over the same rows giving the id of the t1 row
// behind each output row.
func (q *genQuery) probeSQL() string {
	s := "SELECT " + q.id + " AS id FROM " + q.from
	if q.where != "" {
		s += " WHERE " + q.where
	}
	return s
}

// filtered reports whether the query may drop rows of t1.
func (q *genQuery) filtered() bool { return q.where != "" || q.innerWhere }

type genItem struct {
	sql  string // without the alias
	wins []int  // the windows it uses
}

// SQL renders the query.
func (q *genQuery) SQL() string {
	var sb strings.Builder
	sb.WriteString("SELECT ")
	used := map[int]bool{}
	for i, it := range q.items {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "%s AS o%d", it.sql, i)
		for _, w := range it.wins {
			used[w] = true
		}
	}
	sb.WriteString(" FROM " + q.from)
	if q.where != "" {
		sb.WriteString(" WHERE " + q.where)
	}
	var defs []string
	for i, w := range q.windows {
		if used[i] {
			defs = append(defs, fmt.Sprintf("w%d AS %s", i, w))
		}
	}
	if len(defs) > 0 {
		sb.WriteString(" WINDOW " + strings.Join(defs, ", "))
	}
	return sb.String()
}

// gen draws one case.
type gen struct {
	r      *rand.Rand
	nullTS bool  // order values may be NULL
	tsBase int64 // order values are tsBase + small offsets
	keys   []types.Value
	c      *genCase
}

type genCol struct {
	ref string // "t1.c1"
	t   types.Type
}

// relation is what a query's FROM gives its windows and items.
type relation struct {
	from   string
	id     string // t1's id column as the query sees it
	cols   []genCol
	parts  []string // partition expressions
	orders []string // order expressions
	union  bool     // windows may UNION t2
	// filtered is set when from drops rows of t1 (a WHERE in a subquery)
	filtered bool
}

var valueTypes = []types.Type{types.Int32, types.Int64, types.Double, types.Float, types.String, types.Bool, types.Timestamp}

var keyTypes = []types.Type{types.String, types.Int32, types.Int64, types.Timestamp}

// The shapes of FROM a case can have.
const (
	shapePlain    = iota // t1
	shapeUnion           // t1, windows may UNION t2
	shapeJoin            // t1 LAST JOIN t3
	shapeSelfJoin        // t1 LAST JOIN t1 AS b
	shapeSubquery        // (SELECT with windows over t1 [LAST JOIN t3]) AS q
	nShapes
)

// newCase generates the case of a seed.
func newCase(seed uint64) *genCase {
	g := &gen{r: rand.New(rand.NewPCG(seed, 0x5eed)), c: &genCase{seed: seed, rows: map[string][][]types.Value{}}}
	g.nullTS = g.r.IntN(4) == 0
	switch g.r.IntN(10) {
	case 0:
		g.tsBase = math.MaxInt64 - 20 // saturating range bounds
	case 1:
		g.tsBase = math.MinInt64 // a NULL order value ties with the first
	default:
		g.tsBase = 1_700_000_000_000
	}
	keyType := pick(g.r, keyTypes)
	g.keys = g.keyPool(keyType)
	shape := g.r.IntN(nShapes)
	join := shape == shapeJoin || shape == shapeSubquery && g.r.IntN(2) == 0
	t1, t3 := g.tables(keyType, shape == shapeUnion, join)
	g.fill()
	g.c.query = g.query(g.relation(shape, t1, t3))
	g.requests(t1)
	return g.c
}

// tables makes t1 (with an arrival id column), t2 when union is set and
// t3 when join is set.
func (g *gen) tables(keyType types.Type, union, join bool) (t1, t3 *plan.Table) {
	t1 = g.table("t1", keyType, "k", "ts", "c", 1+g.r.IntN(4))
	t1.Schema = append(t1.Schema, types.Field{Name: "id", Type: types.Int64})
	g.c.tables = append(g.c.tables, t1)
	if union {
		g.c.tables = append(g.c.tables, &plan.Table{Name: "t2", Schema: slices.Clone(t1.Schema)})
	}
	if join {
		jk := keyType
		if jk.IsInteger() { // any integer width joins an integer key
			jk = pick(g.r, []types.Type{types.Int32, types.Int64})
		}
		t3 = g.table("t3", jk, "jk", "jts", "v", 1+g.r.IntN(3))
		if g.r.IntN(2) == 0 {
			t3.Indexes = []*plan.Index{{Name: "i", Keys: []string{"jk"}, TS: "jts"}}
		}
		g.c.tables = append(g.c.tables, t3)
	}
	return t1, t3
}

// fill draws the stored rows of every table; t1 and t2 rows get distinct
// ids.
func (g *gen) fill() {
	for ti, t := range g.c.tables {
		n := g.r.IntN(12)
		if g.r.IntN(8) == 0 {
			n = g.r.IntN(40) // longer partitions
		}
		for i := range n {
			row := g.row(t)
			if t.Name != "t3" {
				row[len(row)-1] = types.Int64Value(int64(100*ti + i))
			}
			g.c.rows[t.Name] = append(g.c.rows[t.Name], row)
		}
	}
}

// relation returns the FROM of the case's shape.
func (g *gen) relation(shape int, t1, t3 *plan.Table) *relation {
	rel := &relation{from: "t1", id: "t1.id", cols: tableCols(t1, "t1"), parts: []string{"t1.k"}, orders: []string{"t1.ts"}, union: shape == shapeUnion}
	for _, c := range rel.cols[2:] { // other order columns, with NULLs
		if c.t == types.Timestamp || c.t == types.Int64 {
			rel.orders = append(rel.orders, c.ref)
		}
	}
	if t3 != nil {
		alias := "t3"
		if g.r.IntN(4) == 0 {
			alias = "s" // a subquery over t3
		}
		rel.from = g.joinClause(t3, alias, "jk", "jts")
		rel.cols = append(rel.cols, tableCols(t3, alias)...)
		rel.parts = append(rel.parts, alias+".jk")
		rel.orders = append(rel.orders, alias+".jts")
	}
	if shape == shapeSelfJoin {
		rel.from = g.joinClause(t1, "b", "k", "ts")
		rel.cols = append(rel.cols, tableCols(t1, "b")...)
		rel.parts = append(rel.parts, "b.k")
		rel.orders = append(rel.orders, "b.ts")
	}
	if shape == shapeSubquery {
		rel = g.subquery(rel)
	}
	return rel
}

// subquery wraps rel in a SELECT that adds window aggregates, aliased q.
func (g *gen) subquery(rel *relation) *relation {
	inner := g.query(rel)
	sql := inner.SQL()
	sql = "SELECT *, " + strings.TrimPrefix(sql, "SELECT ")
	p, err := featurelang.CompileQuery("inner.sql", sql, g.c.tables, featurelang.Options{})
	if err != nil {
		panic(fmt.Sprintf("gen: inner query does not compile: %v\n%s", err, sql))
	}
	out := &relation{from: "(" + sql + ") AS q", id: "q.id", filtered: inner.where != ""}
	for _, f := range p.Output {
		if f.Name == "id" {
			continue
		}
		out.cols = append(out.cols, genCol{ref: "q." + f.Name, t: f.Type})
	}
	out.parts = []string{"q.k"}
	out.orders = []string{"q.ts"}
	return out
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// keyPool returns two or three key values and NULL.
func (g *gen) keyPool(t types.Type) []types.Value {
	out := []types.Value{types.NullOf(t)}
	for i := range 2 + g.r.IntN(2) {
		switch t {
		case types.String:
			out = append(out, types.StringValue(string(rune('a'+i))))
		case types.Timestamp:
			out = append(out, types.TimestampValue(int64(i+1)))
		default:
			out = append(out, types.IntValue(t, int64(i+1)))
		}
	}
	return out
}

// table makes a table: a key, an order column and n value columns.
func (g *gen) table(name string, key types.Type, kname, tsname, prefix string, n int) *plan.Table {
	t := &plan.Table{Name: name}
	t.Schema = append(t.Schema, types.Field{Name: kname, Type: key})
	t.Schema = append(t.Schema, types.Field{Name: tsname, Type: pick(g.r, []types.Type{types.Timestamp, types.Int64})})
	for i := range n {
		t.Schema = append(t.Schema, types.Field{Name: fmt.Sprintf("%s%d", prefix, i+1), Type: pick(g.r, valueTypes)})
	}
	return t
}

// row draws a stored row: key from the pool (converted to the column's
// type), order value with ties, values with NULLs and special floats.
func (g *gen) row(t *plan.Table) []types.Value {
	row := make([]types.Value, len(t.Schema))
	row[0] = g.key(t.Schema[0].Type)
	row[1] = g.ts(t.Schema[1].Type, int64(g.r.IntN(12)))
	for i := 2; i < len(row); i++ {
		row[i] = g.value(t.Schema[i].Type)
	}
	return row
}

func (g *gen) key(t types.Type) types.Value {
	k := pick(g.r, g.keys)
	if k.Null {
		return types.NullOf(t)
	}
	if t.IsInteger() {
		return types.IntValue(t, k.I)
	}
	return k
}

func (g *gen) ts(t types.Type, off int64) types.Value {
	if g.nullTS && g.r.IntN(8) == 0 {
		return types.NullOf(t)
	}
	return types.Value{Type: t, I: g.tsBase + off}
}

var (
	doubles = []float64{0, math.Copysign(0, -1), 1, 1.5, -2.25, 0.1, 3, 1e308, math.NaN(), math.Inf(1), math.Inf(-1), 5e-324}
	ints    = []int64{0, 1, 2, 3, -1, -7, 100, math.MaxInt32, math.MinInt32, math.MaxInt64}
	strs    = []string{"", "a", "b", "ab", "b"}
)

func (g *gen) value(t types.Type) types.Value {
	if g.r.IntN(5) == 0 {
		return types.NullOf(t)
	}
	small := g.r.IntN(4) != 0 // mostly small values, so duplicates are common
	switch t {
	case types.Int32, types.Int64:
		if small {
			return types.IntValue(t, int64(g.r.IntN(5))-1)
		}
		return types.IntValue(t, pick(g.r, ints))
	case types.Double, types.Float:
		f := pick(g.r, doubles[:7])
		if !small {
			f = pick(g.r, doubles)
		}
		if t == types.Float {
			return types.FloatValue(f)
		}
		return types.DoubleValue(f)
	case types.String:
		return types.StringValue(pick(g.r, strs))
	case types.Bool:
		return types.BoolValue(g.r.IntN(2) == 0)
	case types.Timestamp:
		return types.TimestampValue(int64(g.r.IntN(6)))
	}
	panic("gen: no values of " + t.String())
}

// joinClause returns "t1 LAST JOIN right [ORDER BY ...] ON ...", right
// being aliased as alias when that is not its name; the alias "s" makes it
// a filtering subquery.
func (g *gen) joinClause(right *plan.Table, alias, key, ts string) string {
	s := "t1 LAST JOIN " + right.Name
	switch {
	case alias == "s":
		s = fmt.Sprintf("t1 LAST JOIN (SELECT * FROM %s WHERE %s) AS s", right.Name, g.cond(tableCols(right, right.Name)))
	case alias != right.Name:
		s += " AS " + alias
	}
	switch g.r.IntN(3) {
	case 0:
		s += " ORDER BY " + alias + "." + ts
	case 1:
		if g.r.IntN(2) == 0 {
			s += " ORDER BY " + alias + "." + ts + " DESC"
		}
	}
	s += " ON t1.k = " + alias + "." + key
	if g.r.IntN(3) == 0 {
		s += " AND " + g.cond(tableCols(right, alias))
	}
	return s
}

func tableCols(t *plan.Table, qual string) []genCol {
	var out []genCol
	for _, f := range t.Schema {
		if f.Name == "id" { // arrival ids are the harness's, not the query's
			continue
		}
		out = append(out, genCol{ref: qual + "." + f.Name, t: f.Type})
	}
	return out
}

// cond returns a boolean condition over one of cols.
func (g *gen) cond(cols []genCol) string {
	for range 10 {
		c := pick(g.r, cols)
		switch {
		case g.r.IntN(5) == 0:
			return c.ref + " IS NULL"
		case c.t == types.Bool:
			return c.ref
		case c.t.IsNumeric():
			return fmt.Sprintf("%s %s %d", c.ref, pick(g.r, []string{">", "<", ">=", "="}), g.r.IntN(3))
		case c.t == types.String:
			return fmt.Sprintf("%s %s 'a'", c.ref, pick(g.r, []string{">", "<", "="}))
		}
	}
	return cols[0].ref + " IS NOT NULL"
}

// query generates windows over rel, select items and maybe a WHERE.
func (g *gen) query(rel *relation) genQuery {
	q := genQuery{from: rel.from, id: rel.id, innerWhere: rel.filtered}
	for range 1 + g.r.IntN(3) {
		q.windows = append(q.windows, g.window(rel))
	}
	if g.r.IntN(3) == 0 {
		q.items = append(q.items, genItem{sql: rel.parts[0]})
	}
	if g.r.IntN(3) == 0 {
		q.items = append(q.items, genItem{sql: rel.orders[0]})
	}
	if g.r.IntN(3) == 0 {
		q.items = append(q.items, genItem{sql: pick(g.r, rel.cols).ref})
	}
	for range 1 + g.r.IntN(5) {
		q.items = append(q.items, g.item(rel, len(q.windows)))
	}
	if g.r.IntN(5) == 0 {
		q.where = g.cond(rel.cols)
	}
	return q
}

// window generates one window definition over rel.
func (g *gen) window(rel *relation) string {
	var sb strings.Builder
	sb.WriteString("(")
	union := rel.union && g.r.IntN(3) != 0
	if union {
		sb.WriteString("UNION " + g.unionSources() + " ")
	}
	part := pick(g.r, rel.parts)
	if g.r.IntN(10) == 0 {
		part = "(" + part + " IS NULL)" // an expression: no pushdown
	}
	sb.WriteString("PARTITION BY " + part)
	if g.r.IntN(6) == 0 {
		for _, c := range rel.cols {
			if (c.t == types.Bool || c.t == types.String || c.t.IsInteger()) && !slices.Contains(rel.parts, c.ref) {
				sb.WriteString(", " + c.ref)
				break
			}
		}
	}
	rows := g.r.IntN(2) == 0
	noOrder := !union && g.r.IntN(8) == 0
	if !noOrder {
		order := rel.orders[0]
		if g.r.IntN(3) == 0 {
			order = pick(g.r, rel.orders)
		}
		sb.WriteString(" ORDER BY " + order)
	}
	unit := "ROWS_RANGE"
	if rows {
		unit = "ROWS"
	}
	var start, end string
	if noOrder && !rows {
		start, end = "UNBOUNDED PRECEDING", "CURRENT ROW"
	} else {
		n, m := int64(g.r.IntN(6)), int64(0)
		if g.r.IntN(3) == 0 && n > 0 {
			m = int64(g.r.IntN(int(n) + 1))
		}
		start = g.bound(n, g.r.IntN(5) == 0)
		end = g.bound(m, false)
	}
	fmt.Fprintf(&sb, " %s BETWEEN %s AND %s", unit, start, end)
	if g.r.IntN(4) == 0 {
		sb.WriteString(" EXCLUDE CURRENT_ROW")
	}
	if !noOrder && g.r.IntN(4) == 0 {
		sb.WriteString(" EXCLUDE CURRENT_TIME")
	}
	if !rows && g.r.IntN(4) == 0 {
		fmt.Fprintf(&sb, " MAXSIZE %d", 1+g.r.IntN(4))
	}
	if union && g.r.IntN(3) == 0 {
		sb.WriteString(" INSTANCE_NOT_IN_WINDOW")
	}
	sb.WriteString(")")
	return sb.String()
}

// unionSources returns the tables of a WINDOW UNION: t2, t1 itself, or a
// filtering subquery over t2.
func (g *gen) unionSources() string {
	switch g.r.IntN(6) {
	case 0:
		return "t1"
	case 1:
		return "t2, t1"
	case 2:
		return "(SELECT * FROM t2 WHERE " + g.cond(tableCols(g.c.tables[1], "t2")) + ") AS u"
	}
	return "t2"
}

// bound renders a frame bound of offset n: UNBOUNDED, CURRENT ROW, or
// n [OPEN] PRECEDING.
func (g *gen) bound(n int64, unbounded bool) string {
	switch {
	case unbounded:
		return "UNBOUNDED PRECEDING"
	case n == 0 && g.r.IntN(2) == 0:
		return "CURRENT ROW"
	case g.r.IntN(4) == 0:
		return fmt.Sprintf("%d OPEN PRECEDING", n)
	}
	return fmt.Sprintf("%d PRECEDING", n)
}

// item generates a select item using one or two aggregates over the
// windows w0..w<nWin-1>.
func (g *gen) item(rel *relation, nWin int) genItem {
	w := g.r.IntN(nWin)
	a, at := g.agg(rel, w)
	switch g.r.IntN(6) {
	case 0:
		w2 := g.r.IntN(nWin)
		b, bt := g.agg(rel, w2)
		if at.IsNumeric() && bt.IsNumeric() {
			return genItem{sql: fmt.Sprintf("(%s) + (%s)", a, b), wins: []int{w, w2}}
		}
	case 1:
		return genItem{sql: fmt.Sprintf("(%s) IS NULL", a), wins: []int{w}}
	case 2:
		if at.IsNumeric() {
			return genItem{sql: fmt.Sprintf("(%s) * 2 > 1", a), wins: []int{w}}
		}
	}
	return genItem{sql: a, wins: []int{w}}
}

// agg generates an aggregate over window w and returns it with a rough
// result type (whether it is numeric is all that matters).
func (g *gen) agg(rel *relation, w int) (string, types.Type) {
	over := fmt.Sprintf(" OVER w%d", w)
	c := pick(g.r, rel.cols)
	switch g.r.IntN(12) {
	case 0:
		return "count(*)" + over, types.Int64
	case 1:
		return fmt.Sprintf("count(%s)", c.ref) + over, types.Int64
	case 2:
		return fmt.Sprintf("distinct_count(%s)", c.ref) + over, types.Int64
	case 3:
		return fmt.Sprintf("count_where(%s, %s)", c.ref, g.cond(rel.cols)) + over, types.Int64
	case 4:
		if g.r.IntN(4) == 0 {
			return fmt.Sprintf("lag(%s, %d, true)", c.ref, g.r.IntN(5)) + over, c.t
		}
		return fmt.Sprintf("lag(%s, %d)", c.ref, g.r.IntN(5)) + over, c.t
	case 5:
		return fmt.Sprintf("first_value(%s)", c.ref) + over, c.t
	case 6:
		return fmt.Sprintf("last_value(%s)", c.ref) + over, c.t
	}
	num := g.colOf(rel, func(t types.Type) bool { return t.IsNumeric() })
	ord := g.colOf(rel, func(t types.Type) bool { return t.IsNumeric() || t == types.String || t == types.Timestamp })
	switch {
	case g.r.IntN(10) == 0 && num.ref != "": // an aggregate nested in another
		if g.r.IntN(2) == 0 {
			return fmt.Sprintf("sum(%s - avg(%s)%s)", num.ref, num.ref, over) + over, types.Double
		}
		return fmt.Sprintf("count_where(%s, %s > avg(%s)%s)", c.ref, num.ref, num.ref, over) + over, types.Int64
	case g.r.IntN(5) == 0 && num.ref != "":
		return fmt.Sprintf("sum_where(%s, %s)", num.ref, g.cond(rel.cols)) + over, num.t
	case g.r.IntN(2) == 0 && num.ref != "":
		return fmt.Sprintf("%s(%s)", pick(g.r, []string{"sum", "avg"}), num.ref) + over, num.t
	case ord.ref != "":
		return fmt.Sprintf("%s(%s)", pick(g.r, []string{"min", "max"}), ord.ref) + over, ord.t
	}
	return "count(*)" + over, types.Int64
}

// colOf returns a random column of rel whose type satisfies ok (ref ""
// if none).
func (g *gen) colOf(rel *relation, ok func(types.Type) bool) genCol {
	var fit []genCol
	for _, c := range rel.cols {
		if ok(c.t) {
			fit = append(fit, c)
		}
	}
	if len(fit) == 0 {
		return genCol{}
	}
	return pick(g.r, fit)
}

// requests draws request rows of t1: order values before, equal to and
// after stored ones, NULL keys and fresh keys.
func (g *gen) requests(t1 *plan.Table) {
	var stored []int64
	for _, r := range g.c.rows["t1"] {
		if !r[1].Null {
			stored = append(stored, r[1].I-g.tsBase)
		}
	}
	offs := []int64{int64(g.r.IntN(4)), 13}
	if len(stored) > 0 {
		offs = append(offs, pick(g.r, stored))
	}
	for i, off := range offs {
		row := g.row(t1)
		row[len(row)-1] = types.Int64Value(int64(1000 + i))
		row[1] = g.ts(t1.Schema[1].Type, off)
		if g.r.IntN(6) == 0 { // a key no stored row has
			switch kt := t1.Schema[0].Type; kt {
			case types.String:
				row[0] = types.StringValue("zz")
			default:
				row[0] = types.Value{Type: kt, I: 99}
			}
		}
		g.c.reqs = append(g.c.reqs, row)
	}
}
