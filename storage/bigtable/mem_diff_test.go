package bigtable

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/rowcsv"
	"github.com/fenestra-dev/fenestra/storage"
)

// diffSQL has keys of several types (NULLs included), TS columns that may
// be NULL, an index without TS, and every TTL type.
const diffSQL = `
CREATE TABLE ev (k string, n smallint, b bigint, d double, v int, ts timestamp, t2 bigint, x int,
  INDEX(KEY=k, TS=ts),
  INDEX(KEY=(n, k), TS=t2, TTL=3, TTL_TYPE=latest),
  INDEX(KEY=b, TS=ts, TTL=20m, TTL_TYPE=absolute),
  INDEX(KEY=(k, b), TS=ts, TTL=(15m, 2), TTL_TYPE=absorlat),
  INDEX(KEY=d, TS=ts, TTL=(25m, 3), TTL_TYPE=absandlat),
  INDEX(KEY=v));`

// TestAgainstMem writes random rows to the Bigtable store and to
// storage.Mem and checks that random reads and scans give identical
// results, as the clock moves: without compaction, and with day rows
// compacted from 2 segments on, while the writes and reads go on.
func TestAgainstMem(t *testing.T) {
	t.Parallel()
	for _, at := range []int{-1, 2} {
		t.Run(fmt.Sprintf("compactAt=%d", at), func(t *testing.T) {
			t.Parallel()
			bt := againstMem(t, at)
			st := bt.CompactStats()
			t.Logf("compaction: %+v", st)
			if at > 0 && st.Compacted == 0 {
				t.Errorf("compaction from %d segments: no day row compacted: %+v", at, st)
			}
			if at < 0 && st != (CompactStats{}) {
				t.Errorf("compaction off: %+v", st)
			}
		})
	}
}

