// Package eval is fenestra's one evaluator. It is built from a plan alone
// and runs it in two modes:
//
//   - Batch: all input rows in, one output row per row of the FROM table
//     out, each row's windows seeing only rows at or before it (the
//     point-in-time semantics of training data); or, for a query that
//     aggregates rows into groups (GROUP BY, aggregates without OVER),
//     one output row per group.
//   - Request: one request row plus the stored rows it needs, fetched
//     through a Source, in; one output row out (online serving). Plans
//     that aggregate into groups run in batch mode only, as in OpenMLDB.
//
// Both modes compute windows with the same aggregate accumulators (package
// agg) and float sums are exact, so a request evaluated against the stored
// rows gives exactly the value batch mode computes for the same row appended
// after them. An Evaluator holds no mutable state and is safe for concurrent
// use; it does no I/O itself.
package eval

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Source serves the stored rows request mode reads. Storage implementations
// (package storage) satisfy it; MemSource is an in-memory one.
type Source interface {
	// Scan returns the rows of q.Table that match q, as a block the caller
	// may modify. Rows come in arrival order when q.TS is empty, else
	// ordered by q.TS then arrival.
	Scan(ctx context.Context, q Query) (*types.Block, error)
}

// MultiSource is a Source that answers several queries in one call, such
// as a remote store reading them in one round trip. Request mode uses it,
// when the Source has it, to look up the keys a LAST JOIN needs for all
// the rows of a window at once.
type MultiSource interface {
	Source
	// ScanMany returns, for each query of qs, what Scan returns for it.
	ScanMany(ctx context.Context, qs []Query) ([]*types.Block, error)
}

// TileSource is a Source that also keeps the tiles of long windows (see
// TiledWindow). Request mode uses it, when the Source has it, for each
// window the plan serves from tiles: the whole buckets inside the frame
// come from tiles, the rest from Scan.
type TileSource interface {
	Source
	// Tiles returns the tiles of one key of a tiled window whose bucket
	// starts are in [q.From, q.To), oldest first, each holding the
	// window's partials (TiledWindow.Funcs order) over exactly the rows
	// Scan returns for its bucket now. A bucket whose rows changed since
	// its tile was built, whose tile was never built or may cover expired
	// rows has no tile: the caller reads its rows. A window no index of
	// the Source can tile has none.
	Tiles(ctx context.Context, q TileQuery) ([]StoredTile, error)
}

// MultiTileSource is a TileSource that answers several tile queries in one
// call. Request mode uses it, when the Source has it, to read the tiles of
// every level of a request's tiled windows at once.
type MultiTileSource interface {
	TileSource
	// TilesMany returns, for each query of qs, what Tiles returns for it.
	TilesMany(ctx context.Context, qs []TileQuery) ([][]StoredTile, error)
}

// TileRepairer is a TileSource that wants to know which buckets request
// mode read raw rows of although they lie whole inside a tiled window's
// frame: their tiles are missing or stale. A host rebuilds them, in the
// background, so that later requests read tiles. MissingTiles must not
// block.
type TileRepairer interface {
	TileSource
	// MissingTiles reports the starts of the buckets of q's key and
	// window, within [q.From, q.To), that had rows but no tile.
	MissingTiles(q TileQuery, starts []int64)
}

// TileQuery selects the tiles of one key of a tiled window.
type TileQuery struct {
	Table string
	// Keys and Values are the window's PARTITION BY columns and the key;
	// TS is its ORDER BY column.
	Keys   []string
	Values []types.Value
	TS     string
	// Version is the plan's version (plan.Version) and Window the
	// window's name: together they identify the tiles.
	Version, Window string
	// Width is the bucket width; From and To bound the bucket starts:
	// From <= Start < To.
	Width, From, To int64
}

// StoredTile is a tile as a TileSource returns it: its bucket's start and
// the encoded partials (agg.Partial.AppendBinary) of its window's tiled
// aggregates.
type StoredTile struct {
	Start    int64
	Partials [][]byte
}

// Query selects stored rows of one table.
type Query struct {
	Table string
	// Keys and Values restrict the rows to those whose Keys columns equal
	// Values (NULL equal to NULL); all rows when Keys is empty.
	Keys   []string
	Values []types.Value
	// TS, when set, names an integer or timestamp column: only rows with
	// From <= TS <= To are returned, ordered by it. A NULL TS counts as
	// math.MinInt64, the value a window orders it by.
	TS       string
	From, To int64
	// Limit, when positive, keeps only the newest Limit rows (by TS).
	Limit int
	// AsOf, when not 0, is the time (epoch milliseconds) a store enforces
	// its TTLs at for this read, instead of its clock. The evaluator
	// leaves it 0; a host replaying history sets it (fenestra verify
	// answers each replayed request as of its own time).
	AsOf int64
}

