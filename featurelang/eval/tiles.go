package eval

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/fenestra-dev/fenestra/featurelang/agg"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// TiledWindow is a long window of a view (DEPLOY OPTIONS(long_windows=...))
// with at least one aggregate call the plan serves from tiles
// (plan.Expr.Tile): what a writer needs to build the window's tiles from
// rows of the request table. It evaluates the partition, order and
// aggregate arguments with the evaluator's compiled expressions, so a tile
// holds exactly what the window's accumulators would see. A TiledWindow is
// immutable and safe for concurrent use; it does no I/O.
type TiledWindow struct {
	// Name is the window's name (as storage.WindowID takes it).
	Name string
	// Width is the bucket width in order-value units (milliseconds): a
	// bucket holds the order values [Start, Start+Width), Start a multiple
	// of Width.
	Width int64
	// PartitionBy and OrderBy are the request table's columns the window
	// partitions and orders by; a tile's Key holds the PartitionBy values.
	PartitionBy []int
	OrderBy     int
	// Funcs are the window's tiled aggregate calls in the order the view
	// evaluates them (its SELECT list, left to right): a tile's
	// Partials[i] is the state of Funcs[i].
	Funcs []*agg.Func
	// Fine is the window's finer level, or nil: the same window in
	// buckets of Width/24, which request mode takes at the edges of a
	// frame, inside the partial buckets of Width, so a busy key reads at
	// most two fine buckets of rows rather than two buckets. A window of
	// a width divisible by 24 (1d: 1h, 6h: 15m) has one. Its tiles are
	// built only for the buckets of Width holding FineMinRows rows or
	// more (FineBuckets): for fewer, reading the rows costs less.
	Fine *TiledWindow
	// Coarse is, for a finer level, the width of the level it refines;
	// 0 for a window's own level.
	Coarse int64

	table   *plan.Table
	g       *windowGroup
	sites   []*aggSite
	filters []*node // the view's WHERE nodes below the window, innermost first
}

// Tile is the state of a tiled window over the rows of one key whose order
// values fall in one bucket. A Tile is used by one goroutine.
type Tile struct {
	Window *TiledWindow
	// Key holds the window's PARTITION BY values, Start the bucket's start.
	Key   []types.Value
	Start int64
	// Partials are the states of Window.Funcs over the tile's rows, added
	// in window order (order value, then arrival sequence).
	Partials []agg.Partial
	// Rows is the number of rows, MaxSeq the highest arrival sequence
	// number and MaxOrder the highest order value among them (0 when
	// Rows is 0). Add uses MaxSeq and MaxOrder to refuse late rows.
	Rows     uint64
	MaxSeq   uint64
	MaxOrder int64
}

// Bucket is the rows of one key in one bucket of a tiled window.
type Bucket struct {
	Key   []types.Value
	Start int64
	// Rows are the rows' positions in the block given, in window order.
	Rows []int
}

// TiledWindows returns the tiled windows of the view, in plan order, each
// followed by its finer level (TiledWindow.Fine) when it has one: the
// long windows with at least one aggregate call whose plan.Expr.Tile says
// tiled. It fails for a tiled window it cannot build tiles for: one whose
// PARTITION BY or ORDER BY is not a plain column, or whose rows are not
// the request table's (through WHERE clauses and LAST JOINs).
func (e *Evaluator) TiledWindows() ([]*TiledWindow, error) {
	var out []*TiledWindow
	var err error
	walkNodes(e.root, func(n *node) {
		if err != nil || n.p.Op != plan.Project {
			return
		}
		for wi, w := range n.p.Windows {
			if w.Tiles == nil || w.Tiles.BucketMs <= 0 {
				continue
			}
			var tw *TiledWindow
			if tw, err = e.tiledWindow(n, wi); err != nil {
				return
			}
			if tw != nil {
				out = append(out, tw)
				if tw.Fine != nil {
					out = append(out, tw.Fine)
				}
			}
		}
	})
	return out, err
}

func walkNodes(n *node, f func(*node)) {
	if n == nil {
		return
	}
	f(n)
	walkNodes(n.input, f)
	walkNodes(n.right, f)
}