func againstMem(t *testing.T, compactAt int) *Store {
	// The rows' times straddle midnight UTC, and t2's span days, so reads
	// cross the day boundaries of Bigtable rows.
	clock := time.Date(2024, 1, 1, 0, 30, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	bt := openStore(t, startEmulator(t), Config{Clock: now, NoGC: true, CompactAt: compactAt})
	mem := storage.NewMem(now)
	ctx := context.Background()
	tables := compile(t, diffSQL)
	for _, s := range []storage.Store{bt, mem} {
		if err := s.Init(ctx, tables); err != nil {
			t.Fatal(err)
		}
	}
	def := tables[0]
	rng := rand.New(rand.NewPCG(1, 2))
	base := clock.Add(-time.Hour).UnixMilli()
	strs := []string{"", "a", "a\x00", "a\x00b", "\xff", "ab", "b"}
	pick := func(vals []types.Value) types.Value { return vals[rng.IntN(len(vals))] }
	keyK := []types.Value{types.NullOf(types.String)}
	for _, s := range strs {
		keyK = append(keyK, types.StringValue(s))
	}
	keyN := []types.Value{types.NullOf(types.Int16), types.IntValue(types.Int16, math.MinInt16), types.IntValue(types.Int16, -1), types.IntValue(types.Int16, 0), types.IntValue(types.Int16, math.MaxInt16)}
	keyB := []types.Value{types.NullOf(types.Int64), types.Int64Value(math.MinInt64), types.Int64Value(-1), types.Int64Value(1), types.Int64Value(math.MaxInt64)}
	keyD := []types.Value{types.NullOf(types.Double), types.DoubleValue(math.Inf(-1)), types.DoubleValue(-1.5), types.DoubleValue(0), types.DoubleValue(2.5), types.DoubleValue(math.NaN())}
	keyV := []types.Value{types.NullOf(types.Int32), types.IntValue(types.Int32, 1), types.IntValue(types.Int32, 2)}
	randTS := func(null float64) types.Value {
		if rng.Float64() < null {
			return types.NullOf(types.Timestamp)
		}
		return types.TimestampValue(base + rng.Int64N(80)*60_000) // equal times are common
	}
	var built []storage.TileRange // ranges whose tiles were built
	bySeq := map[uint64][]types.Value{}
	var seqList []uint64
	seq := uint64(0)
	for round := range 8 {
		rows := types.NewBlock(def.Schema, 0)
		var seqs []uint64
		for range 40 + rng.IntN(40) {
			var row []types.Value
			var s uint64
			x := types.IntValue(types.Int32, rng.Int64N(1000))
			if len(seqList) > 0 && rng.IntN(5) == 0 {
				// a rewrite of an earlier row: the same keys and times, a new x
				s = seqList[rng.IntN(len(seqList))]
				row = append([]types.Value(nil), bySeq[s]...)
				row[7] = x
			} else {
				ts := randTS(0.1)
				t2 := types.Value{Type: types.Int64, I: rng.Int64N(5)*dayWidth*3/5 - dayWidth}
				if rng.IntN(10) == 0 {
					t2 = types.NullOf(types.Int64)
				}
				row = []types.Value{pick(keyK), pick(keyN), pick(keyB), pick(keyD), pick(keyV), ts, t2, x}
				seq += 1 + uint64(rng.IntN(3))
				s = seq
				seqList = append(seqList, s)
			}
			bySeq[s] = row
			rows.AppendRow(row)
			seqs = append(seqs, s)
		}
		for _, s := range []storage.Store{bt, mem} {
			if err := s.Write(ctx, "ev", rows, seqs); err != nil {
				t.Fatal(err)
			}
		}
		clock = clock.Add(time.Duration(rng.IntN(10)) * time.Minute)
		for range 20 { // ScanMany answers as Scan does, whatever the mix of queries
			qs := make([]eval.Query, 1+rng.IntN(8))
			for i := range qs {
				qs[i] = randQuery(rng, keyK, keyN, keyB, keyV)
			}
			got, err := bt.ScanMany(ctx, qs)
			if err != nil {
				t.Fatal(err)
			}
			for i, q := range qs {
				if g, w := run(got[i], nil), run(mem.Scan(ctx, q)); g != w {
					t.Fatalf("round %d, ScanMany query %d of %d, %+v at %v:\n--- bigtable\n%s--- mem\n%s", round, i, len(qs), q, clock, g, w)
				}
			}
		}
		checkTiles(t, ctx, round, built, bt, mem)
		for range 30 { // buckets, and tiles built from them in each store
			r := randBucketRange(rng, base, keyK, keyB)
			got, want := runBuckets(bt.ReadBuckets(ctx, r)), runBuckets(mem.ReadBuckets(ctx, r))
			if got != want {
				t.Fatalf("round %d, buckets %+v at %v:\n--- bigtable\n%s--- mem\n%s", round, r, clock, got, want)
			}
			for _, s := range []storage.TileStore{bt, mem} {
				buildContentTiles(t, ctx, s, r)
			}
			built = append(built, r)
		}
		for q := range 150 {
			var desc string
			var got, want string
			if q%5 == 4 {
				sq := randQuery(rng, keyK, keyN, keyB, keyV)
				desc = fmt.Sprintf("scan %+v", sq)
				got, want = run(bt.Scan(ctx, sq)), run(mem.Scan(ctx, sq))
			} else {
				r := randRange(rng, base, keyK, keyN, keyB, keyD)
				desc = fmt.Sprintf("read %+v", r)
				got, want = run(bt.Read(ctx, r)), run(mem.Read(ctx, r))
			}
			if got != want {
				t.Fatalf("round %d, %s at %v:\n--- bigtable\n%s--- mem\n%s", round, desc, clock, got, want)
			}
		}
	}
	waitCompacted(t, bt)
	return bt
}

func run(b *types.Block, err error) string {
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	return rowcsv.Format(b)
}

func randRange(rng *rand.Rand, base int64, keyK, keyN, keyB, keyD []types.Value) storage.Range {
	pick := func(vals []types.Value) types.Value { return vals[rng.IntN(len(vals))] }
	r := storage.Range{Table: "ev", From: math.MinInt64, To: math.MaxInt64, NewestFirst: rng.IntN(2) == 0}
	switch rng.IntN(5) {
	case 0:
		r.Keys, r.Values = []string{"k"}, []types.Value{pick(keyK)}
	case 1:
		r.Keys, r.Values, r.TS = []string{"k", "n"}, []types.Value{pick(keyK), pick(keyN)}, "t2"
		// an int64 looked up in the int16 column
		if r.Values[1].Null == false && rng.IntN(2) == 0 {
			r.Values[1] = types.Int64Value(r.Values[1].I)
		}
	case 2:
		r.Keys, r.Values = []string{"b"}, []types.Value{pick(keyB)}
	case 3:
		r.Keys, r.Values = []string{"b", "k"}, []types.Value{pick(keyB), pick(keyK)}
	case 4:
		r.Keys, r.Values = []string{"d"}, []types.Value{pick(keyD)}
	}
	if rng.IntN(2) == 0 {
		r.From = base + rng.Int64N(80)*60_000
		if r.TS == "t2" {
			r.From = rng.Int64N(5)*dayWidth*3/5 - dayWidth + rng.Int64N(3) - 1
		}
	}
	if rng.IntN(2) == 0 {
		r.To = base + rng.Int64N(80)*60_000
		if r.TS == "t2" {
			r.To = rng.Int64N(5)*dayWidth*3/5 - dayWidth + rng.Int64N(3) - 1
		}
	}
	if rng.IntN(2) == 0 {
		r.Limit = 1 + rng.IntN(4)
	}
	return r
}

func randQuery(rng *rand.Rand, keyK, keyN, keyB, keyV []types.Value) eval.Query {
	pick := func(vals []types.Value) types.Value { return vals[rng.IntN(len(vals))] }
	q := eval.Query{Table: "ev", From: math.MinInt64, To: math.MaxInt64}
	switch rng.IntN(7) {
	case 0: // the whole table
	case 1:
		q.Keys, q.Values = []string{"k"}, []types.Value{pick(keyK)}
	case 2:
		q.Keys, q.Values, q.TS, q.Limit = []string{"b"}, []types.Value{pick(keyB)}, "ts", rng.IntN(3)
	case 3:
		q.Keys, q.Values = []string{"v"}, []types.Value{pick(keyV)}
	case 4: // no index on these keys: the first index, filtered
		q.Keys, q.Values = []string{"k", "v"}, []types.Value{pick(keyK), pick(keyV)}
	case 5: // a whole key of the index with a latest TTL
		q.Keys, q.Values = []string{"n", "k"}, []types.Value{pick(keyN), pick(keyK)}
	case 6: // a whole key of the index with an absorlat TTL
		q.Keys, q.Values = []string{"k", "b"}, []types.Value{pick(keyK), pick(keyB)}
	}
	return q
}

// randBucketRange returns a range of buckets of index 0 (KEY=k) or 2
// (KEY=b, TTL=20m), both TS=ts.
func randBucketRange(rng *rand.Rand, base int64, keyK, keyB []types.Value) storage.TileRange {
	widths := []int64{60_000, 300_000, 3_600_000, dayWidth, 2 * dayWidth}
	r := storage.TileRange{Table: "ev", Key: []types.Value{keyK[rng.IntN(len(keyK))]}, Width: widths[rng.IntN(len(widths))],
		From: math.MinInt64, To: math.MaxInt64}
	if rng.IntN(2) == 0 {
		r.Index, r.Key = 2, []types.Value{keyB[rng.IntN(len(keyB))]}
	}
	if rng.IntN(2) == 0 {
		r.From = base + rng.Int64N(80)*60_000 - 30_000
	}
	if rng.IntN(2) == 0 {
		r.To = base + rng.Int64N(80)*60_000
	}
	return r
}

func runBuckets(bs []storage.Bucket, err error) string {
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	var b strings.Builder
	for _, bk := range bs {
		fmt.Fprintf(&b, "bucket %d, seqs %v\n%s", bk.Start, bk.Seqs, rowcsv.Format(bk.Rows))
	}
	return b.String()
}

// buildContentTiles writes, for each bucket of r in s, a tile with its
// token whose partial is the bucket's content (sequence numbers and rows).
func buildContentTiles(t *testing.T, ctx context.Context, s storage.TileStore, r storage.TileRange) {
	t.Helper()
	bs, err := s.ReadBuckets(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	tiles := make([]storage.Tile, len(bs))
	for i, b := range bs {
		tiles[i] = storage.Tile{Index: r.Index, Key: r.Key, Start: b.Start, Width: r.Width, Token: b.Token,
			Partials: [][]byte{[]byte(runBuckets([]storage.Bucket{b}, nil))}}
	}
	if err := s.WriteTiles(ctx, "ev", tiles); err != nil {
		t.Fatal(err)
	}
}

// checkTiles requires every tile of the ranges built that ReadTiles
// returns, from either store, to hold its bucket's content now; and every
// tile the Bigtable store returns to be current in storage.Mem too (day
// rows invalidate more than Mem's buckets do, never less, in this test:
// its rewrites keep their rows' times).
func checkTiles(t *testing.T, ctx context.Context, round int, built []storage.TileRange, bt, mem storage.TileStore) {
	t.Helper()
	current := 0
	for _, r := range built {
		r.From, r.To = math.MinInt64, math.MaxInt64
		starts := map[storage.TileStore][]int64{}
		for _, s := range []storage.TileStore{bt, mem} {
			tiles, err := s.ReadTiles(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			bs, err := s.ReadBuckets(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			for _, tile := range tiles {
				want := ""
				if at := slices.IndexFunc(bs, func(b storage.Bucket) bool { return b.Start == tile.Start }); at >= 0 {
					want = runBuckets(bs[at:at+1], nil)
				}
				if string(tile.Partials[0]) != want {
					t.Fatalf("round %d, %T: the tile of %+v at %d is current but does not hold its bucket:\n%s--- bucket\n%s", round, s, r, tile.Start, tile.Partials[0], want)
				}
				starts[s] = append(starts[s], tile.Start)
			}
		}
		for _, st := range starts[bt] {
			if !slices.Contains(starts[mem], st) {
				t.Fatalf("round %d: the tile of %+v at %d is current in Bigtable, not in Mem", round, r, st)
			}
		}
		current += len(starts[mem])
	}
	if len(built) > 0 && current == 0 {
		t.Errorf("round %d: no tile of %d ranges built is current", round, len(built))
	}
}
