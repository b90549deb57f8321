package storage

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// TileStore keeps pre-aggregated tiles of long windows (DEPLOY
// OPTIONS(long_windows=...)) next to a table's rows. A Store may implement
// it; storage.Mem and storage/bigtable do. Implementations are safe for
// concurrent use.
//
// A tile is the partial states of a window's tiled aggregates over the
// rows of one key of one index whose TS values fall in one bucket. Tiles
// follow their index: its KEY columns, its TS column and its absolute TTL.
// An index with a latest part in its TTL (latest, absandlat, absorlat)
// cannot hold tiles, since whether a row is live depends on rows outside
// its bucket; windows over it read raw rows. Such an index, an index
// without TS and an ordinal out of range are ErrNoTiles.
//
// The store never decodes partial states: they are opaque bytes (as
// agg.Partial.AppendBinary writes them), returned as written.
type TileStore interface {
	// WriteTiles stores tiles of a table. A tile replaces the stored tile
	// of the same identity (Index, Window, Key, Width, Start), whole: a
	// reader sees the old tile or the new one, never a mix, and writing
	// the same tile again stores the same bytes, so a failed write is
	// safe to retry. Tiles that do not fit the table (CheckTiles) fail the
	// write before anything is stored.
	WriteTiles(ctx context.Context, table string, tiles []Tile) error
	// ReadTiles returns the tiles of one key of one window in a range of
	// bucket starts, oldest first, without those the index's absolute TTL
	// expired (TileExpired). Each tile's Key is r.Key.
	ReadTiles(ctx context.Context, r TileRange) ([]Tile, error)
}

// Tile is one bucket of a tiled window for one key.
type Tile struct {
	// Index is the ordinal of the index in the table's Indexes.
	Index int
	// Window identifies the tiled window (WindowID): tiles of other
	// windows, or of another version of the same window, never mix.
	Window uint64
	// Key holds the index's KEY values, in the index's KEY order. Values
	// match as Read matches them: NULL equals NULL, integers of any width
	// are one key.
	Key []types.Value
	// The bucket is the TS values [Start, Start+Width): Width is positive
	// and Start a multiple of it (BucketStart).
	Start, Width int64
	// Partials are the encoded partial states of the window's tiled
	// aggregates, in the window's order.
	Partials [][]byte
	// Rows is the number of rows the tile covers.
	Rows uint64
	// MaxSeq is the highest arrival sequence number among the rows the
	// tile covers. A reader counts the bucket's rows of greater sequence
	// numbers from raw rows: the tile has not seen them yet.
	MaxSeq uint64
}

// TileRange selects the tiles of one key of one window: those of width
// Width whose Start is in [From, To).
type TileRange struct {
	Table  string
	Index  int
	Window uint64
	Key    []types.Value
	Width  int64
	// From and To bound the bucket starts: From <= Start < To.
	From, To int64
}

// WindowID returns the identity of a tiled window: the first 8 bytes,
// big-endian, of the SHA-256 of the plan version, a 0x00 byte and the
// window's name. Keying tiles by the plan version means a changed view
// never reads tiles of its old definition.
func WindowID(version, window string) uint64 {
	h := sha256.Sum256([]byte(version + "\x00" + window))
	return binary.BigEndian.Uint64(h[:8])
}

// BucketStart returns the start of the bucket of width width that holds
// TS value ts: floor(ts / width) * width. ok is false when width is not
// positive or the start is below math.MinInt64 (the order value of a
// NULL TS has no bucket unless width divides it).
func BucketStart(ts, width int64) (start int64, ok bool) {
	if width <= 0 {
		return 0, false
	}
	q := ts / width
	if ts%width < 0 {
		q--
	}
	if q < math.MinInt64/width {
		return 0, false
	}
	return q * width, true
}

// TileIndex returns index ord of def if it can hold tiles, else an error
// wrapping ErrNoTiles.
func TileIndex(def *plan.Table, ord int) (*plan.Index, error) {
	if ord < 0 || ord >= len(def.Indexes) {
		return nil, fmt.Errorf("%w: table %s has no index %d", ErrNoTiles, def.Name, ord)
	}
	ix := def.Indexes[ord]
	switch {
	case ix.TS == "":
		return nil, fmt.Errorf("%w: index %d of table %s has no TS column", ErrNoTiles, ord, def.Name)
	case ix.TTLLat > 0:
		return nil, fmt.Errorf("%w: index %d of table %s has a latest TTL (%s); windows over it read raw rows", ErrNoTiles, ord, def.Name, ix.TTLType)
	}
	return ix, nil
}

// TileExpired reports whether the absolute TTL of ix expired, at now, a
// tile starting at start: whether it may cover an expired row. It is
// Expired applied to the oldest time the tile can cover.
func TileExpired(ix *plan.Index, now time.Time, start int64) bool {
	return Expired(ix, now, start, 0)
}

