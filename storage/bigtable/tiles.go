package bigtable

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"time"

	"cloud.google.com/go/bigtable"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// Tiles (see docs/storage-format.md, "Tiles"): a Bigtable row per tile,
//
//	row key:  0xFE | index ordinal u8 | window [8]byte | width [8]byte
//	          | encoded index key | start [8]byte (not inverted)
//
// holding one cell, in the index's family, qualifier tileQualifier, whose
// timestamp is the bucket start (cellTime): so the tiles of a key's
// window are one range scan, oldest first, and the index's age GC policy
// deletes a tile once its start is older than the TTL, when readers no
// longer return it.
//
// A tile's token (storage.Tile.Token) is that of its bucket's day rows
// (bucketToken): a hash of their days and versions (version.go).
const (
	tileQualifier = "t"
	// tileFormat starts a tile's cell value; tileFormatNoToken is the
	// format of tiles written before tokens, never current.
	tileFormat        = 0x02
	tileFormatNoToken = 0x01
)

var _ storage.TileStore = (*Store)(nil)

// tilePrefixKey appends the row-key prefix of one key's tiles of a
// window: 0xFE, the index ordinal, the window, the width and the key.
// ok is false when no stored key can equal key.
func (t *table) tilePrefixKey(dst []byte, ord int, window uint64, width int64, key []types.Value) (_ []byte, ok bool) {
	dst = append(dst, tilePrefix, byte(ord))
	dst = binary.BigEndian.AppendUint64(dst, window)
	dst = binary.BigEndian.AppendUint64(dst, uint64(width))
	for j, col := range t.keyCols[ord] {
		typ := t.def.Schema[col].Type
		v, ok := keyValue(typ, key[j])
		if !ok {
			return nil, false
		}
		dst = appendKey(dst, typ, v)
	}
	return dst, true
}

// appendStart appends a bucket start as an order value, not inverted:
// older buckets sort first.
func appendStart(dst []byte, start int64) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(start)^1<<63)
}

// appendTile appends a tile's cell value:
//
//	format 0x02 | token [8]byte | rows uvarint | maxseq uvarint | n uvarint | n × (len uvarint | bytes)
func appendTile(dst []byte, t *storage.Tile) []byte {
	dst = append(dst, tileFormat)
	dst = binary.BigEndian.AppendUint64(dst, t.Token)
	dst = binary.AppendUvarint(dst, t.Rows)
	dst = binary.AppendUvarint(dst, t.MaxSeq)
	dst = binary.AppendUvarint(dst, uint64(len(t.Partials)))
	for _, p := range t.Partials {
		dst = binary.AppendUvarint(dst, uint64(len(p)))
		dst = append(dst, p...)
	}
	return dst
}

var errTileValue = errors.New("bigtable: corrupt tile value")

// errTileNoToken is a tile of format 0x01, written before tokens: it
// cannot be checked against its bucket, so it is never current.
var errTileNoToken = errors.New("bigtable: tile without a token")

// decodeTile fills a tile's Token, Rows, MaxSeq and Partials from a cell
// value. The partials alias v.
func decodeTile(v []byte, t *storage.Tile) error {
	switch {
	case len(v) > 0 && v[0] == tileFormatNoToken:
		return errTileNoToken
	case len(v) == 0 || v[0] != tileFormat:
		return fmt.Errorf("%w: format %v, want %d", errTileValue, v[:min(len(v), 1)], tileFormat)
	case len(v) < 9:
		return fmt.Errorf("%w: %d bytes, too short for a token", errTileValue, len(v))
	}
	t.Token = binary.BigEndian.Uint64(v[1:9])
	v = v[9:]
	next := func() (uint64, bool) {
		x, n := binary.Uvarint(v)
		if n <= 0 {
			return 0, false
		}
		v = v[n:]
		return x, true
	}
	var ok1, ok2, ok3 bool
	var n uint64
	t.Rows, ok1 = next()
	t.MaxSeq, ok2 = next()
	n, ok3 = next()
	if !ok1 || !ok2 || !ok3 || n > uint64(len(v)) {
		return fmt.Errorf("%w: bad header", errTileValue)
	}
	t.Partials = make([][]byte, n)
	for i := range t.Partials {
		l, ok := next()
		if !ok || l > uint64(len(v)) {
			return fmt.Errorf("%w: partial %d of %d is cut short", errTileValue, i+1, n)
		}
		t.Partials[i], v = v[:l:l], v[l:]
	}
	if len(v) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", errTileValue, len(v))
	}
	return nil
}

