package bigtable

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"cloud.google.com/go/bigtable"

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
const (
	tileQualifier = "t"
	// tileFormat starts a tile's cell value.
	tileFormat = 0x01
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
//	format 0x01 | rows uvarint | maxseq uvarint | n uvarint | n × (len uvarint | bytes)
func appendTile(dst []byte, t *storage.Tile) []byte {
	dst = append(dst, tileFormat)
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

// decodeTile fills a tile's Rows, MaxSeq and Partials from a cell value.
// The partials alias v.
func decodeTile(v []byte, t *storage.Tile) error {
	if len(v) == 0 || v[0] != tileFormat {
		return fmt.Errorf("%w: format %v, want %d", errTileValue, v[:min(len(v), 1)], tileFormat)
	}
	v = v[1:]
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

// ReadTiles implements storage.TileStore with one range scan of the
// key's tile rows, [prefix|start(max(From, oldest)), prefix|start(To)),
// where oldest is the first start the absolute TTL keeps.
func (s *Store) ReadTiles(ctx context.Context, r storage.TileRange) ([]storage.Tile, error) {
	t, err := s.table(ctx, r.Table)
	if err != nil {
		return nil, err
	}
	ix, err := storage.CheckTileRange(t.def, r)
	if err != nil {
		return nil, err
	}
	now := s.now()
	from := r.From
	if oldest, _ := storage.TTLBounds(ix, now); ix.TTLAbs > 0 && oldest > from {
		from = oldest
	}
	prefix, ok := t.tilePrefixKey(nil, r.Index, r.Window, r.Width, r.Key)
	if !ok || from >= r.To {
		return nil, nil
	}
	start := appendStart(prefix[:len(prefix):len(prefix)], from)
	end := appendStart(prefix[:len(prefix):len(prefix)], r.To)
	fam := t.families[r.Index]
	filter := bigtable.RowFilter(bigtable.ChainFilters(
		bigtable.ColumnRangeFilter(fam, tileQualifier, tileQualifier+"\x00"), bigtable.LatestNFilter(1)))
	var out []storage.Tile
	var bad error
	cctx, cancel := s.call(ctx)
	defer cancel()
	err = t.bt.ReadRows(cctx, bigtable.NewRange(string(start), string(end)), func(row bigtable.Row) bool {
		for _, it := range row[fam] {
			k := row.Key()
			tile := storage.Tile{Index: r.Index, Window: r.Window, Key: r.Key, Width: r.Width,
				Start: int64(be64(k[len(k)-8:]) ^ 1<<63)}
			if err := decodeTile(it.Value, &tile); err != nil {
				bad = fmt.Errorf("bigtable: table %s, tile row %x: %w", t.btName, k, err)
				return false
			}
			if !storage.TileExpired(ix, now, tile.Start) {
				out = append(out, tile)
			}
		}
		return true
	}, filter)
	if bad != nil {
		return nil, bad
	}
	if err != nil {
		return nil, s.readFailed(ctx, t, err)
	}
	return out, ctx.Err()
}
