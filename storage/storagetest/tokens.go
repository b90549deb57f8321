package storagetest

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/rowcsv"
	"github.com/fenestra-dev/fenestra/storage"
)

// tokenSQL has a tiled index without TTL and one with an absolute TTL.
const tokenSQL = `CREATE TABLE tx (card string, amount double, ts timestamp,
  INDEX(KEY=card, TS=ts),
  INDEX(KEY=card, TS=ts, TTL=5d, TTL_TYPE=absolute));`

// Days of tokenSQL's rows: 2024-01-01 to 2024-01-03 UTC (day buckets and
// Bigtable's day rows coincide), and hours.
const (
	day0 = int64(1704067200000)
	day  = int64(86_400_000)
	hour = int64(3_600_000)
)

// RunTileTokens runs the cases of the tile consistency rule (see
// storage.TileStore) against stores made by newStore, which must be
// TileStores: a tile written with the token of the buckets ReadBuckets
// returned is current (ReadTiles returns it) until a row is written into
// its bucket, by any write; a rebuild makes it current again; a tile built
// from buckets read before a write but written after it is never current.
// Buckets here are days or two days (Bigtable's day rows coincide with
// them), so every store must give the same answers. At every ReadTiles,
// each tile returned must hold exactly its bucket's rows as ReadBuckets
// returns them now, and ReadBuckets must return what Read does.
func RunTileTokens(t *testing.T, newStore NewStore) {
	t.Helper()
	ctx := context.Background()
	clock := &Clock{t: time.UnixMilli(day0 + 5*day + 90*60_000)} // index 1 keeps rows from day0 01:30 UTC
	s := newStore(t, clock.Now)
	ts, ok := s.(storage.TileStore)
	if !ok {
		t.Fatalf("%T is not a storage.TileStore", s)
	}
	m, err := featurelang.Compile("tokens.sql", tokenSQL, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Init(ctx, m.Tables); err != nil {
		t.Fatal(err)
	}
	k := &tokenCase{t: t, ctx: ctx, s: s, ts: ts, def: m.Tables[0], clock: clock}
	a := types.StringValue("a")

	k.write(tx("a", 1, day0+hour, 1), tx("a", 2, day0+2*hour, 2), tx("a", 3, day0+2*hour, 3),
		tx("a", 4, day0+day+5*hour, 4), tx("b", 5, day0+3*hour, 5))
	bs := k.buckets(0, a, day)
	if got := bucketSizes(bs); got != fmt.Sprintf("%d:3 %d:1", day0, day0+day) {
		t.Fatalf("buckets of a: %s", got)
	}
	k.build(0, a, day, bs)
	k.current("built", 0, a, day, day0, day0+day)

	k.write(tx("a", 6, day0+day+6*hour, 6))
	k.current("after a row written into the second bucket", 0, a, day, day0)
	k.write(tx("b", 7, day0+4*hour, 7))
	k.current("after a row of another key", 0, a, day, day0)
	k.write(tx("a", 8, day0+2*day, 8))
	k.current("after a row of another bucket", 0, a, day, day0)
	k.build(0, a, day, k.buckets(0, a, day))
	k.current("rebuilt", 0, a, day, day0, day0+day, day0+2*day)

	k.write(tx("a", 100, day0+hour, 1)) // sequence 1 again, another value
	k.current("after a row rewritten", 0, a, day, day0+day, day0+2*day)
	k.build(0, a, day, k.buckets(0, a, day))
	k.current("rebuilt", 0, a, day, day0, day0+day, day0+2*day)

	// A builder reads the buckets, a row arrives, then the builder writes.
	bs = k.buckets(0, a, day)
	k.write(tx("a", 9, day0+day+7*hour, 9))
	k.build(0, a, day, bs)
	k.current("built from buckets read before a write", 0, a, day, day0, day0+2*day)
	k.build(0, a, day, k.buckets(0, a, day))
	k.current("rebuilt", 0, a, day, day0, day0+day, day0+2*day)

	// Two-day buckets span two Bigtable rows: [day0-day, day0+day) and
	// [day0+day, day0+3*day).
	k.build(0, a, 2*day, k.buckets(0, a, 2*day))
	k.current("two-day tiles", 0, a, 2*day, day0-day, day0+day)
	k.write(tx("a", 10, day0+2*day+hour, 10))
	k.current("two-day tiles after a row in their second day", 0, a, 2*day, day0-day)
	k.current("day tiles after the same row", 0, a, day, day0, day0+day)

	// A tile of token 0 covers a bucket without rows.
	empty := storage.Tile{Index: 0, Key: []types.Value{a}, Start: day0 + 10*day, Width: day, Partials: [][]byte{{}}}
	if err := ts.WriteTiles(ctx, "tx", []storage.Tile{empty}); err != nil {
		t.Fatal(err)
	}
	k.current("an empty bucket's tile", 0, a, day, day0, day0+day, day0+10*day)
	k.write(tx("a", 11, day0+10*day+hour, 11))
	k.current("after a row in the empty bucket", 0, a, day, day0, day0+day)

	// Index 1's TTL hides sequence 1 (day0 01:00): its buckets do not hold it.
	bs = k.buckets(1, a, day)
	if got := bucketSizes(bs); got != fmt.Sprintf("%d:2 %d:3 %d:2 %d:1", day0, day0+day, day0+2*day, day0+10*day) {
		t.Errorf("buckets of a under the TTL: %s", got)
	}
	k.build(1, a, day, bs)
	// The TTL expired the tile of day0 (it may cover expired rows).
	k.current("tiles under the TTL", 1, a, day, day0+day, day0+2*day, day0+10*day)
	bs = k.buckets(0, a, day)
	if len(bs) == 0 || bs[0].Seqs[0] != 1 {
		t.Errorf("index 0 keeps sequence 1: %s", bucketSizes(bs))
	}
	// Bounds: starts in [From, To).
	r := storage.TileRange{Table: "tx", Key: []types.Value{a}, Width: day, From: day0 + 1, To: day0 + 2*day + 1}
	if got, err := ts.ReadBuckets(ctx, r); err != nil || bucketSizes(got) != fmt.Sprintf("%d:3 %d:2", day0+day, day0+2*day) {
		t.Errorf("ReadBuckets of starts in [day0+1, day0+2d+1): %s, %v", bucketSizes(got), err)
	}
	if got, err := ts.ReadTiles(ctx, r); err != nil || len(got) != 1 || got[0].Start != day0+day {
		t.Errorf("ReadTiles of starts in [day0+1, day0+2d+1): %d tiles, %v", len(got), err)
	}
}

// tokenCase is RunTileTokens's state.
type tokenCase struct {
	t     *testing.T
	ctx   context.Context
	s     storage.Store
	ts    storage.TileStore
	def   *plan.Table
	clock *Clock
}

type txRow struct {
	card   string
	amount float64
	ts     int64
	seq    uint64
}

func tx(card string, amount float64, ts int64, seq uint64) txRow { return txRow{card, amount, ts, seq} }

// write stores rows in one Write.
func (k *tokenCase) write(rows ...txRow) {
	k.t.Helper()
	b := types.NewBlock(k.def.Schema, len(rows))
	var seqs []uint64
	for _, r := range rows {
		b.AppendRow([]types.Value{types.StringValue(r.card), types.DoubleValue(r.amount), types.TimestampValue(r.ts)})
		seqs = append(seqs, r.seq)
	}
	if err := k.s.Write(k.ctx, "tx", b, seqs); err != nil {
		k.t.Fatal(err)
	}
}

// buckets returns all the buckets of key under index ord, after checking
// that they hold what Read returns, in window order.
func (k *tokenCase) buckets(ord int, key types.Value, width int64) []storage.Bucket {
	k.t.Helper()
	bs, err := k.ts.ReadBuckets(k.ctx, storage.TileRange{Table: "tx", Index: ord, Key: []types.Value{key}, Width: width, From: math.MinInt64, To: math.MaxInt64})
	if err != nil {
		k.t.Fatal(err)
	}
	var all []*types.Block
	for i, b := range bs {
		if i > 0 && b.Start <= bs[i-1].Start || b.Rows.Len == 0 || len(b.Seqs) != b.Rows.Len {
			k.t.Fatalf("bucket %d of %d: start %d after %d, %d rows, %d sequence numbers", i+1, len(bs), b.Start, bs[max(i-1, 0)].Start, b.Rows.Len, len(b.Seqs))
		}
		tsCol := b.Rows.Cols[2]
		for j := range b.Rows.Len {
			if !storage.BucketOf(tsCol.I[j], b.Start, width) || j > 0 && (tsCol.I[j] < tsCol.I[j-1] || tsCol.I[j] == tsCol.I[j-1] && b.Seqs[j] <= b.Seqs[j-1]) {
				k.t.Fatalf("bucket %d: row %d (ts %d, seq %d) is out of its bucket or out of window order", b.Start, j+1, tsCol.I[j], b.Seqs[j])
			}
		}
		all = append(all, b.Rows)
	}
	read, err := k.s.Read(k.ctx, storage.Range{Table: "tx", Keys: []string{"card"}, Values: []types.Value{key}, TS: "ts", From: math.MinInt64, To: math.MaxInt64})
	if err != nil {
		k.t.Fatal(err)
	}
	if ord != 0 { // Read picks index 0, without TTL: apply index ord's
		var live []int
		for i := range read.Len {
			if !storage.Expired(k.def.Indexes[ord], k.clock.Now(), read.Cols[2].I[i], 0) {
				live = append(live, i)
			}
		}
		read = read.Gather(live)
	}
	got := rowcsv.Format(types.Concat(types.NewBlock(k.def.Schema, 0), all...))
	if want := rowcsv.Format(read); got != want {
		k.t.Fatalf("the buckets of %v under index %d hold\n%s\nRead returns\n%s", key, ord, got, want)
	}
	return bs
}

// build writes a tile of each bucket, with its token, whose partial is
// the bucket's content (tileContent).
func (k *tokenCase) build(ord int, key types.Value, width int64, bs []storage.Bucket) {
	k.t.Helper()
	r := storage.TileRange{Table: "tx", Index: ord, Key: []types.Value{key}, Width: width}
	tiles := make([]storage.Tile, len(bs))
	for i, b := range bs {
		tiles[i] = bucketTile(r, b, [][]byte{tileContent(b)})
	}
	if err := k.ts.WriteTiles(k.ctx, "tx", tiles); err != nil {
		k.t.Fatal(err)
	}
}

// current checks that ReadTiles returns the tiles of want, and that each
// holds the content of its bucket now.
func (k *tokenCase) current(when string, ord int, key types.Value, width int64, want ...int64) {
	k.t.Helper()
	r := storage.TileRange{Table: "tx", Index: ord, Key: []types.Value{key}, Width: width, From: math.MinInt64, To: math.MaxInt64}
	tiles, err := k.ts.ReadTiles(k.ctx, r)
	if err != nil {
		k.t.Fatal(err)
	}
	var got []int64
	for _, tile := range tiles {
		got = append(got, tile.Start)
	}
	if !slices.Equal(got, want) {
		k.t.Errorf("%s: current tiles of %v (index %d, width %d) start at %v, want %v", when, key, ord, width, got, want)
	}
	bs := k.buckets(ord, key, width)
	for _, tile := range tiles {
		at := slices.IndexFunc(bs, func(b storage.Bucket) bool { return b.Start == tile.Start })
		content := []byte{}
		if at >= 0 {
			content = tileContent(bs[at])
		}
		if len(tile.Partials) != 1 || string(tile.Partials[0]) != string(content) {
			k.t.Errorf("%s: the tile at %d was returned, but does not hold its bucket's rows", when, tile.Start)
		}
	}
}

// tileContent encodes a bucket's sequence numbers and amounts, in order.
func tileContent(b storage.Bucket) []byte {
	out := []byte{}
	for i, s := range b.Seqs {
		out = binary.BigEndian.AppendUint64(out, s)
		out = binary.BigEndian.AppendUint64(out, math.Float64bits(b.Rows.Cols[1].F[i]))
	}
	return out
}

// bucketSizes renders buckets as start:rows.
func bucketSizes(bs []storage.Bucket) string {
	s := ""
	for i, b := range bs {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%d:%d", b.Start, b.Rows.Len)
	}
	return s
}