// CheckTiles reports tiles that do not fit table def: an index that
// cannot hold tiles, a key of the wrong length or types, a bucket that is
// not aligned.
func CheckTiles(def *plan.Table, tiles []Tile) error {
	for i := range tiles {
		if err := checkTile(def, &tiles[i]); err != nil {
			return fmt.Errorf("tile %d of %d: %w", i+1, len(tiles), err)
		}
	}
	return nil
}

func checkTile(def *plan.Table, t *Tile) error {
	ix, err := TileIndex(def, t.Index)
	if err != nil {
		return err
	}
	if err := checkTileKey(def, ix, t.Key); err != nil {
		return err
	}
	if s, ok := BucketStart(t.Start, t.Width); !ok || s != t.Start {
		return fmt.Errorf("storage: tile bucket start %d is not a multiple of its width %d", t.Start, t.Width)
	}
	return nil
}

// checkTileKey accepts a key of the index's KEY columns: each value NULL
// or of the column's type, any integer width for an integer column.
func checkTileKey(def *plan.Table, ix *plan.Index, key []types.Value) error {
	if len(key) != len(ix.Keys) {
		return fmt.Errorf("%w: a tile key of %d values for an index of %d KEY columns (%v)", ErrSchema, len(key), len(ix.Keys), ix.Keys)
	}
	for i, name := range ix.Keys {
		t := def.Schema[def.Schema.Index(name)].Type
		if v := key[i]; !v.Null && v.Type != t && !(v.Type.IsInteger() && t.IsInteger()) {
			return fmt.Errorf("%w: tile key column %s is %s, the value is %s", ErrSchema, name, t, v.Type)
		}
	}
	return nil
}

// CheckTileRange returns the index r reads, or an error for a range no
// index serves.
func CheckTileRange(def *plan.Table, r TileRange) (*plan.Index, error) {
	ix, err := TileIndex(def, r.Index)
	if err != nil {
		return nil, err
	}
	if len(r.Key) != len(ix.Keys) {
		return nil, fmt.Errorf("%w: a tile key of %d values for an index of %d KEY columns (%v)", ErrSchema, len(r.Key), len(ix.Keys), ix.Keys)
	}
	if r.Width <= 0 {
		return nil, fmt.Errorf("storage: tile width %d is not positive", r.Width)
	}
	return ix, nil
}

// WriteTiles implements TileStore.
func (m *Mem) WriteTiles(ctx context.Context, table string, tiles []Tile) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := m.table(table)
	if err != nil {
		return err
	}
	if err := CheckTiles(t.def, tiles); err != nil {
		return err
	}
	for _, tile := range tiles {
		tile = cloneTile(tile)
		if at := slices.IndexFunc(t.tiles, func(o Tile) bool { return sameTile(o, tile) }); at >= 0 {
			t.tiles[at] = tile
			continue
		}
		t.tiles = append(t.tiles, tile)
	}
	return ctx.Err()
}

// ReadTiles implements TileStore.
func (m *Mem) ReadTiles(ctx context.Context, r TileRange) ([]Tile, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	t, err := m.table(r.Table)
	if err != nil {
		return nil, err
	}
	ix, err := CheckTileRange(t.def, r)
	if err != nil {
		return nil, err
	}
	now := m.now()
	var out []Tile
	for _, tile := range t.tiles {
		if tile.Index == r.Index && tile.Window == r.Window && tile.Width == r.Width && sameKey(tile.Key, r.Key) &&
			tile.Start >= r.From && tile.Start < r.To && !TileExpired(ix, now, tile.Start) {
			tile = cloneTile(tile)
			tile.Key = r.Key
			out = append(out, tile)
		}
	}
	slices.SortFunc(out, func(a, b Tile) int { return cmp.Compare(a.Start, b.Start) })
	return out, ctx.Err()
}

func sameTile(a, b Tile) bool {
	return a.Index == b.Index && a.Window == b.Window && a.Width == b.Width && a.Start == b.Start && sameKey(a.Key, b.Key)
}

// sameKey compares keys as Read matches them (NULL equal to NULL).
func sameKey(a, b []types.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Null || b[i].Null {
			if a[i].Null != b[i].Null {
				return false
			}
			continue
		}
		if types.Compare(a[i], b[i]) != 0 {
			return false
		}
	}
	return true
}

// cloneTile copies a tile's slices, so the store and its callers never
// share memory.
func cloneTile(t Tile) Tile {
	t.Key = slices.Clone(t.Key)
	ps := make([][]byte, len(t.Partials))
	for i, p := range t.Partials {
		ps[i] = slices.Clone(p)
		if ps[i] == nil {
			ps[i] = []byte{}
		}
	}
	t.Partials = ps
	return t
}
