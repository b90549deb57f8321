package storage

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// TiledIndex is where the tiles of a tiled window live in a table: the
// window, the index holding its tiles, and the window's id.
type TiledIndex struct {
	Window *eval.TiledWindow
	Table  *plan.Table
	Index  int
	ID     uint64
	// keyPos[i] is the position in Window.PartitionBy of the index's KEY
	// column i.
	keyPos []int
}

// NewTiledIndex returns where the tiles of tw, a window of the plan of
// version version over table def (its request table), live: the index on
// its PARTITION BY and ORDER BY columns. It fails, wrapping ErrNoIndex or
// ErrNoTiles, when no index serves it or the index cannot hold tiles.
func NewTiledIndex(def *plan.Table, version string, tw *eval.TiledWindow) (*TiledIndex, error) {
	keys := make([]string, len(tw.PartitionBy))
	for i, c := range tw.PartitionBy {
		keys[i] = def.Schema[c].Name
	}
	ord, ix, err := FindIndex(def, keys, def.Schema[tw.OrderBy].Name)
	if err != nil {
		return nil, err
	}
	if _, err := TileIndex(def, ord); err != nil {
		return nil, err
	}
	ti := &TiledIndex{Window: tw, Table: def, Index: ord, ID: WindowID(version, tw.Name)}
	for _, k := range ix.Keys {
		pos := -1
		for i, name := range keys {
			if strings.EqualFold(k, name) {
				pos = i
			}
		}
		ti.keyPos = append(ti.keyPos, pos)
	}
	return ti, nil
}

// IndexKey returns the index's KEY values of the window's key (values in
// PARTITION BY order).
func (ti *TiledIndex) IndexKey(key []types.Value) []types.Value {
	out := make([]types.Value, len(ti.keyPos))
	for i, p := range ti.keyPos {
		out[i] = key[p]
	}
	return out
}

// Rebuild rebuilds, from the rows ts stores now, the tiles of one key
// (values in PARTITION BY order) in the buckets whose starts are in
// [from, to) (for a finer level, in the whole buckets of its coarse width
// those touch, and only where BuiltBuckets keeps them): it reads the
// buckets with their tokens (ReadBuckets), builds each one's tile and
// writes them (WriteTiles). It returns the number of tiles written. A row
// written meanwhile only makes a tile stale, never wrong (TileStore).
func (ti *TiledIndex) Rebuild(ctx context.Context, ts TileStore, key []types.Value, from, to int64) (int, error) {
	from, to = BuildSpan(ti.Window, from, to)
	r := TileRange{Table: ti.Table.Name, Index: ti.Index, Window: ti.ID, Key: ti.IndexKey(key), Width: ti.Window.Width, From: from, To: to}
	buckets, err := ts.ReadBuckets(ctx, r)
	if err != nil {
		return 0, err
	}
	buckets = BuiltBuckets(ti.Window, buckets)
	tiles := make([]Tile, 0, len(buckets))
	for _, b := range buckets {
		t, err := BucketTile(ctx, ti.Window, r, b)
		if err != nil {
			return 0, err
		}
		tiles = append(tiles, t)
	}
	if len(tiles) == 0 {
		return 0, nil
	}
	return len(tiles), ts.WriteTiles(ctx, ti.Table.Name, tiles)
}

// BuildSpan returns the span of bucket starts a builder of tw reads to
// rebuild the buckets starting in [from, to): the same, or, for a finer
// level (tw.Coarse > 0), widened to the whole buckets of the coarse
// width, since whether a fine bucket has a tile depends on all of them
// (eval.TiledWindow.FineBuckets).
func BuildSpan(tw *eval.TiledWindow, from, to int64) (int64, int64) {
	if tw.Coarse == 0 || from >= to {
		return from, to
	}
	if s, ok := BucketStart(from, tw.Coarse); ok {
		from = s
	}
	if last, ok := BucketStart(to-1, tw.Coarse); ok && last <= math.MaxInt64-tw.Coarse {
		to = last + tw.Coarse
	}
	return from, to
}

// BuiltBuckets returns the buckets (read by ReadBuckets over a BuildSpan)
// that get tiles: all of them for a window's own level, for a finer level
// those in coarse buckets holding eval.FineMinRows rows or more.
func BuiltBuckets(tw *eval.TiledWindow, bs []Bucket) []Bucket {
	if tw.Coarse == 0 {
		return bs
	}
	starts, rows := make([]int64, len(bs)), make([]int, len(bs))
	for i, b := range bs {
		starts[i], rows[i] = b.Start, b.Rows.Len
	}
	keep := tw.FineBuckets(starts, rows)
	out := make([]Bucket, len(keep))
	for i, k := range keep {
		out[i] = bs[k]
	}
	return out
}

// BucketTile builds the tile of bucket bk (as ReadBuckets returned it for
// range r, one key of tw) as it is stored: with the bucket's token. A
// bucket whose rows the view's WHERE all drops gets an empty tile.
func BucketTile(ctx context.Context, tw *eval.TiledWindow, r TileRange, bk Bucket) (Tile, error) {
	tiles, err := tw.Build(ctx, bk.Rows, bk.Seqs)
	if err != nil {
		return Tile{}, fmt.Errorf("tile of window %s, key %v, bucket %d: %w", tw.Name, r.Key, bk.Start, err)
	}
	var t *eval.Tile
	switch {
	case len(tiles) == 0:
		t = tw.NewTile(nil, bk.Start)
	case len(tiles) == 1 && tiles[0].Start == bk.Start:
		t = tiles[0]
	default:
		return Tile{}, fmt.Errorf("storage: the %d rows of bucket %d of key %v made %d tiles of window %s, want one of that bucket",
			bk.Rows.Len, bk.Start, r.Key, len(tiles), tw.Name)
	}
	ps, err := t.Encode()
	if err != nil {
		return Tile{}, fmt.Errorf("tile of window %s, key %v, bucket %d: %w", tw.Name, r.Key, bk.Start, err)
	}
	return Tile{Index: r.Index, Window: r.Window, Key: r.Key, Start: bk.Start, Width: r.Width,
		Partials: ps, Rows: t.Rows, MaxSeq: t.MaxSeq, Token: bk.Token}, nil
}
