package storage

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
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
// Consistency: a tile is valid only while its bucket holds exactly the
// rows it was built from, and the store checks that, not the writers.
// Every bucket has a token, a fingerprint of the stored state of its rows
// that any write of a row into the bucket changes (each store defines
// its own; it is 0 while no row was ever stored in the bucket, or, in
// Bigtable, in the day rows it spans). ReadBuckets returns a bucket's
// rows with its token, read together; a builder builds the tile from
// those rows and writes it with that token; ReadTiles returns a tile only
// while its token is its bucket's current one. A row written after the
// builder's ReadBuckets, by any writer, makes the tile stale: it is
// omitted, and a reader reads the bucket's raw rows, until a builder
// rebuilds it. So writers of rows need no protocol, and concurrent
// builders cannot make a reader wrong (the last tile written may be a
// stale one: slower, never wrong).
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
	// ReadTiles returns the current tiles of one key of one window in a
	// range of bucket starts, oldest first: those whose Token is their
	// bucket's token now, without those the index's absolute TTL expired
	// (TileExpired). Each tile's Key is r.Key.
	ReadTiles(ctx context.Context, r TileRange) ([]Tile, error)
	// ReadBuckets returns, for one key of one index, every bucket of width
	// r.Width whose start is in [r.From, r.To) and that holds a live row,
	// oldest first, with its rows and its token (r.Window is not used).
	// A bucket's rows are what Read returns for the key and the bucket's
	// TS values (TTL applied, one row per sequence number), in window
	// order. A tile built from them and written with Token set to the
	// bucket's Token is current until a row is written into the bucket.
	ReadBuckets(ctx context.Context, r TileRange) ([]Bucket, error)
}

// Bucket is the stored rows of one key of an index whose TS values fall in
// [Start, Start+Width), as ReadBuckets returns them.
type Bucket struct {
	Start int64
	// Rows are in the table's column order and window order: TS
	// ascending, then sequence number ascending. Seqs[i] is the sequence
	// number of row i.
	Rows *types.Block
	Seqs []uint64
	// Token is the bucket's token when its rows were read: a tile built
	// from Rows carries it.
	Token uint64
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
	// tile covers.
	MaxSeq uint64
	// Token is the token of the tile's bucket when its rows were read
	// (Bucket.Token): ReadTiles returns the tile only while the bucket's
	// token is still Token.
	Token uint64
}

// TileRange selects the tiles of one key of one window: those of width
// Width whose Start is in [From, To). ReadBuckets uses all but Window.
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

// BucketSpan returns the TS values the buckets of width width whose
// starts are in [from, to) cover: [lo, hi], both inclusive. ok is false
// when no such bucket exists (or width is not positive).
func BucketSpan(from, to, width int64) (lo, hi int64, ok bool) {
	if width <= 0 || from >= to {
		return 0, 0, false
	}
	first, ok := BucketStart(from, width)
	if !ok {
		if first, ok = BucketStart(math.MinInt64+width-1, width); !ok {
			return 0, 0, false
		}
	}
	if first < from {
		if first > math.MaxInt64-width {
			return 0, 0, false
		}
		first += width
	}
	last, ok := BucketStart(to-1, width)
	if !ok || last < first {
		return 0, 0, false
	}
	hi = math.MaxInt64
	if last <= math.MaxInt64-(width-1) {
		hi = last + width - 1
	}
	return first, hi, true
}