// Errors.
var (
	// ErrInput reports a batch input or request row that does not match the
	// plan's tables.
	ErrInput = errors.New("eval: bad input")
	// ErrLateRow reports rows that Tile.Add cannot add to a tile because
	// they may precede, in window order, rows the tile holds (or be among
	// them): the bucket must be rebuilt from its rows.
	ErrLateRow = errors.New("eval: late row; rebuild the tile's bucket")
	// ErrBatchOnly reports a request to a plan that runs in batch mode
	// only (plan.Plan.BatchOnly).
	ErrBatchOnly = errors.New("eval: batch mode only")
)

// RequestQuery says why a query with request rows (CONFIG (execute_mode =
// 'request')) is not evaluated in pieces: it answers its requests over
// whole tables (Batch).
const RequestQuery = "a query with CONFIG (execute_mode = 'request', values = ...) answers its request rows over the whole tables, in one Batch; it is not evaluated in pieces (a backfill)"

// Evaluator runs one plan. Build it with New.
type Evaluator struct {
	plan *plan.Plan
	root *node
	// version is the plan's version when it has tiled windows (it names
	// their tiles), else empty.
	version string
	// batchOnly says why request mode refuses the plan, or is empty.
	batchOnly string
}

// New builds the evaluator of p, re-resolving every function, aggregate and
// CEL program from the plan. It fails only for a plan this build cannot run
// (another format, an unknown function).
func New(p *plan.Plan) (*Evaluator, error) {
	if p.Format != plan.Format {
		return nil, fmt.Errorf("eval: plan format %d, this build runs format %d", p.Format, plan.Format)
	}
	if zone := cmp.Or(p.TimeZone, types.DefaultZone); zone != types.ZoneName() {
		return nil, fmt.Errorf("eval: view %s was compiled in time zone %s, and this process evaluates in %s: run it with --time-zone %s",
			cmp.Or(p.Name, "(query)"), zone, types.ZoneName(), zone)
	}
	b := &builder{plan: p}
	root, err := b.node(p.Root)
	if err != nil {
		return nil, fmt.Errorf("eval: building plan %s: %w", p.Name, err)
	}
	for n := root; n != nil; n = n.input {
		n.spine = true
	}
	e := &Evaluator{plan: p, root: root, batchOnly: p.BatchOnly()}
	if tiled(p) {
		e.version = plan.Version(p)
		e.attachTiles()
	}
	return e, nil
}

// Plan returns the plan the evaluator runs.
func (e *Evaluator) Plan() *plan.Plan { return e.plan }

// Batch evaluates the plan over whole tables (by name; each block in
// arrival order) and returns one output row per row of the FROM table, in
// its order; a plan whose last step aggregates into groups (GROUP BY, a
// whole-table aggregate) returns one row per group that passes HAVING, in
// order of the groups' first rows. The input blocks are not modified.
//
// A plan with request rows (a query's CONFIG (execute_mode = 'request',
// values = ...); plan.Plan.Requests) returns instead the request-mode
// answer to each request row, in order, with tables as the stored rows
// (a request a WHERE clause filters out has no row).
func (e *Evaluator) Batch(ctx context.Context, tables map[string]*types.Block) (*types.Block, error) {
	if err := e.checkTables(tables); err != nil {
		return nil, err
	}
	if e.plan.Requests != nil {
		return e.requests(ctx, tables)
	}
	r := &batchRun{ctx: ctx, tables: tables}
	return r.eval(e.root)
}

// requests answers the plan's request rows over tables as the stored rows.
func (e *Evaluator) requests(ctx context.Context, tables map[string]*types.Block) (*types.Block, error) {
	src := NewMemSource()
	for _, t := range e.plan.Tables {
		src.Create(t.Name, t.Schema)
		if err := src.Insert(t.Name, tables[t.Name].Rows()...); err != nil {
			return nil, err
		}
	}
	return e.Requests(ctx, src)
}