// dayRow is what a token needs of one Bigtable row of a key: its day and
// its state, the ^day bytes of its row key followed by the value of its
// version cell (noVersion for a row without one).
type dayRow struct {
	day   int64
	state []byte
}

// newDayRow returns the dayRow of the Bigtable row key whose version is
// version.
func newDayRow(key string, version []byte) dayRow {
	d := key[len(key)-8:]
	st := make([]byte, 0, len(d)+len(version))
	return dayRow{day: int64(^be64(d) ^ 1<<63), state: append(append(st, d...), version...)}
}

// bucketToken returns the token of the bucket [start, start+width) of a
// key whose Bigtable rows are days, in row key order (newest day first):
// the FNV-1a 64-bit hash of the states of the rows of days dayOf(start)
// to dayOf(start+width-1), in that order, or 0 when none of them exists.
// Every mutation that writes a segment to a row gives the row a version
// no mutation gave before, in the same atomic mutation, so any write into
// the bucket changes the token, even one that repeats stored rows exactly
// (and so does any write into another bucket of the same day: a width
// under a day is invalidated by day). Writes by builds older than version
// cells do not change versions: they are not seen.
func bucketToken(days []dayRow, start, width int64) uint64 {
	end := int64(math.MaxInt64)
	if start <= math.MaxInt64-(width-1) {
		end = start + width - 1
	}
	first, last := dayOf(start), dayOf(end)
	h := fnv.New64a()
	found := false
	for _, d := range days {
		if d.day >= first && d.day <= last {
			h.Write(d.state)
			found = true
		}
	}
	if !found {
		return 0
	}
	return h.Sum64()
}

// dayRange returns the row range of the Bigtable rows of a key (its row
// key prefix) whose days hold TS values lo to hi.
func dayRange(prefix []byte, lo, hi int64) bigtable.RowRange {
	return bigtable.NewRange(dayBounds(prefix, lo, hi))
}

// dayBounds returns the bounds of dayRange(prefix, lo, hi): [start, end).
func dayBounds(prefix []byte, lo, hi int64) (start, end string) {
	n := len(prefix)
	return string(appendDay(prefix[:n:n], hi)), prefixSuccessor(appendDay(prefix[:n:n], lo))
}

// WriteTiles implements storage.TileStore: a single-cell mutation per
// tile, applied with ApplyBulk in batches. A tile's cell has fixed
// coordinates (row, qualifier, timestamp), so writing it again replaces
// it in place; a mutation of one row is atomic, so a reader sees a tile
// whole. Failed tiles fail the write, which is retried by repeating it.
func (s *Store) WriteTiles(ctx context.Context, name string, tiles []storage.Tile) error {
	t, err := s.table(ctx, name)
	if err != nil {
		return err
	}
	if err := storage.CheckTiles(t.def, tiles); err != nil {
		return err
	}
	var keys []string
	var muts []*bigtable.Mutation
	size := 0
	var failed []error
	flush := func() error {
		if len(muts) == 0 {
			return nil
		}
		cctx, cancel := s.call(ctx)
		errs, err := t.bt.ApplyBulk(cctx, keys, muts)
		cancel()
		if err != nil {
			return s.fail(ctx, s.addr, err, "writing %d tiles of %s; the write is idempotent: retry it whole", len(muts), name)
		}
		for i, e := range errs {
			if e != nil {
				failed = append(failed, fmt.Errorf("tile row %x: %w", keys[i], e))
			}
		}
		keys, muts, size = keys[:0], muts[:0], 0
		return nil
	}
	for i := range tiles {
		tile := &tiles[i]
		key, _ := t.tilePrefixKey(nil, tile.Index, tile.Window, tile.Width, tile.Key) // CheckTiles made the key valid
		key = appendStart(key, tile.Start)
		val := appendTile(nil, tile)
		m := bigtable.NewMutation()
		m.Set(t.families[tile.Index], tileQualifier, cellTime(tile.Start), val)
		keys, muts = append(keys, string(key)), append(muts, m)
		if size += len(key) + len(val) + 32; len(muts) >= maxBatchMutations || size >= maxBatchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("bigtable: %d of %d tiles of %s were not written; the write is idempotent: retry it whole: %w",
			len(failed), len(tiles), name, errors.Join(failed...))
	}
	return ctx.Err()
}

