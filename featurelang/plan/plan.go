// Package plan is the checked, serializable form of a feature view: a tree
// of relational nodes (scan, project with windows, filter, last join,
// limit) whose expressions are typed and whose names are resolved to column
// positions. The checker produces it from SQL; the evaluator is built from
// it alone. A plan serializes to JSON and carries a content hash as its
// version, so a Beam worker, an HTTP function and a Lambda that load the
// same bytes rebuild the same evaluator.
package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Format is the version of the plan format; a loader refuses other formats.
const Format = 1

// Plan is a checked feature view.
type Plan struct {
	Format int    `json:"format"`
	Name   string `json:"name,omitempty"` // the DEPLOY name; empty for a bare query
	// DB is the database the view was deployed in (a script's USE db);
	// empty for a view of a feature file, which has no databases.
	DB string `json:"db,omitempty"`
	// TimeZone is the time zone the view was compiled in (types.ZoneName)
	// when it is not types.DefaultZone: its date and time functions and
	// its data's timestamp text are in that zone, and only a process in
	// the same zone evaluates it.
	TimeZone string `json:"time_zone,omitempty"`
	// Tables are the stored tables the view reads, with their indexes.
	Tables []*Table `json:"tables"`
	// RequestTable is the table whose rows are the requests in request mode
	// (the FROM table on the left-most path).
	RequestTable string            `json:"request_table,omitempty"`
	Root         *Node             `json:"root"`
	Output       types.Schema      `json:"output"`
	Options      map[string]string `json:"options,omitempty"`
	// Requests are the request rows of a query run with CONFIG
	// (execute_mode = 'request', values = ...), typed as RequestTable's
	// columns: the query's answer is the request-mode answer to each, over
	// the tables given as the stored rows (eval.Evaluator.Batch). Never set
	// for a deployment.
	Requests [][]types.Value `json:"requests,omitempty"`
}

// Table is a stored table: its schema and indexes.
type Table struct {
	Name    string       `json:"name"`
	Schema  types.Schema `json:"schema"`
	Indexes []*Index     `json:"indexes,omitempty"`
}

// Index is an OpenMLDB index: rows ordered by TS within each KEY, kept for
// TTL. TTLAbs is a maximum age in milliseconds (0: unlimited) and TTLLat a
// maximum number of rows per key (0: unlimited); TTLType says how they
// combine: absolute, latest, absorlat or absandlat.
type Index struct {
	Name    string   `json:"name,omitempty"`
	Keys    []string `json:"keys"`
	TS      string   `json:"ts,omitempty"`
	TTLType string   `json:"ttl_type,omitempty"`
	TTLAbs  int64    `json:"ttl_abs_ms,omitempty"`
	TTLLat  int64    `json:"ttl_latest,omitempty"`
}

// Qualify returns the name of table name in database db: "db.name", or
// name alone for the default database (db empty), which holds the tables
// of feature files. A table's qualified name is its name everywhere: in
// plans, stores and metrics.
func Qualify(db, name string) string {
	if db == "" {
		return name
	}
	return db + "." + name
}

// SplitName splits a table's qualified name into its database (empty for
// the default database) and its name in that database.
func SplitName(full string) (db, name string) {
	if i := strings.IndexByte(full, '.'); i >= 0 {
		return full[:i], full[i+1:]
	}
	return "", full
}

// FindIndex returns the position of the first index of t whose KEY
// columns are keys (in any order, case-insensitively) and, when ts is not
// empty, whose TS column is ts; -1 when there is none.
func (t *Table) FindIndex(keys []string, ts string) int {
	for i, ix := range t.Indexes {
		if sameColumns(ix.Keys, keys) && (ts == "" || strings.EqualFold(ix.TS, ts)) {
			return i
		}
	}
	return -1
}

func sameColumns(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.ContainsFunc(b, func(y string) bool { return strings.EqualFold(x, y) }) {
			return false
		}
	}
	return true
}

