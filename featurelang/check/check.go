// Package check turns parsed feature SQL into plans: it resolves table and
// column names, types every expression (operators and functions through
// package funcs, aggregates through package agg, CEL through package
// celexpr), validates windows and joins, and reports every problem with its
// position. Errors are collected (up to diag.MaxErrors) rather than stopping
// at the first.
package check

import (
	"fmt"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/diag"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Catalog holds the tables a query may read, by qualified name
// (plan.Qualify: "db.t", or "t" in the default database).
type Catalog map[string]*plan.Table

// resolve finds the table a statement names: a name qualified by a
// database is looked up in that database, an unqualified one in the
// current database db.
func (c Catalog) resolve(n ast.Name, db string) (*plan.Table, string) {
	full := plan.Qualify(db, n.Last())
	if len(n.Parts) > 1 {
		full = plan.Qualify(n.Parts[len(n.Parts)-2], n.Last())
	}
	return c.lookup(full), full
}

// lookup finds a table by exact qualified name, else case-insensitively.
func (c Catalog) lookup(name string) *plan.Table {
	if t, ok := c[name]; ok {
		return t
	}
	for n, t := range c {
		if strings.EqualFold(n, name) {
			return t
		}
	}
	return nil
}

// Options tune checking.
type Options struct {
	// CELCostLimit bounds each evaluation of each CEL expression (0: the
	// celexpr default).
	CELCostLimit uint64
	// DB is the current database (a script's USE): unqualified table
	// names are looked up in it. Empty is the default database.
	DB string
	// LongWindows are the view's long windows (DeployOptions or
	// LongWindows parse them). Each must be a window of the query; the
	// plan records how it and each aggregate over it would be tiled.
	LongWindows []LongWindow
	// Deploy is set when the query is deployed, to serve requests: what
	// only batch mode runs (GROUP BY, whole-table aggregates) is an
	// error.
	Deploy bool
}

// checker holds the state of checking one statement.
type checker struct {
	src  *diag.Source
	cat  Catalog
	opts Options
	errs *diag.List
	used []*plan.Table // tables read, in first-use order
	// sets and aggs are every SELECT's windows and every aggregate call,
	// for the long-window check.
	sets []*windowSet
	aggs []aggUse
}

func (c *checker) errorf(p diag.Pos, format string, args ...any) {
	c.errs.Add(c.src, p, format, args...)
}

// use records that the query reads t.
func (c *checker) use(t *plan.Table) {
	for _, u := range c.used {
		if u == t {
			return
		}
	}
	c.used = append(c.used, t)
}

// Query checks a SELECT against cat and returns its plan, named name (the
// DEPLOY name, or empty). errs receives the errors; the plan is nil when
// there were any.
func Query(src *diag.Source, q *ast.Select, cat Catalog, name string, opts Options, errs *diag.List) *plan.Plan {
	c := &checker{src: src, cat: cat, opts: opts, errs: errs}
	before := errs.Len()
	rel := c.query(q)
	if rel == nil || errs.Len() > before {
		return nil
	}
	if len(opts.LongWindows) > 0 {
		if c.longWindows(opts.LongWindows); errs.Len() > before {
			return nil
		}
	}
	zone := types.ZoneName()
	if zone == types.DefaultZone {
		zone = ""
	}
	p := &plan.Plan{
		Format:       plan.Format,
		Name:         name,
		TimeZone:     zone,
		Tables:       c.used,
		RequestTable: requestTable(rel.node),
		Root:         rel.node,
		Output:       rel.node.Schema,
	}
	if q.Config != nil && !c.config(q.Config, p) {
		return nil
	}
	return p
}

// requestTable returns the table at the bottom of the left-most path: the
// table whose rows are requests in request mode.
func requestTable(n *plan.Node) string {
	for n != nil {
		if n.Op == plan.Scan {
			return n.Table
		}
		n = n.Input
	}
	return ""
}

// Table checks a CREATE TABLE statement in the current database db and
// returns the table definition, named by its qualified name (a name
// qualified by a database is created in that database).
func Table(src *diag.Source, ct *ast.CreateTable, db string, errs *diag.List) *plan.Table {
	c := &checker{src: src, errs: errs}
	if len(ct.Name.Parts) > 1 {
		db = ct.Name.Parts[len(ct.Name.Parts)-2]
	}
	return c.createTable(ct, plan.Qualify(db, ct.Name.Last()))
}

func (c *checker) createTable(ct *ast.CreateTable, name string) *plan.Table {
	t := &plan.Table{Name: name}
	for _, col := range ct.Columns {
		if t.Schema.Index(col.Name) >= 0 {
			c.errorf(col.At, "duplicate column %q", col.Name)
			continue
		}
		if !col.Type.IsScalar() || col.Type == types.Null {
			c.errorf(col.At, "column %q: type %s cannot be stored", col.Name, col.Type)
			continue
		}
		t.Schema = append(t.Schema, types.Field{Name: col.Name, Type: col.Type})
	}
	if len(t.Schema) == 0 && len(ct.Columns) == 0 {
		c.errorf(ct.At, "table %q has no columns", t.Name)
	}
	for _, ix := range ct.Indexes {
		if idx := c.index(t, ix); idx != nil {
			t.Indexes = append(t.Indexes, idx)
		}
	}
	return t
}

// ttlUnits converts TTL units to milliseconds. A bare number in an absolute
// TTL means minutes, as in OpenMLDB.
var ttlUnits = map[string]int64{"": 60_000, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}

func (c *checker) index(t *plan.Table, ix *ast.IndexDef) *plan.Index {
	idx := &plan.Index{Name: ix.Name, TTLType: ix.TTLType}
	ok := true
	for _, k := range ix.Keys {
		i := t.Schema.Index(k.Name)
		if i < 0 {
			c.errorf(k.At, "index key %q is not a column of %s", k.Name, t.Name)
			ok = false
			continue
		}
		idx.Keys = append(idx.Keys, t.Schema[i].Name)
	}
	if len(ix.Keys) == 0 {
		c.errorf(ix.At, "index needs KEY=column")
		ok = false
	}
	if ix.TS != nil {
		i := t.Schema.Index(ix.TS.Name)
		switch {
		case i < 0:
			c.errorf(ix.TS.At, "index TS %q is not a column of %s", ix.TS.Name, t.Name)
			ok = false
		case t.Schema[i].Type != types.Timestamp && t.Schema[i].Type != types.Int64:
			c.errorf(ix.TS.At, "index TS %q must be a timestamp or int64 column, not %s", ix.TS.Name, t.Schema[i].Type)
			ok = false
		default:
			idx.TS = t.Schema[i].Name
		}
	}
	if !c.ttl(idx, ix) || !ok {
		return nil
	}
	return idx
}

// ttl interprets TTL and TTL_TYPE: absolute takes a duration, latest a row
// count, absorlat and absandlat a (duration, count) pair.
func (c *checker) ttl(idx *plan.Index, ix *ast.IndexDef) bool {
	if idx.TTLType == "" && len(ix.TTL) > 0 {
		idx.TTLType = "absolute"
	}
	abs := func(v ast.TTLValue) bool {
		mult, ok := ttlUnits[v.Unit]
		if !ok {
			c.errorf(v.At, "unknown TTL unit %q; use s, m, h or d", v.Unit)
			return false
		}
		idx.TTLAbs = v.Value * mult
		return true
	}
	lat := func(v ast.TTLValue) bool {
		if v.Unit != "" {
			c.errorf(v.At, "a latest TTL counts rows and takes no unit")
			return false
		}
		idx.TTLLat = v.Value
		return true
	}
	switch {
	case len(ix.TTL) == 0:
		return true
	case idx.TTLType == "absolute" && len(ix.TTL) == 1:
		return abs(ix.TTL[0])
	case idx.TTLType == "latest" && len(ix.TTL) == 1:
		return lat(ix.TTL[0])
	case (idx.TTLType == "absorlat" || idx.TTLType == "absandlat") && len(ix.TTL) == 2:
		return abs(ix.TTL[0]) && lat(ix.TTL[1])
	case idx.TTLType == "absolute" || idx.TTLType == "latest" || idx.TTLType == "absorlat" || idx.TTLType == "absandlat":
		c.errorf(ix.TTL[0].At, "TTL_TYPE=%s takes %s", idx.TTLType, map[bool]string{true: "one value", false: "two values: (duration, count)"}[idx.TTLType == "absolute" || idx.TTLType == "latest"])
	default:
		c.errorf(ix.At, "unknown TTL_TYPE %q; use absolute, latest, absorlat or absandlat", idx.TTLType)
	}
	return false
}

// relation is a checked FROM item or query: its plan node and, per output
// column, the names it can be referred to by.
type relation struct {
	node *plan.Node
	cols []colName
}

// colName is how a column can be referenced: [db.][qual.]name.
type colName struct {
	db, qual, name string
}

func (r *relation) schema() types.Schema { return r.node.Schema }

// lookup resolves a column reference: the first column whose name (and
// qualifier, when given) matches. ambiguous is set when an unqualified name
// matches columns of different qualifiers.
func (r *relation) lookup(db, qual, name string) (idx int, ambiguous bool) {
	idx = -1
	for i, cn := range r.cols {
		if !strings.EqualFold(cn.name, name) {
			continue
		}
		if qual != "" && !strings.EqualFold(cn.qual, qual) {
			continue
		}
		if db != "" && !strings.EqualFold(cn.db, db) {
			continue
		}
		if idx < 0 {
			idx = i
		} else if qual == "" && !strings.EqualFold(r.cols[idx].qual, cn.qual) {
			ambiguous = true
		}
	}
	return idx, ambiguous
}

// requalify returns r with every column qualified by alias (a subquery's
// or aliased table's name).
func requalify(r *relation, alias string) *relation {
	out := &relation{node: r.node, cols: make([]colName, len(r.cols))}
	for i, cn := range r.cols {
		out.cols[i] = colName{qual: alias, name: cn.name}
	}
	return out
}

func typesOf(s types.Schema) string {
	parts := make([]string, len(s))
	for i, f := range s {
		parts[i] = f.Name + " " + f.Type.String()
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