// tiledWindow returns window wi of Project n as a TiledWindow, or nil
// when none of its aggregates is tiled.
func (e *Evaluator) tiledWindow(n *node, wi int) (*TiledWindow, error) {
	w := n.p.Windows[wi]
	tw := &TiledWindow{Name: w.Name, Width: w.Tiles.BucketMs, table: e.plan.Table(e.plan.RequestTable)}
	for _, site := range n.aggs {
		if site.window == wi && site.tiled {
			if site.fn.NewPartial() == nil {
				return nil, fmt.Errorf("eval: tiles of window %s: %s has no partial state", w.Name, site.fn.Name)
			}
			tw.sites = append(tw.sites, site)
			tw.Funcs = append(tw.Funcs, site.fn)
		}
	}
	if len(tw.sites) == 0 {
		return nil, nil
	}
	for _, g := range n.groups {
		if slices.ContainsFunc(g.windows, func(we *windowEval) bool { return we.index == wi }) {
			tw.g = g
		}
	}
	if w.OrderBy == nil || w.OrderBy.Op != plan.Col {
		return nil, fmt.Errorf("eval: tiles of window %s: only a plain ORDER BY column is supported", w.Name)
	}
	tw.OrderBy = w.OrderBy.Col
	for _, p := range w.PartitionBy {
		if p.Op != plan.Col {
			return nil, fmt.Errorf("eval: tiles of window %s: only plain PARTITION BY columns are supported", w.Name)
		}
		tw.PartitionBy = append(tw.PartitionBy, p.Col)
	}
	// The window's rows are the request table's, through WHERE clauses
	// and LAST JOINs (which keep every left row). The tiles are built
	// from the table's own rows, so what they evaluate (the partition,
	// the order, the tiled arguments, the WHERE conditions) must read
	// only its columns, which come first in every row of the chain.
	own := len(tw.table.Schema)
	reads := []*plan.Expr{w.OrderBy}
	reads = append(reads, w.PartitionBy...)
	for _, site := range tw.sites {
		reads = append(reads, site.expr.Args...)
	}
	in := n.input
	for in != nil && (in.p.Op == plan.Filter || in.p.Op == plan.LastJoin) {
		if in.p.Op == plan.Filter {
			tw.filters = append(tw.filters, in)
			reads = append(reads, in.p.Cond)
		}
		in = in.input
	}
	if in == nil || in.p.Op != plan.Scan || in.p.Table != e.plan.RequestTable || tw.table == nil || tw.g == nil {
		return nil, fmt.Errorf("eval: tiles of window %s: only windows over the request table's rows (through WHERE clauses and LAST JOINs) are supported", w.Name)
	}
	for _, x := range reads {
		if c := maxCol(x); c >= own {
			return nil, fmt.Errorf("eval: tiles of window %s: a tiled argument, its partition, order or a WHERE reads column %d, not one of table %s's own", w.Name, c+1, tw.table.Name)
		}
	}
	slices.Reverse(tw.filters)
	if tw.Width%24 == 0 {
		fine := *tw
		fine.Width, fine.Coarse = tw.Width/24, tw.Width
		tw.Fine = &fine
	}
	return tw, nil
}

// FineMinRows is how many rows a bucket of a window must hold for its
// finer level (TiledWindow.Fine) to have tiles in it.
const FineMinRows = 256

// FineBuckets returns, of the buckets of a finer level (starts and row
// counts, in any order), those in buckets of w.Coarse that hold
// FineMinRows rows or more in all: the buckets whose tiles are built.
// Every bucket of w.Coarse the starts touch must be whole among them. For
// a window's own level it returns every bucket.
func (w *TiledWindow) FineBuckets(starts []int64, rows []int) []int {
	keep := make([]int, 0, len(starts))
	if w.Coarse == 0 {
		for i := range starts {
			keep = append(keep, i)
		}
		return keep
	}
	total := map[int64]int{}
	for i, s := range starts {
		c, _ := bucketStart(s, w.Coarse)
		total[c] += rows[i]
	}
	for i, s := range starts {
		if c, _ := bucketStart(s, w.Coarse); total[c] >= FineMinRows {
			keep = append(keep, i)
		}
	}
	return keep
}

// maxCol returns the highest input column e reads, or -1.
func maxCol(e *plan.Expr) int {
	if e == nil {
		return -1
	}
	m := -1
	switch e.Op {
	case plan.Col:
		m = e.Col
	case plan.CEL:
		for _, v := range e.CEL.Vars {
			m = max(m, v.Col)
		}
	}
	for _, a := range e.Args {
		m = max(m, maxCol(a))
	}
	return m
}

// BuildTiles builds the tiles of every tiled window of the view (see
// TiledWindow.Build) from rows of the request table and their arrival
// sequence numbers: the tiles of TiledWindows()[0], then [1], and so on.
func (e *Evaluator) BuildTiles(ctx context.Context, rows *types.Block, seqs []uint64) ([]*Tile, error) {
	tws, err := e.TiledWindows()
	if err != nil {
		return nil, err
	}
	var out []*Tile
	for _, tw := range tws {
		ts, err := tw.Build(ctx, rows, seqs)
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
	}
	return out, nil
}