// Requests answers the plan's request rows (plan.Plan.Requests, from a
// query's CONFIG) over the stored rows of src, in order; a request a
// WHERE clause filters out has no row.
func (e *Evaluator) Requests(ctx context.Context, src Source) (*types.Block, error) {
	out := types.NewBlock(e.plan.Output, len(e.plan.Requests))
	for i, req := range e.plan.Requests {
		res, err := e.Request(ctx, req, src)
		if err != nil {
			return nil, fmt.Errorf("request row %d: %w", i+1, err)
		}
		if res != nil {
			out.AppendRow(res)
		}
	}
	return out, nil
}

// BatchRows is Batch that also reports, for each output row, the position
// in tables[RequestTable] of the row it was computed for (-1 for the one
// row of a query without FROM): for a row of a group, its group's first
// row (-1 for a whole-table aggregate of no rows). A WHERE clause or a
// LIMIT makes the output a subsequence of the FROM table; a host that
// evaluates a table in pieces uses the positions to restore the table's
// order.
func (e *Evaluator) BatchRows(ctx context.Context, tables map[string]*types.Block) (*types.Block, []int, error) {
	if err := e.checkTables(tables); err != nil {
		return nil, nil, err
	}
	if e.plan.Requests != nil {
		return nil, nil, fmt.Errorf("%w: %s", ErrInput, RequestQuery)
	}
	r := &batchRun{ctx: ctx, tables: tables, track: true}
	out, err := r.eval(e.root)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case e.plan.RequestTable == "":
		r.origins = make([]int, out.Len)
		for i := range r.origins {
			r.origins[i] = -1
		}
	case r.origins == nil:
		r.origins = seq(0, out.Len)
	}
	return out, r.origins, nil
}

// checkTables checks that tables holds a block of the right schema for
// every table of the plan.
func (e *Evaluator) checkTables(tables map[string]*types.Block) error {
	for _, t := range e.plan.Tables {
		b, ok := tables[t.Name]
		if !ok {
			return fmt.Errorf("%w: no rows given for table %q", ErrInput, t.Name)
		}
		if err := checkSchema(t, b.Schema); err != nil {
			return err
		}
	}
	return nil
}

// Request evaluates the plan for one row of the request table (the plan's
// RequestTable, in its column order) against the stored rows of src, and
// returns the output row. The request row is treated as arriving after
// every stored row. It returns a nil row when a WHERE clause filters the
// request out, and ErrBatchOnly for a plan that runs in batch mode only.
func (e *Evaluator) Request(ctx context.Context, req []types.Value, src Source) ([]types.Value, error) {
	if e.batchOnly != "" {
		return nil, fmt.Errorf("%w: view %s uses %s, whose output is a row per group, not a row per request; request mode (a deployment) computes aggregates OVER a window",
			ErrBatchOnly, cmp.Or(e.plan.Name, "(query)"), e.batchOnly)
	}
	if e.plan.RequestTable != "" {
		t := e.plan.Table(e.plan.RequestTable)
		if t == nil {
			return nil, fmt.Errorf("%w: the plan does not describe its request table %q", ErrInput, e.plan.RequestTable)
		}
		if err := checkRow(t, req); err != nil {
			return nil, err
		}
	} else if len(req) != 0 {
		return nil, fmt.Errorf("%w: the query reads no table; the request must have no values", ErrInput)
	}
	r := &requestRun{ctx: ctx, src: src, req: req, plan: e.plan, version: e.version}
	defer r.release()
	out, err := r.row(e.root)
	if err != nil || out.Len == 0 {
		return nil, err
	}
	return out.Row(0, nil), nil
}

// checkSchema reports a block whose column types differ from the table's.
func checkSchema(t *plan.Table, s types.Schema) error {
	if len(s) != len(t.Schema) {
		return fmt.Errorf("%w: table %q has %d columns, the plan expects %d: %s", ErrInput, t.Name, len(s), len(t.Schema), t.Schema)
	}
	for i, f := range t.Schema {
		if s[i].Type != f.Type {
			return fmt.Errorf("%w: table %q column %d (%s) is %s, the plan expects %s", ErrInput, t.Name, i+1, f.Name, s[i].Type, f.Type)
		}
	}
	return nil
}

// checkRow reports a request row that does not fit the table's schema.
func checkRow(t *plan.Table, row []types.Value) error {
	if len(row) != len(t.Schema) {
		return fmt.Errorf("%w: a %s row has %d values, got %d", ErrInput, t.Name, len(t.Schema), len(row))
	}
	for i, f := range t.Schema {
		if !row[i].Null && row[i].Type != f.Type {
			return fmt.Errorf("%w: %s.%s is %s, got %s", ErrInput, t.Name, f.Name, f.Type, row[i].Type)
		}
	}
	return nil
}