// ReadTiles implements storage.TileStore with one ReadRows call of two
// row ranges, the key's day rows that the tiles' buckets cover and the
// key's tile rows of starts [max(From, oldest), To), oldest being the
// first start the absolute TTL keeps, taking the first cell of each row:
// a day row's version (its versions make the buckets' tokens), a tile
// row's tile. Day rows come first in key order, so each tile is checked
// against its bucket's token as it arrives.
func (s *Store) ReadTiles(ctx context.Context, r storage.TileRange) ([]storage.Tile, error) {
	out, err := s.ReadTilesMany(ctx, []storage.TileRange{r})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

var _ storage.TileRangesReader = (*Store)(nil)

// ReadTilesMany implements storage.TileRangesReader: the ranges of one
// key of one index of a table (a window's levels, say) are read as
// ReadTiles reads one, in one ReadRows call of the union of their day
// rows and tile rows, each tile going to the ranges whose window, width
// and starts hold it. Ranges of other keys are read in a call per key.
func (s *Store) ReadTilesMany(ctx context.Context, rs []storage.TileRange) ([][]storage.Tile, error) {
	out := make([][]storage.Tile, len(rs))
	now := s.now()
	var groups []*tileGroup
	byKey := make(map[string]*tileGroup)
	for i, r := range rs {
		g, rd, err := s.addTileRead(ctx, byKey, i, r, now)
		if err != nil {
			return nil, err
		}
		if rd == nil {
			continue // no tile can be in r
		}
		if len(g.reads) == 0 {
			groups = append(groups, g)
		}
		g.reads = append(g.reads, rd)
	}
	for _, g := range groups {
		if err := s.readTileGroup(ctx, g, now, out); err != nil {
			return nil, err
		}
	}
	return out, ctx.Err()
}

// A tileGroup is the tile ranges of one key of one index of a table, read
// together: its day rows (prefix) and each range's tile rows.
type tileGroup struct {
	t      *table
	ord    int
	ix     *plan.Index
	prefix []byte // the key's row-key prefix (table.keyPrefix)
	reads  []*tileRead
}

// A tileRead is one range of a tileGroup: rs[i] of ReadTilesMany, whose
// buckets of starts [lo, To) cover TS values [lo, hi].
type tileRead struct {
	i      int
	r      storage.TileRange
	lo, hi int64
	tiles  []byte // the row-key prefix of its tiles (table.tilePrefixKey)
}

// addTileRead checks range i, r, and returns its read and the group of its
// key in byKey, made if new; a nil read when no tile can be in r at now.
func (s *Store) addTileRead(ctx context.Context, byKey map[string]*tileGroup, i int, r storage.TileRange, now time.Time) (*tileGroup, *tileRead, error) {
	t, err := s.table(ctx, r.Table)
	if err != nil {
		return nil, nil, err
	}
	ix, err := storage.CheckTileRange(t.def, r)
	if err != nil {
		return nil, nil, err
	}
	from := r.From
	if oldest, _ := storage.TTLBounds(ix, now); ix.TTLAbs > 0 && oldest > from {
		from = oldest
	}
	lo, hi, ok := storage.BucketSpan(from, r.To, r.Width)
	if !ok {
		return nil, nil, nil
	}
	tiles, ok := t.tilePrefixKey(nil, r.Index, r.Window, r.Width, r.Key)
	if !ok {
		return nil, nil, nil
	}
	prefix, _, err := t.keyPrefix(nil, r.Index, ix, ix.Keys, r.Key) // ok as tilePrefixKey's
	if err != nil {
		return nil, nil, err
	}
	id := r.Table + "\x00" + string(prefix)
	g := byKey[id]
	if g == nil {
		g = &tileGroup{t: t, ord: r.Index, ix: ix, prefix: prefix}
		byKey[id] = g
	}
	return g, &tileRead{i: i, r: r, lo: lo, hi: hi, tiles: tiles}, nil
}

// rowRanges returns the Bigtable rows of g's reads: the day rows of their
// buckets and their tile rows, sorted and merged (rowRanges).
func (g *tileGroup) rowRanges() bigtable.RowRangeList {
	spans := make([]*keyRead, 0, 2*len(g.reads))
	for _, rd := range g.reads {
		start, end := dayBounds(g.prefix, rd.lo, rd.hi)
		n := len(rd.tiles)
		spans = append(spans, &keyRead{start: start, end: end},
			&keyRead{start: string(appendStart(rd.tiles[:n:n], rd.lo)), end: string(appendStart(rd.tiles[:n:n], rd.r.To))})
	}
	return rowRanges(spans)
}

// readTileGroup reads the tiles of g's reads into out in one ReadRows
// call of g.rowRanges, taking the first cell of each row, as ReadTiles
// does: each tile row goes to the reads it is in (g.route) after the key's
// day rows, which come first in key order, gave its bucket's token.
func (s *Store) readTileGroup(ctx context.Context, g *tileGroup, now time.Time, out [][]storage.Tile) error {
	fam := g.t.families[g.ord]
	// A tile row holds its tile cell alone; the version cell's empty
	// qualifier sorts first in a day row. A day row without one (written
	// by an older build) gives its first segment instead, value and all.
	filter := bigtable.RowFilter(bigtable.ChainFilters(bigtable.ColumnRangeFilter(fam, "", ""), bigtable.CellsPerRowLimitFilter(1)))
	var days []dayRow
	var bad error
	version := fam + ":" + versionQualifier // items name their column "family:qualifier"
	cctx, cancel := s.call(ctx)
	defer cancel()
	err := g.t.bt.ReadRows(cctx, g.rowRanges(), func(row bigtable.Row) bool {
		k := row.Key()
		if k[0] != tilePrefix {
			if items := row[fam]; len(items) > 0 && items[0].Column == version {
				days = append(days, newDayRow(k, items[0].Value))
			} else {
				days = append(days, newDayRow(k, noVersion))
			}
			return true
		}
		for _, it := range row[fam] {
			var tile storage.Tile
			switch err := decodeTile(it.Value, &tile); {
			case errors.Is(err, errTileNoToken):
				continue
			case err != nil:
				bad = fmt.Errorf("bigtable: table %s, tile row %x: %w", g.t.btName, k, err)
				return false
			}
			g.route(k, tile, days, now, out)
		}
		return true
	}, filter)
	if bad != nil {
		return bad
	}
	if err != nil {
		return s.readFailed(ctx, g.t, err)
	}
	return nil
}

// route appends tile, read from tile row k, to the results in out of the
// reads of g whose tile rows hold k, when it is current: its token is its
// bucket's in days and the TTL did not expire it at now.
func (g *tileGroup) route(k string, tile storage.Tile, days []dayRow, now time.Time, out [][]storage.Tile) {
	start := int64(be64(k[len(k)-8:]) ^ 1<<63)
	prefix := k[:len(k)-8]
	checked, current := false, false
	for _, rd := range g.reads {
		if string(rd.tiles) != prefix || start < rd.lo || start >= rd.r.To {
			continue
		}
		if !checked { // every read holding k has k's width
			checked = true
			current = !storage.TileExpired(g.ix, now, start) && tile.Token == bucketToken(days, start, rd.r.Width)
		}
		if !current {
			return
		}
		t := tile
		t.Index, t.Window, t.Key, t.Width, t.Start = rd.r.Index, rd.r.Window, rd.r.Key, rd.r.Width, start
		out[rd.i] = append(out[rd.i], t)
	}
}

// ReadBuckets implements storage.TileStore with one range scan of the
// key's day rows that hold the buckets' TS values, read whole: each
// bucket's rows and its token (bucketToken, of the rows' version cells)
// come from the same reads of the same Bigtable rows, each of which is
// atomic, so a tile built from the rows is current exactly while no
// segment was written to those Bigtable rows since.
func (s *Store) ReadBuckets(ctx context.Context, r storage.TileRange) ([]storage.Bucket, error) {
	t, err := s.table(ctx, r.Table)
	if err != nil {
		return nil, err
	}
	ix, err := storage.CheckTileRange(t.def, r)
	if err != nil {
		return nil, err
	}
	lo, hi, ok := storage.BucketSpan(r.From, r.To, r.Width)
	if !ok {
		return nil, ctx.Err()
	}
	prefix, ok, err := t.keyPrefix(nil, r.Index, ix, ix.Keys, r.Key)
	if err != nil || !ok {
		return nil, err
	}
	now := s.now()
	var days []dayRow
	var out []*storage.Bucket // newest first, each bucket's rows too
	sc := scan{t: t, keepVersion: true}
	each := func(key string, rows []stored) bool {
		days = append(days, newDayRow(key, sc.version))
		for _, row := range rows {
			if row.ts < lo || row.ts > hi || storage.Expired(ix, now, row.ts, 0) {
				continue
			}
			start, _ := storage.BucketStart(row.ts, r.Width) // lo <= ts: the bucket exists
			if len(out) == 0 || out[len(out)-1].Start != start {
				b := &storage.Bucket{Start: start, Rows: types.NewBlock(t.def.Schema, 16)}
				out = append(out, b)
				sc.out, sc.seqs = b.Rows, &b.Seqs
			}
			if !sc.add(row) {
				return false
			}
		}
		return true
	}
	fam := t.families[r.Index]
	if _, err := s.scan(ctx, &sc, fam, dayRange(prefix, lo, hi), each, bigtable.RowFilter(bigtable.ColumnRangeFilter(fam, "", ""))); err != nil {
		return nil, err
	}
	buckets := make([]storage.Bucket, len(out))
	for i, b := range out {
		reverse(b.Rows)
		slices.Reverse(b.Seqs)
		b.Token = bucketToken(days, b.Start, r.Width)
		buckets[len(out)-1-i] = *b
	}
	return buckets, ctx.Err()
}

var (
	_ eval.TileSource      = (*Store)(nil)
	_ eval.MultiTileSource = (*Store)(nil)
)

// Tiles implements eval.TileSource (see storage.QueryTiles).
func (s *Store) Tiles(ctx context.Context, q eval.TileQuery) ([]eval.StoredTile, error) {
	t, err := s.table(ctx, q.Table)
	if err != nil {
		return nil, err
	}
	return storage.QueryTiles(ctx, s, t.def, q)
}

// TilesMany implements eval.MultiTileSource (see storage.QueryTilesMany):
// the queries of one key of a table are read in one ReadRows call.
func (s *Store) TilesMany(ctx context.Context, qs []eval.TileQuery) ([][]eval.StoredTile, error) {
	if len(qs) == 0 || slices.ContainsFunc(qs, func(q eval.TileQuery) bool { return q.Table != qs[0].Table }) {
		return storage.TilesEach(ctx, s, qs)
	}
	t, err := s.table(ctx, qs[0].Table)
	if err != nil {
		return nil, err
	}
	return storage.QueryTilesMany(ctx, s, t.def, qs)
}