// BucketOf reports whether TS value ts falls in the bucket of width width
// that starts at start, without overflowing.
func BucketOf(ts, start, width int64) bool {
	return ts >= start && uint64(ts)-uint64(start) < uint64(width)
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

// ReadTiles implements TileStore. A tile is current when its Token is
// memToken of its bucket.
func (m *Mem) ReadTiles(ctx context.Context, r TileRange) ([]Tile, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	t, ix, err := m.tileTable(r)
	if err != nil {
		return nil, err
	}
	now := m.now()
	rows, ts := t.windowRows(ix, r.Key)
	var out []Tile
	for _, tile := range t.tiles {
		if tile.Index == r.Index && tile.Window == r.Window && tile.Width == r.Width && sameKey(tile.Key, r.Key) &&
			tile.Start >= r.From && tile.Start < r.To && !TileExpired(ix, now, tile.Start) &&
			tile.Token == memToken(t, rows, ts, tile.Start, tile.Width) {
			tile = cloneTile(tile)
			tile.Key = r.Key
			out = append(out, tile)
		}
	}
	slices.SortFunc(out, func(a, b Tile) int { return cmp.Compare(a.Start, b.Start) })
	return out, ctx.Err()
}

// tileTable returns the table and index r reads; the caller holds m.mu.
func (m *Mem) tileTable(r TileRange) (*memTable, *plan.Index, error) {
	t, err := m.table(r.Table)
	if err != nil {
		return nil, nil, err
	}
	ix, err := CheckTileRange(t.def, r)
	return t, ix, err
}

// ReadBuckets implements TileStore.
func (m *Mem) ReadBuckets(ctx context.Context, r TileRange) ([]Bucket, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	t, ix, err := m.tileTable(r)
	if err != nil {
		return nil, err
	}
	lo, hi, ok := BucketSpan(r.From, r.To, r.Width)
	if !ok {
		return nil, ctx.Err()
	}
	now := m.now()
	rows, ts := t.windowRows(ix, r.Key)
	var out []Bucket
	var idx []int
	flush := func(start int64) {
		if len(idx) == 0 {
			return
		}
		b := Bucket{Start: start, Rows: t.rows.Gather(idx), Seqs: make([]uint64, len(idx)), Token: memToken(t, rows, ts, start, r.Width)}
		for i, row := range idx {
			b.Seqs[i] = t.seqs[row]
		}
		out, idx = append(out, b), idx[:0]
	}
	cur := int64(0)
	for i, row := range rows {
		if ts[i] < lo || ts[i] > hi || Expired(ix, now, ts[i], 0) {
			continue
		}
		start, _ := BucketStart(ts[i], r.Width) // lo <= ts: the bucket exists
		if start != cur {
			flush(cur)
			cur = start
		}
		idx = append(idx, row)
	}
	flush(cur)
	return out, ctx.Err()
}

// windowRows returns the stored rows of one key of index ix (its KEY
// values in KEY order), TTL not applied, in window order (TS, then
// sequence number, ascending), and their TS values.
func (t *memTable) windowRows(ix *plan.Index, key []types.Value) (rows []int, ts []int64) {
	tsCol := t.def.Schema.Index(ix.TS)
	for i := 0; i < t.rows.Len; i++ {
		if matches(t.rows, i, ix.Keys, key) {
			rows = append(rows, i)
		}
	}
	slices.SortFunc(rows, func(a, b int) int {
		return cmp.Or(cmp.Compare(orderValue(t.rows, tsCol, a), orderValue(t.rows, tsCol, b)), cmp.Compare(t.seqs[a], t.seqs[b]))
	})
	ts = make([]int64, len(rows))
	for i, row := range rows {
		ts[i] = orderValue(t.rows, tsCol, row)
	}
	return rows, ts
}

// memToken is the token of the bucket [start, start+width) of a key
// whose stored rows, in window order, are rows (with TS values ts): the
// FNV-1a 64-bit hash of, for each of its rows in window order, TS,
// sequence number and stamp (the Write call that last wrote it), 8 bytes
// big-endian each; 0 when the bucket has no row. Every Write of a row
// into the bucket gives it a new stamp, and a row rewritten with another
// TS leaves one bucket for another, so any write changes the token of the
// buckets it touches. TTLs do not enter: a tile's bucket holds no
// expired row while the tile is not expired itself (TileExpired).
func memToken(t *memTable, rows []int, ts []int64, start, width int64) uint64 {
	i, _ := slices.BinarySearch(ts, start)
	if i == len(ts) || !BucketOf(ts[i], start, width) {
		return 0
	}
	h := fnv.New64a()
	var b [24]byte
	for ; i < len(ts) && BucketOf(ts[i], start, width); i++ {
		binary.BigEndian.PutUint64(b[:8], uint64(ts[i]))
		binary.BigEndian.PutUint64(b[8:16], t.seqs[rows[i]])
		binary.BigEndian.PutUint64(b[16:], t.stamps[rows[i]])
		h.Write(b[:])
	}
	return h.Sum64()
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

var (
	_ eval.TileSource      = (*Mem)(nil)
	_ eval.MultiTileSource = (*Mem)(nil)
)

// Tiles implements eval.TileSource (see QueryTiles).
func (m *Mem) Tiles(ctx context.Context, q eval.TileQuery) ([]eval.StoredTile, error) {
	def, err := m.Describe(ctx, q.Table)
	if err != nil {
		return nil, err
	}
	return QueryTiles(ctx, m, def, q)
}

// TilesMany implements eval.MultiTileSource (see QueryTilesMany): queries
// of one table are answered together, those of several one by one.
func (m *Mem) TilesMany(ctx context.Context, qs []eval.TileQuery) ([][]eval.StoredTile, error) {
	if len(qs) == 0 || slices.ContainsFunc(qs, func(q eval.TileQuery) bool { return q.Table != qs[0].Table }) {
		return TilesEach(ctx, m, qs)
	}
	def, err := m.Describe(ctx, qs[0].Table)
	if err != nil {
		return nil, err
	}
	return QueryTilesMany(ctx, m, def, qs)
}

// TilesEach answers each query of qs with src.Tiles, in turn.
func TilesEach(ctx context.Context, src eval.TileSource, qs []eval.TileQuery) ([][]eval.StoredTile, error) {
	out := make([][]eval.StoredTile, len(qs))
	for i, q := range qs {
		var err error
		if out[i], err = src.Tiles(ctx, q); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// TileRangesReader is a TileStore that reads several tile ranges in one
// call. QueryTilesMany uses it when a store has it.
type TileRangesReader interface {
	TileStore
	// ReadTilesMany returns, for each range of rs, what ReadTiles returns
	// for it.
	ReadTilesMany(ctx context.Context, rs []TileRange) ([][]Tile, error)
}

// QueryTiles answers an eval.TileQuery from ts, a store of table def: it
// finds the index on the window's PARTITION BY columns (q.Keys, any order)
// and ORDER BY column (q.TS), orders the key's values as the index's KEY
// columns, and reads the current tiles of window WindowID(q.Version,
// q.Window) (ReadTiles). A window no index serves, or whose index cannot
// hold tiles (ErrNoTiles), has no tiles: the result is empty and the error
// nil, and the caller reads raw rows. Stores implement eval.TileSource
// with it.
func QueryTiles(ctx context.Context, ts TileStore, def *plan.Table, q eval.TileQuery) ([]eval.StoredTile, error) {
	r, ok, err := tileQueryRange(def, q)
	if err != nil || !ok {
		return nil, err
	}
	tiles, err := ts.ReadTiles(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("tiles of window %s: %w", q.Window, err)
	}
	return storedTiles(tiles), nil
}

// QueryTilesMany answers queries of table def from ts: for each query of
// qs, what QueryTiles returns for it. When ts is a TileRangesReader, the
// ranges of all the queries that an index can tile are read in one
// ReadTilesMany call; else each with ReadTiles.
func QueryTilesMany(ctx context.Context, ts TileStore, def *plan.Table, qs []eval.TileQuery) ([][]eval.StoredTile, error) {
	out := make([][]eval.StoredTile, len(qs))
	var rs []TileRange
	var at []int // at[j]: the query of rs[j]
	for i, q := range qs {
		r, ok, err := tileQueryRange(def, q)
		if err != nil {
			return nil, err
		}
		if ok {
			rs, at = append(rs, r), append(at, i)
		}
	}
	many, ok := ts.(TileRangesReader)
	if !ok || len(rs) == 0 {
		for j, r := range rs {
			tiles, err := ts.ReadTiles(ctx, r)
			if err != nil {
				return nil, fmt.Errorf("tiles of window %s: %w", qs[at[j]].Window, err)
			}
			out[at[j]] = storedTiles(tiles)
		}
		return out, nil
	}
	tiles, err := many.ReadTilesMany(ctx, rs)
	if err != nil {
		return nil, fmt.Errorf("tiles of %d windows of %s: %w", len(rs), def.Name, err)
	}
	for j, ts := range tiles {
		out[at[j]] = storedTiles(ts)
	}
	return out, nil
}

// tileQueryRange returns the TileRange of q in table def; ok is false when
// no index of def can tile q's window.
func tileQueryRange(def *plan.Table, q eval.TileQuery) (_ TileRange, ok bool, _ error) {
	if len(q.Keys) != len(q.Values) {
		return TileRange{}, false, fmt.Errorf("storage: tiles of window %s of table %s: %d PARTITION BY columns but %d values", q.Window, q.Table, len(q.Keys), len(q.Values))
	}
	ord, ix, err := FindIndex(def, q.Keys, q.TS)
	if err != nil {
		return TileRange{}, false, nil
	}
	if _, err := TileIndex(def, ord); err != nil {
		return TileRange{}, false, nil
	}
	key := make([]types.Value, len(ix.Keys))
	for j, k := range ix.Keys {
		key[j] = q.Values[slices.IndexFunc(q.Keys, func(c string) bool { return strings.EqualFold(c, k) })]
	}
	return TileRange{Table: q.Table, Index: ord, Window: WindowID(q.Version, q.Window), Key: key,
		Width: q.Width, From: q.From, To: q.To}, true, nil
}

// storedTiles returns tiles as a TileSource returns them.
func storedTiles(tiles []Tile) []eval.StoredTile {
	out := make([]eval.StoredTile, len(tiles))
	for i, t := range tiles {
		out[i] = eval.StoredTile{Start: t.Start, Partials: t.Partials}
	}
	return out
}
