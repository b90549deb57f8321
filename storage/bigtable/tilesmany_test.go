package bigtable

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// manySQL has two tiled indexes, one with an absolute TTL, and a column
// no index tiles.
const manySQL = `CREATE TABLE mt (k string, b bigint, v int, ts timestamp,
  INDEX(KEY=k, TS=ts),
  INDEX(KEY=b, TS=ts, TTL=1d, TTL_TYPE=absolute),
  INDEX(KEY=v));`

const (
	hourMs = int64(3_600_000)
	dayMs  = 24 * hourMs
	day0Ms = int64(1704067200000) // 2024-01-01 UTC
)

var manyWidths = []int64{hourMs, 6 * hourMs, dayMs, 2 * dayMs}

func mtRows(rows ...[]types.Value) *types.Block {
	return types.BlockOf(types.Schema{{Name: "k", Type: types.String}, {Name: "b", Type: types.Int64},
		{Name: "v", Type: types.Int32}, {Name: "ts", Type: types.Timestamp}}, rows)
}

// manyStore is a store of table mt for the tests of many tile reads.
type manyStore interface {
	storage.Store
	storage.TileStore
	eval.MultiTileSource
}

// fillTiles writes random rows of keys k "a", "b" and b 1, 2 over four
// days to s, builds the tiles of windows w1 and w2 of every width over
// them (some with a wrong token), then writes more rows, making some
// tiles stale.
func fillTiles(t *testing.T, s manyStore, rng *rand.Rand) {
	t.Helper()
	ctx := context.Background()
	seq := uint64(0)
	write := func(n int) {
		t.Helper()
		var rows [][]types.Value
		var seqs []uint64
		for range n {
			seq++
			rows = append(rows, []types.Value{types.StringValue(string(rune('a' + rng.IntN(2)))), types.Int64Value(1 + rng.Int64N(2)),
				types.IntValue(types.Int32, 1), types.TimestampValue(day0Ms + rng.Int64N(4*dayMs))})
			seqs = append(seqs, seq)
		}
		if err := s.Write(ctx, "mt", mtRows(rows...), seqs); err != nil {
			t.Fatal(err)
		}
	}
	for range 8 {
		write(10)
	}
	for _, r := range manyRanges() {
		bs, err := s.ReadBuckets(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		tiles := make([]storage.Tile, len(bs))
		for i, b := range bs {
			tiles[i] = storage.Tile{Index: r.Index, Window: r.Window, Key: r.Key, Start: b.Start, Width: r.Width,
				Rows: uint64(b.Rows.Len), Token: b.Token, Partials: [][]byte{{byte(i), byte(r.Width / hourMs)}}}
			if rng.IntN(10) == 0 {
				tiles[i].Token++ // never current
			}
		}
		if err := s.WriteTiles(ctx, "mt", tiles); err != nil {
			t.Fatal(err)
		}
	}
	write(3)
}

// manyRanges returns the whole ranges of every key, index, window and
// width of fillTiles.
func manyRanges() []storage.TileRange {
	var out []storage.TileRange
	for _, key := range []struct {
		ord int
		v   types.Value
	}{{0, types.StringValue("a")}, {0, types.StringValue("b")}, {1, types.Int64Value(1)}, {1, types.Int64Value(2)}} {
		for _, w := range []string{"w1", "w2"} {
			for _, width := range manyWidths {
				out = append(out, storage.TileRange{Table: "mt", Index: key.ord, Window: storage.WindowID("v1", w),
					Key: []types.Value{key.v}, Width: width, From: math.MinInt64, To: math.MaxInt64})
			}
		}
	}
	return out
}

// randTileRange returns a random range of fillTiles's, mostly of key k "a",
// with random bounds.
func randTileRange(rng *rand.Rand) storage.TileRange {
	all := manyRanges()
	r := all[rng.IntN(8)] // key "a"
	if rng.IntN(4) == 0 {
		r = all[rng.IntN(len(all))]
	}
	bound := func() int64 { return day0Ms + rng.Int64N(5*4)*6*hourMs - dayMs/2 }
	switch rng.IntN(4) {
	case 1:
		r.From = bound()
	case 2:
		r.To = bound()
	case 3:
		r.From = bound()
		r.To = r.From + rng.Int64N(9)*6*hourMs
	}
	return r
}

// TestReadTilesMany: ReadTilesMany of random ranges, of several widths
// and windows, overlapping or not, of one key or several, gives for each
// what ReadTiles gives, stale and expired tiles left out alike, as the
// clock moves past the TTL of index 1.
func TestReadTilesMany(t *testing.T) {
	t.Parallel()
	clock := time.UnixMilli(day0Ms + 4*dayMs)
	s := initStore(t, manySQL, Config{Clock: func() time.Time { return clock }, NoGC: true})
	rng := rand.New(rand.NewPCG(5, 6))
	fillTiles(t, s, rng)
	ctx := context.Background()
	found := 0
	for round := range 300 {
		if round%100 == 99 {
			clock = clock.Add(12 * time.Hour)
		}
		rs := make([]storage.TileRange, 1+rng.IntN(6))
		for i := range rs {
			rs[i] = randTileRange(rng)
		}
		got, err := s.ReadTilesMany(ctx, rs)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(rs) {
			t.Fatalf("%d results for %d ranges", len(got), len(rs))
		}
		for i, r := range rs {
			want := runTiles(s.ReadTiles(ctx, r))
			if g := runTiles(got[i], nil); g != want {
				t.Fatalf("round %d, range %d of %+v:\n--- ReadTilesMany\n%s--- ReadTiles\n%s", round, i, rs, g, want)
			}
			if want != "" {
				found++
			}
		}
	}
	if found < 500 {
		t.Errorf("only %d ranges had tiles", found)
	}
}

// TestTilesMany: TilesMany of random queries gives for each what Tiles
// gives, in storage.Mem (one ReadTiles each) and in the Bigtable store
// (ReadTilesMany), queries no index tiles and of other tables included.
func TestTilesMany(t *testing.T) {
	t.Parallel()
	clock := time.UnixMilli(day0Ms + 4*dayMs + 6*hourMs)
	now := func() time.Time { return clock }
	ctx := context.Background()
	for _, s := range []manyStore{storage.NewMem(now), openStore(t, startEmulator(t), Config{Clock: now, NoGC: true})} {
		if err := s.Init(ctx, compile(t, manySQL+txSQL)); err != nil {
			t.Fatal(err)
		}
		fillTiles(t, s, rand.New(rand.NewPCG(7, 8)))
		rng := rand.New(rand.NewPCG(9, 10))
		found := 0
		for round := range 200 {
			qs := make([]eval.TileQuery, 1+rng.IntN(5))
			for i := range qs {
				qs[i] = randTileQuery(rng, round%4 == 0)
			}
			got, err := s.TilesMany(ctx, qs)
			if err != nil {
				t.Fatalf("%T: %v", s, err)
			}
			for i, q := range qs {
				tiles, err := s.Tiles(ctx, q)
				want := runStored(tiles, err)
				if g := runStored(got[i], nil); g != want {
					t.Fatalf("%T, round %d, query %d of %+v:\n--- TilesMany\n%s--- Tiles\n%s", s, round, i, qs, g, want)
				}
				if want != "" {
					found++
				}
			}
		}
		if found < 200 {
			t.Errorf("%T: only %d queries had tiles", s, found)
		}
	}
}

// randTileQuery returns the query of a random range of fillTiles's, or, some
// of the time, of a window no index tiles or, when others, of table tx.
func randTileQuery(rng *rand.Rand, others bool) eval.TileQuery {
	r := randTileRange(rng)
	q := eval.TileQuery{Table: "mt", Keys: []string{"k"}, Values: r.Key, TS: "ts", Version: "v1", Window: "w1",
		Width: r.Width, From: r.From, To: r.To}
	if r.Index == 1 {
		q.Keys = []string{"b"}
	}
	if r.Window != storage.WindowID("v1", "w1") {
		q.Window = "w2"
	}
	switch n := rng.IntN(10); {
	case n == 0:
		q.Keys, q.Values = []string{"v"}, []types.Value{types.IntValue(types.Int32, 1)} // index 2 has no TS
	case n == 1 && others:
		q.Table, q.Keys, q.Values = "tx", []string{"card"}, []types.Value{types.StringValue("a")}
	}
	return q
}

func runStored(tiles []eval.StoredTile, err error) string {
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	var b strings.Builder
	for _, t := range tiles {
		fmt.Fprintf(&b, "%d %x\n", t.Start, t.Partials)
	}
	return b.String()
}

// TestReadTilesManyOneCall: ReadTilesMany reads the ranges of one key, of
// several widths, in one ReadRows call, each day row's version cell once;
// the ranges of two keys in two.
func TestReadTilesManyOneCall(t *testing.T) {
	t.Parallel()
	s, calls, c := countingStore(t)
	ctx := context.Background()
	if err := s.Init(ctx, compile(t, txSQL)); err != nil {
		t.Fatal(err)
	}
	const day = int64(86_400_000)
	w := storage.WindowID("v1", "w")
	for _, card := range []string{"a", "b"} {
		for d := range int64(10) {
			if err := s.Write(ctx, "tx", txRows(tx(card, 1, day0Ms+d*day+5)), []uint64{uint64(d)}); err != nil {
				t.Fatal(err)
			}
		}
		for _, width := range []int64{hourMs, day} {
			r := storage.TileRange{Table: "tx", Window: w, Key: []types.Value{types.StringValue(card)}, Width: width, From: math.MinInt64, To: math.MaxInt64}
			bs, err := s.ReadBuckets(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			tiles := make([]storage.Tile, len(bs))
			for i, b := range bs {
				tiles[i] = storage.Tile{Window: w, Key: r.Key, Start: b.Start, Width: width, Rows: uint64(b.Rows.Len), Token: b.Token, Partials: [][]byte{{1}}}
			}
			if err := s.WriteTiles(ctx, "tx", tiles); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A window's day tiles over days 2 to 7, its hour tiles at the edges.
	ranges := func(card string) []storage.TileRange {
		key := []types.Value{types.StringValue(card)}
		return []storage.TileRange{
			{Table: "tx", Window: w, Key: key, Width: day, From: day0Ms + 2*day, To: day0Ms + 8*day},
			{Table: "tx", Window: w, Key: key, Width: hourMs, From: day0Ms + day, To: day0Ms + 2*day},
			{Table: "tx", Window: w, Key: key, Width: hourMs, From: day0Ms + 8*day, To: day0Ms + 9*day},
		}
	}
	for _, tc := range []struct {
		rs    []storage.TileRange
		calls int64
	}{{ranges("a"), 1}, {append(ranges("a"), ranges("b")...), 2}} {
		calls.Store(0)
		c.reset()
		got, err := s.ReadTilesMany(ctx, tc.rs)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, tiles := range got {
			n += len(tiles)
		}
		// Per key: 6 day tiles and 2 hour tiles, over days 1 to 8.
		if keys := int64(len(tc.rs) / 3); n != 8*int(keys) || calls.Load() != tc.calls || c.versions.Load() != 8*keys || c.segments.Load() != 0 || c.tiles.Load() != 8*keys {
			t.Errorf("%d ranges: %d tiles in %d ReadRows calls (want %d), receiving %d version cells, %d segment cells and %d tile cells",
				len(tc.rs), n, calls.Load(), tc.calls, c.versions.Load(), c.segments.Load(), c.tiles.Load())
		}
	}
}
