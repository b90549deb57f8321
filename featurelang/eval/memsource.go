package eval

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// MemSource is an in-memory Source: tables of rows in arrival order, with
// an index per set of key columns that queries use (built on first use,
// kept up to date on insert). It is meant for tests, the conformance runner
// and local runs. It is safe for concurrent use.
type MemSource struct {
	mu     sync.RWMutex
	tables map[string]*memTable
}

type memTable struct {
	rows    *types.Block
	indexes map[string]*memIndex // by key column names joined with NUL
}

// memIndex maps the encoded values of some key columns to the rows holding
// them, in arrival order.
type memIndex struct {
	cols []int
	rows map[string][]int
}

func (ix *memIndex) add(b *types.Block, row int) {
	var key []byte
	for _, c := range ix.cols {
		key = AppendKey(key, b.Cols[c].Value(row))
	}
	ix.rows[string(key)] = append(ix.rows[string(key)], row)
}

// NewMemSource returns an empty source.
func NewMemSource() *MemSource { return &MemSource{tables: map[string]*memTable{}} }

// Create adds an empty table (replacing any table of that name).
func (m *MemSource) Create(name string, schema types.Schema) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tables[name] = &memTable{rows: types.NewBlock(schema, 0), indexes: map[string]*memIndex{}}
}

// Insert appends rows to a table created before; each row must match its
// schema.
func (m *MemSource) Insert(name string, rows ...[]types.Value) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tables[name]
	if !ok {
		return fmt.Errorf("memsource: unknown table %q", name)
	}
	for _, r := range rows {
		if len(r) != len(t.rows.Schema) {
			return fmt.Errorf("memsource: %s row has %d values, want %d", name, len(r), len(t.rows.Schema))
		}
		t.rows.AppendRow(r)
		for _, ix := range t.indexes {
			ix.add(t.rows, t.rows.Len-1)
		}
	}
	return nil
}

// index returns the index of t on keys, building it on first use. The
// caller holds the write lock.
func (t *memTable) index(keys []string) (*memIndex, error) {
	name := strings.Join(keys, "\x00")
	if ix, ok := t.indexes[name]; ok {
		return ix, nil
	}
	ix := &memIndex{rows: map[string][]int{}}
	for _, k := range keys {
		c := t.rows.Schema.Index(k)
		if c < 0 {
			return nil, fmt.Errorf("memsource: no column %q", k)
		}
		ix.cols = append(ix.cols, c)
	}
	for i := 0; i < t.rows.Len; i++ {
		ix.add(t.rows, i)
	}
	t.indexes[name] = ix
	return ix, nil
}

// Scan implements Source.
func (m *MemSource) Scan(ctx context.Context, q Query) (*types.Block, error) {
	m.mu.Lock() // an index may be built
	defer m.mu.Unlock()
	t, ok := m.tables[q.Table]
	if !ok {
		return nil, fmt.Errorf("memsource: unknown table %q", q.Table)
	}
	b := t.rows
	var rows []int
	if len(q.Keys) > 0 {
		ix, err := t.index(q.Keys)
		if err != nil {
			return nil, fmt.Errorf("%w (table %q)", err, q.Table)
		}
		var want []byte
		for _, v := range q.Values {
			want = AppendKey(want, v)
		}
		rows = ix.rows[string(want)]
	} else {
		rows = seq(0, b.Len)
	}
	if q.TS != "" {
		tsCol := b.Schema.Index(q.TS)
		if tsCol < 0 {
			return nil, fmt.Errorf("memsource: table %q has no column %q", q.Table, q.TS)
		}
		col := &b.Cols[tsCol]
		ts := func(i int) int64 { // a NULL orders first, as in a window
			if col.IsNull(i) {
				return math.MinInt64
			}
			return col.I[i]
		}
		var in []int
		for _, i := range rows {
			if ts(i) >= q.From && ts(i) <= q.To {
				in = append(in, i)
			}
		}
		slices.SortStableFunc(in, func(x, y int) int { return cmpInt(ts(x), ts(y)) })
		if q.Limit > 0 && len(in) > q.Limit {
			in = in[len(in)-q.Limit:]
		}
		rows = in
	}
	return b.Gather(rows), ctx.Err()
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// MemTiles is a MemSource with the tiles of an evaluator's tiled windows
// built from the rows of its request table (MemSource.Tiled). It is a
// snapshot: rows inserted afterwards are in no tile, so build it again
// after an insert. Safe for concurrent use.
type MemTiles struct {
	*MemSource
	windows map[string][]*Tile
}

// Tiled builds the tiles of ev's tiled windows from the rows m holds now
// in ev's request table, numbered in arrival order from 1. Windows whose
// tiles the evaluator cannot build (TiledWindows) get none.
func (m *MemSource) Tiled(ctx context.Context, ev *Evaluator) (*MemTiles, error) {
	tws := ev.ServedTiledWindows()
	m.mu.RLock()
	t, ok := m.tables[ev.plan.RequestTable]
	var rows *types.Block
	if ok {
		rows = t.rows.Gather(seq(0, t.rows.Len))
	}
	m.mu.RUnlock()
	out := &MemTiles{MemSource: m, windows: map[string][]*Tile{}}
	if !ok {
		return out, nil
	}
	seqs := make([]uint64, rows.Len)
	for i := range seqs {
		seqs[i] = uint64(i + 1)
	}
	for _, tw := range tws {
		tiles, err := tw.Build(ctx, rows, seqs)
		if err != nil {
			return nil, err
		}
		if tw.Coarse > 0 { // a finer level: tiles only in busy coarse buckets, per key
			tiles = fineTiles(tw, tiles)
		}
		slices.SortStableFunc(tiles, func(a, b *Tile) int { return cmpInt(a.Start, b.Start) })
		out.windows[tw.Name] = append(out.windows[tw.Name], tiles...)
	}
	return out, nil
}

// fineTiles keeps the tiles of a finer level that FineBuckets keeps,
// key by key.
func fineTiles(tw *TiledWindow, tiles []*Tile) []*Tile {
	byKey := map[string][]*Tile{}
	var order []string
	for _, t := range tiles {
		k := string(tw.appendKeyValues(nil, t.Key))
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], t)
	}
	var out []*Tile
	for _, k := range order {
		ts := byKey[k]
		starts, rows := make([]int64, len(ts)), make([]int, len(ts))
		for i, t := range ts {
			starts[i], rows[i] = t.Start, int(t.Rows)
		}
		for _, i := range tw.FineBuckets(starts, rows) {
			out = append(out, ts[i])
		}
	}
	return out
}

// Tiles implements TileSource.
func (s *MemTiles) Tiles(ctx context.Context, q TileQuery) ([]StoredTile, error) {
	var want, buf []byte
	for _, v := range q.Values {
		want = AppendKey(want, v)
	}
	var out []StoredTile
	for _, tile := range s.windows[q.Window] {
		if tile.Window.Width != q.Width || tile.Start < q.From || tile.Start >= q.To {
			continue
		}
		buf = tile.Window.appendKeyValues(buf[:0], tile.Key)
		if string(buf) != string(want) {
			continue
		}
		ps, err := tile.Encode()
		if err != nil {
			return nil, err
		}
		out = append(out, StoredTile{Start: tile.Start, Partials: ps})
	}
	return out, ctx.Err()
}