// Table returns the table named name, or nil.
func (p *Plan) Table(name string) *Table {
	for _, t := range p.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// BatchOnly returns why p runs in batch mode only, or "" when request
// mode runs it too. A plan that aggregates rows into groups (GROUP BY, or
// an aggregate without OVER, over the whole table) has output rows that
// are not one per row of its FROM table: OpenMLDB runs such queries
// offline only, and so does fenestra.
func (p *Plan) BatchOnly() string {
	why := ""
	Walk(p.Root, func(n *Node) {
		if n.Op == Aggregate && why == "" {
			why = n.AggregateKind()
		}
	})
	return why
}

// AggregateKind names what an Aggregate node does, for messages: "GROUP
// BY" or "a whole-table aggregate (an aggregate without OVER)".
func (n *Node) AggregateKind() string {
	if len(n.GroupBy) > 0 {
		return "GROUP BY"
	}
	return "a whole-table aggregate (an aggregate without OVER)"
}

// Walk calls f for n and every node below it: inputs, LAST JOIN right
// sides and window union sources.
func Walk(n *Node, f func(*Node)) {
	if n == nil {
		return
	}
	f(n)
	Walk(n.Input, f)
	Walk(n.Right, f)
	for _, w := range n.Windows {
		for _, u := range w.Unions {
			Walk(u, f)
		}
	}
}

// Op is the kind of a relational node.
type Op string

// The relational operators.
const (
	// Scan reads the rows of Table in arrival order.
	Scan Op = "scan"
	// Project computes Exprs over each row of Input; they may contain
	// aggregates over Windows.
	Project Op = "project"
	// Filter keeps the rows of Input for which Cond is true.
	Filter Op = "filter"
	// LastJoin joins each row of Input with the last matching row of
	// Right (NULLs when none): see Node.
	LastJoin Op = "last_join"
	// Limit keeps the first N rows of Input.
	Limit Op = "limit"
	// ConstRow produces one row of constant Exprs (SELECT without FROM).
	ConstRow Op = "const_row"
	// Aggregate computes Exprs once per group of Input rows: GROUP BY,
	// or, without GroupBy, a whole-table aggregate (see Node). Plans that
	// have one run in batch mode only (Plan.BatchOnly).
	Aggregate Op = "aggregate"
)

// Node is one relational operator. Which fields are set depends on Op.
type Node struct {
	Op     Op           `json:"op"`
	Schema types.Schema `json:"schema"`

	Table string `json:"table,omitempty"` // Scan

	Input *Node `json:"input,omitempty"` // all but Scan and ConstRow

	Exprs   []*Expr   `json:"exprs,omitempty"`   // Project, ConstRow
	Windows []*Window `json:"windows,omitempty"` // Project

	Cond *Expr `json:"cond,omitempty"` // Filter; LastJoin (over Input ++ Right); Aggregate (HAVING)

	// Aggregate: the groups are the Input rows with equal GroupBy values
	// (plain columns, NULL equal to NULL), in order of first appearance;
	// without GroupBy all the Input rows are one group, even when there
	// are none. Exprs are computed once per group: an Agg expression
	// (its Window unused) aggregates the group's rows in arrival order,
	// and a column outside aggregates (a GroupBy column) reads the group's
	// first row. Cond, when set, is HAVING, over the same scope: only the
	// groups for which it is true are output.
	GroupBy []*Expr `json:"group_by,omitempty"`

	// LastJoin: Right is the joined relation. LeftKeys (over Input) and
	// RightKeys (over Right) are the equality conjuncts of the condition,
	// used to look up candidates; Cond is the whole condition. Among the
	// matching right rows the one with the largest OrderBy (over Right;
	// the smallest when OrderDesc) wins, ties and a nil OrderBy going to
	// the latest arrival. A NULL order value counts as math.MinInt64.
	Right     *Node   `json:"right,omitempty"`
	LeftKeys  []*Expr `json:"left_keys,omitempty"`
	RightKeys []*Expr `json:"right_keys,omitempty"`
	OrderBy   *Expr   `json:"order_by,omitempty"`
	OrderDesc bool    `json:"order_desc,omitempty"`

	N int64 `json:"n,omitempty"` // Limit
}

// Window is a window of a Project node. Its rows are the Input rows (and the
// rows of Unions) with the same PartitionBy values, ordered by OrderBy (an
// integer or timestamp) and arrival, framed as documented in ARCHITECTURE.md.
type Window struct {
	Name        string  `json:"name"`
	Unions      []*Node `json:"unions,omitempty"`
	PartitionBy []*Expr `json:"partition_by"`
	// OrderBy is nil for a ROWS window that counts rows in arrival order.
	OrderBy *Expr `json:"order_by,omitempty"`
	// Rows is true for ROWS frames (offsets count rows), false for
	// ROWS_RANGE (offsets are in OrderBy units: milliseconds).
	Rows                bool  `json:"rows"`
	Start               Bound `json:"start"`
	End                 Bound `json:"end"`
	ExcludeCurrentRow   bool  `json:"exclude_current_row,omitempty"`
	ExcludeCurrentTime  bool  `json:"exclude_current_time,omitempty"`
	InstanceNotInWindow bool  `json:"instance_not_in_window,omitempty"`
	MaxSize             int64 `json:"maxsize,omitempty"`
	// Tiles is set on a long window (DEPLOY OPTIONS(long_windows=...)):
	// the window may later be served from pre-aggregated tiles. nil for
	// every other window, so plans without long windows are unchanged.
	Tiles *Tiles `json:"tiles,omitempty"`
}

// Tiles is the tiling of a long window: per partition, buckets of
// BucketMs milliseconds of the order value, or of BucketRows rows
// (OpenMLDB's bare-number form, "w1:100"). Exactly one of the two is set.
// Whether each aggregate over the window is tiled is on its Expr (Tile).
type Tiles struct {
	BucketMs   int64 `json:"bucket_ms,omitempty"`
	BucketRows int64 `json:"bucket_rows,omitempty"`
}

// Bucket writes the bucket width as a user would: "1d", "90m", "100-row".
func (t *Tiles) Bucket() string {
	if t.BucketRows > 0 {
		return OffsetString(t.BucketRows, true) + "-row"
	}
	return OffsetString(t.BucketMs, false)
}

// Tile is the decision for one aggregate over a long window: served from
// the window's tiles, or from raw rows for the reason Why.
type Tile struct {
	Tiled bool   `json:"tiled"`
	Why   string `json:"why,omitempty"`
}

// Bound is one end of a frame, counted back from the current row: Offset
// rows or milliseconds PRECEDING (0 is CURRENT ROW). Open makes the bound
// exclusive. Unbounded is UNBOUNDED PRECEDING.
type Bound struct {
	Unbounded bool  `json:"unbounded,omitempty"`
	Offset    int64 `json:"offset"`
	Open      bool  `json:"open,omitempty"`
}

// ExprOp is the kind of an expression.
type ExprOp string

// The expression kinds.
const (
	Col   ExprOp = "col"   // Col: column index in the input schema
	Const ExprOp = "const" // Value
	Call  ExprOp = "call"  // Fn applied to Args (funcs.Resolve)
	Cast  ExprOp = "cast"  // Args[0] converted to Type (funcs.Cast)
	Case  ExprOp = "case"  // Args: cond1, result1, ..., [else]
	Agg   ExprOp = "agg"   // aggregate Fn of Args over Windows[Window], or over an Aggregate's group
	CEL   ExprOp = "cel"   // CEL source over the columns in Vars
	Array ExprOp = "array" // an array of Args (all of Type's element type)
)

// Expr is a typed expression.
type Expr struct {
	Op     ExprOp       `json:"op"`
	Type   types.Type   `json:"type"`
	Col    int          `json:"col,omitempty"`
	Value  *types.Value `json:"value,omitempty"`
	Fn     string       `json:"fn,omitempty"`
	Args   []*Expr      `json:"args,omitempty"`
	Window int          `json:"window,omitempty"` // Agg in a Project
	CEL    *CELExpr     `json:"cel,omitempty"`
	// Tile is set on an aggregate over a long window (Agg only).
	Tile *Tile `json:"tile,omitempty"`
}

// CELExpr is an embedded CEL expression: its source and the columns it may
// read, each bound to a CEL variable name.
type CELExpr struct {
	Source string   `json:"source"`
	Vars   []CELVar `json:"vars"`
}

// CELVar binds CEL variable Name (possibly dotted: "t2.amount") to input
// column Col of type Type.
type CELVar struct {
	Name string     `json:"name"`
	Col  int        `json:"col"`
	Type types.Type `json:"type"`
}

// Marshal returns the canonical JSON encoding of p.
func Marshal(p *Plan) ([]byte, error) { return json.Marshal(p) }

// Unmarshal decodes a plan and checks its format.
func Unmarshal(b []byte) (*Plan, error) {
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("plan: decoding: %w", err)
	}
	if p.Format != Format {
		return nil, fmt.Errorf("plan: format %d, this build reads format %d", p.Format, Format)
	}
	if p.Root == nil {
		return nil, fmt.Errorf("plan: no root node")
	}
	return &p, nil
}

// Version returns the content hash of p: "v1-" and 16 hex digits of the
// SHA-256 of its canonical encoding. Equal plans have equal versions on
// every host.
func Version(p *Plan) string {
	b, err := Marshal(p)
	if err != nil {
		return "v?-invalid"
	}
	sum := sha256.Sum256(b)
	return fmt.Sprintf("v%d-%s", Format, hex.EncodeToString(sum[:8]))
}

// KeyClass groups types whose equal values hash alike: all integers, both
// float widths, and each other scalar type on its own. 0 means the type
// cannot be a join or partition key.
func KeyClass(t types.Type) byte {
	switch {
	case t.IsInteger():
		return 'i'
	case t.IsFloat():
		return 'f'
	case t == types.String:
		return 's'
	case t == types.Timestamp:
		return 't'
	case t == types.Date:
		return 'd'
	case t == types.Bool:
		return 'b'
	}
	return 0
}
