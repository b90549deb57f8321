package dataflow

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// tileSpec is a tiled window a materialize writer builds tiles of: window
// Window (a position in eval TiledWindows()) of plan Plan, over table
// Table (a position in the job's tables), stored under index Index with
// window id ID. Keys maps the index's KEY columns, in KEY order, to
// positions in the window's PartitionBy.
type tileSpec struct {
	Plan, Window, Table, Index int
	ID                         uint64
	Keys                       []int
}

// tileSpecs returns the tiled windows of views that the writers of job can
// build, and warns through slog of each one they cannot (it will read
// raw rows): a view whose windows the evaluator cannot tile, a request
// table the job does not load or with another schema, a window with no
// index on its PARTITION BY and ORDER BY columns or whose index cannot
// hold tiles, and an index whose KEY is not the first index's (rows are
// routed to writers by the first index's key, so only then does a writer
// hold all rows of a window's key).
func tileSpecs(job MaterializeJob) (specs []tileSpec, plans [][]byte, err error) {
	for _, view := range job.Views {
		ev, err := eval.New(view)
		if err != nil {
			return nil, nil, fmt.Errorf("view %s: %w", view.Name, err)
		}
		tws, err := ev.TiledWindows()
		if err != nil {
			slog.Warn("materialize: no tiles; requests will read raw rows", "view", view.Name, "reason", err)
			continue
		}
		if len(tws) == 0 {
			continue
		}
		pi := len(plans)
		added := false
		for wi, tw := range tws {
			spec, reason := tileSpecOf(job.Tables, view, tw)
			if reason != "" {
				slog.Warn("materialize: no tiles; requests will read raw rows", "view", view.Name, "window", tw.Name, "reason", reason)
				continue
			}
			spec.Plan, spec.Window = pi, wi
			specs = append(specs, spec)
			added = true
		}
		if added {
			b, err := plan.Marshal(view)
			if err != nil {
				return nil, nil, fmt.Errorf("view %s: %w", view.Name, err)
			}
			plans = append(plans, b)
		}
	}
	return specs, plans, nil
}

// tileSpecOf returns the spec of tw (without Plan and Window), or why
// materialize cannot build its tiles.
func tileSpecOf(tables []*plan.Table, view *plan.Plan, tw *eval.TiledWindow) (tileSpec, string) {
	vt := view.Table(view.RequestTable)
	ti := -1
	for i, t := range tables {
		if t.Name == view.RequestTable {
			ti = i
		}
	}
	if vt == nil || ti < 0 {
		return tileSpec{}, fmt.Sprintf("table %s is not loaded", view.RequestTable)
	}
	t := tables[ti]
	if vt.Schema.String() != t.Schema.String() {
		return tileSpec{}, fmt.Sprintf("table %s is loaded with another schema (%s) than the view's (%s)", t.Name, t.Schema, vt.Schema)
	}
	keys := make([]string, len(tw.PartitionBy))
	for i, c := range tw.PartitionBy {
		keys[i] = vt.Schema[c].Name
	}
	ord, ix, err := storage.FindIndex(t, keys, vt.Schema[tw.OrderBy].Name)
	if err != nil {
		return tileSpec{}, err.Error()
	}
	if _, err := storage.TileIndex(t, ord); err != nil {
		return tileSpec{}, err.Error()
	}
	if !sameNames(ix.Keys, t.Indexes[0].Keys) {
		return tileSpec{}, fmt.Sprintf("its index KEY=(%s) is not the first index's KEY=(%s), by which materialize routes rows to writers",
			strings.Join(ix.Keys, ", "), strings.Join(t.Indexes[0].Keys, ", "))
	}
	spec := tileSpec{Table: ti, Index: ord, ID: storage.WindowID(plan.Version(view), tw.Name)}
	for _, k := range ix.Keys {
		for i, name := range keys {
			if strings.EqualFold(k, name) {
				spec.Keys = append(spec.Keys, i)
				break
			}
		}
	}
	return spec, ""
}

// sameNames reports whether a and b hold the same column names, in any
// order (as storage.FindIndex matches KEY columns).
func sameNames(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		found := false
		for _, y := range b {
			found = found || strings.EqualFold(x, y)
		}
		if !found {
			return false
		}
	}
	return true
}

// tileBuilder builds and stores a writer's tiles (storeFn's part).
type tileBuilder struct {
	specs []tileSpec
	tws   []*eval.TiledWindow // tws[i] is specs[i]'s window
}

// newTileBuilder rebuilds the tiled windows of specs from their plans.
func newTileBuilder(plans [][]byte, specs []tileSpec) (*tileBuilder, error) {
	b := &tileBuilder{specs: specs}
	windows := make([][]*eval.TiledWindow, len(plans))
	for i, pb := range plans {
		p, err := plan.Unmarshal(pb)
		if err != nil {
			return nil, err
		}
		ev, err := eval.New(p)
		if err != nil {
			return nil, err
		}
		if windows[i], err = ev.TiledWindows(); err != nil {
			return nil, err
		}
	}
	for _, s := range specs {
		if s.Plan >= len(windows) || s.Window >= len(windows[s.Plan]) {
			return nil, fmt.Errorf("dataflow: tile spec %+v does not match its plan", s)
		}
		b.tws = append(b.tws, windows[s.Plan][s.Window])
	}
	return b, nil
}

// tiled reports whether the writer must keep the rows of table.
func (b *tileBuilder) tiled(table int) bool {
	for _, s := range b.specs {
		if s.Table == table {
			return true
		}
	}
	return false
}

// tileWriteBatch is how many tiles one WriteTiles call stores.
const tileWriteBatch = 4096

// write builds the tiles of every spec from rows (all the writer's rows of
// each table, with their sequence numbers) and stores them; it returns
// how many it stored.
func (b *tileBuilder) write(ctx context.Context, store storage.TileStore, names []string, rows []*types.Block, seqs [][]uint64) (int, error) {
	n := 0
	for i, s := range b.specs {
		if rows[s.Table] == nil {
			continue
		}
		tiles, err := b.tws[i].Build(ctx, rows[s.Table], seqs[s.Table])
		if err != nil {
			return n, fmt.Errorf("tiles of window %s: %w", b.tws[i].Name, err)
		}
		out := make([]storage.Tile, 0, min(len(tiles), tileWriteBatch))
		for j, t := range tiles {
			st, err := storageTile(s, t)
			if err != nil {
				return n, err
			}
			out = append(out, st)
			if len(out) == tileWriteBatch || j == len(tiles)-1 {
				if err := retrying(ctx, func() error { return store.WriteTiles(ctx, names[s.Table], out) }); err != nil {
					return n, fmt.Errorf("writing %d tiles of window %s: %w", len(out), b.tws[i].Name, err)
				}
				n += len(out)
				out = out[:0]
			}
		}
	}
	return n, nil
}

// storageTile returns t as stored under spec s: its key in the index's
// KEY order.
func storageTile(s tileSpec, t *eval.Tile) (storage.Tile, error) {
	ps, err := t.Encode()
	if err != nil {
		return storage.Tile{}, err
	}
	key := make([]types.Value, len(s.Keys))
	for i, k := range s.Keys {
		key[i] = t.Key[k]
	}
	return storage.Tile{Index: s.Index, Window: s.ID, Key: key, Start: t.Start, Width: t.Window.Width,
		Partials: ps, Rows: t.Rows, MaxSeq: t.MaxSeq}, nil
}
