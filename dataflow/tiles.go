package dataflow

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// tileSpec is a tiled window whose tiles a writer builds: window Window
// (a position in eval TiledWindows()) of plan Plan, over table Table (a
// position in the job's tables), stored under index Index with window id
// ID. KeyCols are the table's columns of the index's KEY, in KEY order,
// and TSCol its TS column.
type tileSpec struct {
	Plan, Window, Table, Index int
	ID                         uint64
	KeyCols                    []int
	TSCol                      int
}

// tileSpecs returns the tiled windows of views over tables that a writer
// can build tiles of, and warns through slog (naming host, the job) of
// each one it cannot (it will read raw rows): a view whose windows the
// evaluator cannot tile, a request table the job does not write or with
// another schema, a window with no index on its PARTITION BY and ORDER BY
// columns or whose index cannot hold tiles. With routed, rows reach
// writers by their table's first index's key, and a window whose index
// has another KEY is skipped too: several writers would build its keys'
// tiles at once, which is correct (tokens) but can leave a stale tile.
func tileSpecs(host string, tables []*plan.Table, views []*plan.Plan, routed bool) (specs []tileSpec, plans [][]byte, err error) {
	for _, view := range views {
		ev, err := eval.New(view)
		if err != nil {
			return nil, nil, fmt.Errorf("view %s: %w", view.Name, err)
		}
		tws, err := ev.TiledWindows()
		if err != nil {
			slog.Warn(host+": no tiles; requests will read raw rows", "view", view.Name, "reason", err)
			continue
		}
		if len(tws) == 0 {
			continue
		}
		pi := len(plans)
		added := false
		for wi, tw := range tws {
			spec, reason := tileSpecOf(tables, view, tw, routed)
			if reason != "" {
				slog.Warn(host+": no tiles; requests will read raw rows", "view", view.Name, "window", tw.Name, "reason", reason)
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

// tileSpecOf returns the spec of tw (without Plan and Window), or why its
// tiles cannot be built.
func tileSpecOf(tables []*plan.Table, view *plan.Plan, tw *eval.TiledWindow, routed bool) (tileSpec, string) {
	vt := view.Table(view.RequestTable)
	ti := -1
	for i, t := range tables {
		if t.Name == view.RequestTable {
			ti = i
		}
	}
	if vt == nil || ti < 0 {
		return tileSpec{}, fmt.Sprintf("table %s is not written", view.RequestTable)
	}
	t := tables[ti]
	if vt.Schema.String() != t.Schema.String() {
		return tileSpec{}, fmt.Sprintf("table %s is written with another schema (%s) than the view's (%s)", t.Name, t.Schema, vt.Schema)
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
	if routed && !sameNames(ix.Keys, t.Indexes[0].Keys) {
		return tileSpec{}, fmt.Sprintf("its index KEY=(%s) is not the first index's KEY=(%s), by which materialize routes rows to writers",
			strings.Join(ix.Keys, ", "), strings.Join(t.Indexes[0].Keys, ", "))
	}
	spec := tileSpec{Table: ti, Index: ord, ID: storage.WindowID(plan.Version(view), tw.Name), TSCol: t.Schema.Index(ix.TS)}
	for _, k := range ix.Keys {
		spec.KeyCols = append(spec.KeyCols, t.Schema.Index(k))
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

// tileBuilder keeps a writer's tiles current: it records the buckets the
// rows it stores touch (touch), then rebuilds their tiles from the store
// (rebuild). Materialize and the stream share it. Not safe for concurrent
// use: each DoFn instance has its own.
type tileBuilder struct {
	specs []tileSpec
	tws   []*eval.TiledWindow // tws[i] is specs[i]'s window
	// touched[i] holds the keys of specs[i] whose buckets rows touched,
	// by their eval.AppendKey encoding.
	touched []map[string]*touchedKey
	// busy[i], for a window with a finer level, holds the touched buckets
	// of each key its last rebuild found busy (eval.FineMinRows rows).
	busy   []map[string][]int64
	keyBuf []byte
	keyOff []int
	order  []int
	starts []int64
}

// touchedKey is a key of a tiled window and the starts of the buckets its
// stored rows touched.
type touchedKey struct {
	key    []types.Value // the index's KEY values, in KEY order
	starts []int64       // ascending, distinct
}

// newTileBuilder rebuilds the tiled windows of specs from their plans.
func newTileBuilder(plans [][]byte, specs []tileSpec) (*tileBuilder, error) {
	b := &tileBuilder{specs: specs, touched: make([]map[string]*touchedKey, len(specs)), busy: make([]map[string][]int64, len(specs))}
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
	for i, s := range specs {
		if s.Plan >= len(windows) || s.Window >= len(windows[s.Plan]) {
			return nil, fmt.Errorf("dataflow: tile spec %+v does not match its plan", s)
		}
		b.tws = append(b.tws, windows[s.Plan][s.Window])
		b.touched[i] = map[string]*touchedKey{}
	}
	return b, nil
}

// touch records the buckets that rows, just stored in table, touch: for
// each tiled window of the table, each key's bucket starts. Every
// stored row counts, the view's WHERE or not: any row changes its
// bucket's token. Rows whose TS has no bucket touch none. A map is
// consulted once per key of the block, not per row.
func (b *tileBuilder) touch(table int, rows *types.Block) {
	for i, s := range b.specs {
		if s.Table != table {
			continue
		}
		width := b.tws[i].Width
		b.keyBuf, b.keyOff, b.order = b.keyBuf[:0], b.keyOff[:0], b.order[:0]
		for r := range rows.Len {
			b.keyOff = append(b.keyOff, len(b.keyBuf))
			for _, c := range s.KeyCols {
				b.keyBuf = eval.AppendKey(b.keyBuf, rows.Cols[c].Value(r))
			}
			b.order = append(b.order, r)
		}
		b.keyOff = append(b.keyOff, len(b.keyBuf))
		key := func(r int) []byte { return b.keyBuf[b.keyOff[r]:b.keyOff[r+1]] }
		slices.SortFunc(b.order, func(x, y int) int { return bytes.Compare(key(x), key(y)) })
		ts := &rows.Cols[s.TSCol]
		for start := 0; start < len(b.order); {
			end := start + 1
			for end < len(b.order) && bytes.Equal(key(b.order[end]), key(b.order[start])) {
				end++
			}
			b.starts = b.starts[:0]
			for _, r := range b.order[start:end] {
				if ts.IsNull(r) {
					continue
				}
				if bs, ok := storage.BucketStart(ts.I[r], width); ok {
					b.starts = append(b.starts, bs)
				}
			}
			if len(b.starts) > 0 {
				b.touchKey(i, key(b.order[start]), rows, b.order[start], b.starts)
			}
			start = end
		}
	}
}

// touchKey adds the bucket starts to those key k (encoded) of spec i
// touched; the key's values are those of row r of rows.
func (b *tileBuilder) touchKey(i int, k []byte, rows *types.Block, r int, starts []int64) {
	t, ok := b.touched[i][string(k)]
	if !ok {
		t = &touchedKey{key: make([]types.Value, len(b.specs[i].KeyCols))}
		for j, c := range b.specs[i].KeyCols {
			t.key[j] = rows.Cols[c].Value(r)
		}
		b.touched[i][string(k)] = t
	}
	t.starts = append(t.starts, starts...)
	slices.Sort(t.starts)
	t.starts = slices.Compact(t.starts)
}

// tileWriteBatch is how many tiles one WriteTiles call stores, and
// rebuildWorkers how many keys a rebuild reads and builds at once.
const (
	tileWriteBatch = 4096
	rebuildWorkers = 8
)

// rebuild rebuilds the tiles of the buckets touched since the last
// rebuild and stores them, then forgets them; it returns how many tiles
// it stored. Per window and key it reads the buckets from the first
// touched to the last in one ReadBuckets call (rows stored earlier, by
// any writer, included), builds each touched bucket's tile
// (eval.TiledWindow.Build) and gives it the bucket's token: a row written into the bucket after the read makes the
// tile stale, never wrong. A bucket whose rows the view's WHERE all drops
// gets an empty tile. Up to rebuildWorkers keys are read and built at
// once; reads and writes are retried as row writes are.
func (b *tileBuilder) rebuild(ctx context.Context, store storage.TileStore, names []string) (int, error) {
	n := 0
	for i, s := range b.specs {
		if len(b.touched[i]) == 0 {
			continue
		}
		keys := slices.Sorted(maps.Keys(b.touched[i]))
		if c := b.coarseOf(i); c >= 0 {
			// A finer level: only the keys and buckets the coarse level's
			// read found busy (eval.FineMinRows stored rows) can get
			// tiles; reading the others again would build nothing.
			keys = slices.DeleteFunc(keys, func(k string) bool {
				t := b.touched[i][k]
				t.starts = slices.DeleteFunc(t.starts, func(st int64) bool {
					cs, _ := storage.BucketStart(st, b.tws[c].Width)
					_, busy := slices.BinarySearch(b.busy[c][k], cs)
					return !busy
				})
				return len(t.starts) == 0
			})
		}
		tiles := make([][]storage.Tile, len(keys))
		busy := make([][]int64, len(keys))
		errs := make([]error, len(keys))
		parallel(len(keys), rebuildWorkers, func(j int) {
			tiles[j], busy[j], errs[j] = b.keyTiles(ctx, store, i, names[s.Table], b.touched[i][keys[j]])
		})
		if err := firstError(errs); err != nil {
			return n, err
		}
		clear(b.touched[i])
		if b.tws[i].Fine != nil {
			b.busy[i] = map[string][]int64{}
			for j, k := range keys {
				if len(busy[j]) > 0 {
					b.busy[i][k] = busy[j]
				}
			}
		}
		var out []storage.Tile
		for j, ts := range tiles {
			out = append(out, ts...)
			if len(out) < tileWriteBatch && j < len(tiles)-1 || len(out) == 0 {
				continue
			}
			if err := retrying(ctx, func() error { return store.WriteTiles(ctx, names[s.Table], out) }); err != nil {
				return n, fmt.Errorf("writing %d tiles of window %s of %s: %w", len(out), b.tws[i].Name, names[s.Table], err)
			}
			n += len(out)
			out = out[:0]
		}
	}
	return n, nil
}

// coarseOf returns the spec whose finer level spec i is, or -1.
func (b *tileBuilder) coarseOf(i int) int {
	for c, tw := range b.tws {
		if tw.Fine != nil && tw.Fine == b.tws[i] {
			return c
		}
	}
	return -1
}

// keyTiles reads the buckets of key t of spec i from its first touched
// bucket to its last in one ReadBuckets call and builds the tiles of the
// touched ones. For a window with a finer level it also returns the
// touched buckets holding eval.FineMinRows rows or more, ascending: the
// only ones whose finer tiles can be built.
func (b *tileBuilder) keyTiles(ctx context.Context, store storage.TileStore, i int, table string, t *touchedKey) ([]storage.Tile, []int64, error) {
	s, tw := b.specs[i], b.tws[i]
	lo, hi := t.starts[0], t.starts[len(t.starts)-1]
	to := hi + 1
	if hi == math.MaxInt64 {
		to = hi
	}
	lo, to = storage.BuildSpan(tw, lo, to)
	r := storage.TileRange{Table: table, Index: s.Index, Window: s.ID, Key: t.key, Width: tw.Width, From: lo, To: to}
	var bs []storage.Bucket
	err := retrying(ctx, func() error {
		var err error
		bs, err = store.ReadBuckets(ctx, r)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("reading the buckets of key %v of window %s of %s: %w", t.key, tw.Name, table, err)
	}
	out := make([]storage.Tile, 0, len(t.starts))
	var busy []int64
	for _, bk := range storage.BuiltBuckets(tw, bs) {
		if !touchedBucket(tw, t.starts, bk.Start) {
			continue
		}
		tile, err := storage.BucketTile(ctx, tw, r, bk)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, tile)
		if tw.Fine != nil && bk.Rows.Len >= eval.FineMinRows {
			busy = append(busy, bk.Start)
		}
	}
	return out, busy, nil
}

// touchedBucket reports whether the bucket starting at start is to be
// rebuilt, starts being the touched ones: it is one of them, or, for a
// finer level, its coarse bucket holds one (whether it has a tile depends
// on the whole coarse bucket).
func touchedBucket(tw *eval.TiledWindow, starts []int64, start int64) bool {
	if tw.Coarse == 0 {
		_, ok := slices.BinarySearch(starts, start)
		return ok
	}
	c, _ := storage.BucketStart(start, tw.Coarse)
	i, _ := slices.BinarySearch(starts, c)
	return i < len(starts) && starts[i] < c+tw.Coarse
}

// firstError returns the first error of errs, saying how many others
// there were.
func firstError(errs []error) error {
	var first error
	more := 0
	for _, err := range errs {
		switch {
		case err == nil:
		case first == nil:
			first = err
		default:
			more++
		}
	}
	if more > 0 {
		return fmt.Errorf("%w (and %d more keys failed)", first, more)
	}
	return first
}

// parallel calls f(0) ... f(n-1) on up to workers goroutines and waits.
func parallel(n, workers int, f func(int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, workers) {
		wg.Go(func() {
			for j := int(next.Add(1) - 1); j < n; j = int(next.Add(1) - 1) {
				f(j)
			}
		})
	}
	wg.Wait()
}