// Build returns the tiles of the window over rows (of the request table,
// in its column order; seqs[i] is the arrival sequence number of row i,
// distinct): one per key and bucket that holds a row, in order of their
// first row in the block. Rows the view's WHERE drops are in no tile, nor
// are rows whose order value has no bucket (a NULL order value orders as
// math.MinInt64, below every bucket a width reaches): they precede every
// bucket, so a reader reads them raw. Building the same rows, in any
// block order, gives tiles whose partials encode to the same bytes.
func (w *TiledWindow) Build(ctx context.Context, rows *types.Block, seqs []uint64) ([]*Tile, error) {
	tr, err := w.prepare(rows, seqs)
	if err != nil {
		return nil, err
	}
	bs := w.group(tr)
	tiles := make([]*Tile, len(bs))
	for i, b := range bs {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		tiles[i] = w.NewTile(b.Key, b.Start)
		tiles[i].add(tr, b.Rows)
	}
	return tiles, nil
}

// Buckets splits rows as Build does, without aggregating: the rows of
// each key and bucket, by position in rows, in window order. A stream
// uses it to find the tile each new row goes to.
func (w *TiledWindow) Buckets(rows *types.Block, seqs []uint64) ([]Bucket, error) {
	tr, err := w.prepare(rows, seqs)
	if err != nil {
		return nil, err
	}
	bs := w.group(tr)
	for _, b := range bs {
		for i, r := range b.Rows {
			b.Rows[i] = tr.pos[r]
		}
	}
	return bs, nil
}

// NewTile returns the empty tile of key and the bucket starting at start.
func (w *TiledWindow) NewTile(key []types.Value, start int64) *Tile {
	t := &Tile{Window: w, Key: key, Start: start, Partials: make([]agg.Partial, len(w.Funcs))}
	for i, f := range w.Funcs {
		t.Partials[i] = f.NewPartial()
	}
	return t
}

// Decode decodes stored partials (agg.Partial.AppendBinary's bytes, one
// per Funcs entry) for a Tile the caller assembles with the stored Key,
// Start, Rows, MaxSeq and MaxOrder.
func (w *TiledWindow) Decode(partials [][]byte) ([]agg.Partial, error) {
	if len(partials) != len(w.Funcs) {
		return nil, fmt.Errorf("%w: window %s has %d tiled aggregates, got %d partials", ErrInput, w.Name, len(w.Funcs), len(partials))
	}
	out := make([]agg.Partial, len(partials))
	for i, b := range partials {
		p, err := agg.DecodePartial(w.Funcs[i], b)
		if err != nil {
			return nil, fmt.Errorf("window %s, %s: %w", w.Name, w.Funcs[i].Name, err)
		}
		out[i] = p
	}
	return out, nil
}

// Encode returns the serialized partials of t, in Funcs order.
func (t *Tile) Encode() ([][]byte, error) {
	out := make([][]byte, len(t.Partials))
	for i, p := range t.Partials {
		b, err := p.AppendBinary(nil)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// Add is the stream's update: it adds rows (of the request table, with
// their distinct arrival sequence numbers) to t, in window order. Every
// row must belong to t (its key and bucket; a row the view's WHERE drops
// is ignored), else Add fails with ErrInput.
//
// The result equals building the tile from all its rows at once only when
// every new row comes after the tile's rows in window order. Add cannot
// tell that from the tile alone unless each new row has a sequence number
// above t.MaxSeq (a row it cannot have seen) and an order value at or
// above t.MaxOrder (so it sorts after every row it holds). A row that
// fails this, a late or replayed row, makes Add fail with ErrLateRow and
// leave t unchanged: the caller rebuilds the bucket from all its stored
// rows with Build.
func (t *Tile) Add(rows *types.Block, seqs []uint64) error {
	w := t.Window
	tr, err := w.prepare(rows, seqs)
	if err != nil {
		return err
	}
	want := w.appendKeyValues(nil, t.Key)
	var buf []byte
	idx := make([]int, 0, tr.blk.Len)
	for i := range tr.blk.Len {
		start, ok := bucketStart(tr.ts[i], w.Width)
		buf = w.appendKey(buf[:0], tr.blk, i)
		if !ok || start != t.Start || !bytes.Equal(buf, want) {
			return fmt.Errorf("%w: row %d is not in tile %v@%d of window %s", ErrInput, tr.pos[i]+1, t.Key, t.Start, w.Name)
		}
		if t.Rows > 0 && (tr.seqs[i] <= t.MaxSeq || tr.ts[i] < t.MaxOrder) {
			return fmt.Errorf("%w: row %d (sequence %d, order %d) of window %s, tile %v@%d holding up to sequence %d, order %d",
				ErrLateRow, tr.pos[i]+1, tr.seqs[i], tr.ts[i], w.Name, t.Key, t.Start, t.MaxSeq, t.MaxOrder)
		}
		idx = append(idx, i)
	}
	tr.sortWindow(idx)
	t.add(tr, idx)
	return nil
}

// add adds rows idx of tr, in the order given.
func (t *Tile) add(tr *tileRows, idx []int) {
	var args []types.Value
	for _, r := range idx {
		for si, cols := range tr.args {
			args = args[:0]
			for _, c := range cols {
				args = append(args, c.Value(r))
			}
			t.Partials[si].Add(args)
		}
		if t.Rows == 0 || tr.ts[r] > t.MaxOrder {
			t.MaxOrder = tr.ts[r]
		}
		t.MaxSeq = max(t.MaxSeq, tr.seqs[r])
		t.Rows++
	}
}

// tileRows is a block of request rows prepared for tiling: the rows the
// view's WHERE keeps, with their positions in the given block, sequence
// numbers, order values and the argument columns of each tiled call.
type tileRows struct {
	blk  *types.Block
	pos  []int
	seqs []uint64
	ts   []int64
	args [][]*types.Column
}

func (w *TiledWindow) prepare(rows *types.Block, seqs []uint64) (*tileRows, error) {
	if err := checkSchema(w.table, rows.Schema); err != nil {
		return nil, err
	}
	if len(seqs) != rows.Len {
		return nil, fmt.Errorf("%w: %d rows, %d sequence numbers", ErrInput, rows.Len, len(seqs))
	}
	tr := &tileRows{blk: rows, pos: seq(0, rows.Len)}
	for _, f := range w.filters {
		keep, err := filterKeep(f, tr.blk)
		if err != nil {
			return nil, err
		}
		tr.blk = tr.blk.Gather(keep)
		for i, k := range keep {
			tr.pos[i] = tr.pos[k]
		}
		tr.pos = tr.pos[:len(keep)]
	}
	tr.seqs = make([]uint64, len(tr.pos))
	for i, p := range tr.pos {
		tr.seqs[i] = seqs[p]
	}
	c := newCtx()
	c.blk = tr.blk
	tr.ts = orderValues(w.g, tr.blk, c)
	for _, site := range w.sites {
		cols, err := argColumns(site, tr.blk, c)
		if err != nil {
			return nil, err
		}
		tr.args = append(tr.args, cols)
	}
	return tr, nil
}

// group splits the rows of tr by key and bucket, in order of first
// appearance, each bucket's rows (positions in tr.blk) in window order.
func (w *TiledWindow) group(tr *tileRows) []Bucket {
	byKey := map[string]int{}
	var out []Bucket
	var buf []byte
	for i := range tr.blk.Len {
		start, ok := bucketStart(tr.ts[i], w.Width)
		if !ok {
			continue
		}
		buf = binary.BigEndian.AppendUint64(w.appendKey(buf[:0], tr.blk, i), uint64(start))
		j, ok := byKey[string(buf)]
		if !ok {
			j = len(out)
			byKey[string(buf)] = j
			key := make([]types.Value, len(w.PartitionBy))
			for k, col := range w.PartitionBy {
				key[k] = tr.blk.Cols[col].Value(i)
			}
			out = append(out, Bucket{Key: key, Start: start})
		}
		out[j].Rows = append(out[j].Rows, i)
	}
	for _, b := range out {
		tr.sortWindow(b.Rows)
	}
	return out
}

// sortWindow sorts positions of tr.blk into window order: by order value,
// then arrival sequence.
func (tr *tileRows) sortWindow(idx []int) {
	slices.SortStableFunc(idx, func(a, b int) int {
		if c := cmp.Compare(tr.ts[a], tr.ts[b]); c != 0 {
			return c
		}
		return cmp.Compare(tr.seqs[a], tr.seqs[b])
	})
}

// appendKey appends the key encoding (AppendKey) of row i's partition.
func (w *TiledWindow) appendKey(buf []byte, blk *types.Block, i int) []byte {
	for _, col := range w.PartitionBy {
		buf = AppendKey(buf, blk.Cols[col].Value(i))
	}
	return buf
}

func (w *TiledWindow) appendKeyValues(buf []byte, key []types.Value) []byte {
	for _, v := range key {
		buf = AppendKey(buf, v)
	}
	return buf
}

// bucketStart returns floor(ts/width)*width, the start of the bucket that
// holds ts (storage.BucketStart); ok is false when that is below
// math.MinInt64.
func bucketStart(ts, width int64) (start int64, ok bool) {
	q := ts / width
	if ts%width < 0 {
		q--
	}
	if q < math.MinInt64/width {
		return 0, false
	}
	return q * width, true
}
