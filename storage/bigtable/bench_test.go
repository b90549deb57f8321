package bigtable

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// benchSQL is the example's transaction table.
const benchSQL = `CREATE TABLE tx (tx_id bigint, card string, country string, amount double, ts timestamp,
  INDEX(KEY=card, TS=ts, TTL=30d, TTL_TYPE=absolute));`

var benchStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// benchRows returns n transactions of nCards cards, one a second from
// benchStart, with sequence numbers from seq0.
func benchRows(n, nCards int, seq0 uint64) (*types.Block, []uint64) {
	schema := types.Schema{{Name: "tx_id", Type: types.Int64}, {Name: "card", Type: types.String}, {Name: "country", Type: types.String}, {Name: "amount", Type: types.Double}, {Name: "ts", Type: types.Timestamp}}
	rng := rand.New(rand.NewPCG(uint64(n), seq0))
	b := types.NewBlock(schema, n)
	seqs := make([]uint64, n)
	countries := []types.Value{types.StringValue("FR"), types.StringValue("DE"), types.StringValue("US")}
	for i := range n {
		seq := seq0 + uint64(i)
		b.AppendRow([]types.Value{
			types.Int64Value(int64(seq)), types.StringValue(fmt.Sprintf("card%05d", rng.IntN(nCards))), countries[rng.IntN(3)],
			types.DoubleValue(float64(rng.IntN(100000)) / 100), types.TimestampValue(benchStart.UnixMilli() + int64(seq)*1000),
		})
		seqs[i] = seq
	}
	return b, seqs
}

// BenchmarkRead reads the window of one key's 10, 100 or 1,000 newest rows
// (a time range and a limit, as a window frame is fetched) from the
// in-process emulator over gRPC, and reports latency percentiles over the
// last 65,536 reads.
func BenchmarkRead(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			clock := func() time.Time { return benchStart.Add(24 * time.Hour) }
			s := initStore(b, benchSQL, Config{Clock: clock, NoGC: true})
			ctx := context.Background()
			rows, seqs := benchRows(n, 1, 0) // one card: all n rows are its history
			if err := s.Write(ctx, "tx", rows, seqs); err != nil {
				b.Fatal(err)
			}
			other, oseqs := benchRows(5000, 50, uint64(n)) // and neighbours
			if err := s.Write(ctx, "tx", other, oseqs); err != nil {
				b.Fatal(err)
			}
			r := storage.Range{Table: "tx", Keys: []string{"card"}, Values: []types.Value{types.StringValue("card00000")},
				TS: "ts", From: benchStart.UnixMilli(), To: benchStart.UnixMilli() + int64(n)*1000, Limit: n}
			read := func() {
				out, err := s.Read(ctx, r)
				if err != nil || out.Len < n {
					b.Fatalf("read %v rows: %v", out, err)
				}
			}
			timeReads(b, read)
		})
	}
}

// BenchmarkWrite100k bulk-writes 100,000 rows of 2,000 cards per
// iteration to the in-process emulator and reports rows per second.
func BenchmarkWrite100k(b *testing.B) {
	const n = 100_000
	s := initStore(b, benchSQL, Config{NoGC: true})
	ctx := context.Background()
	var batches []*types.Block
	var seqs [][]uint64
	for i := range 3 {
		rows, sq := benchRows(n, 2000, uint64(i*n))
		batches, seqs = append(batches, rows), append(seqs, sq)
	}
	i := 0
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if err := s.Write(ctx, "tx", batches[i%3], seqs[i%3]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(i*n)/time.Since(start).Seconds(), "rows/s")
}

// BenchmarkDecode1000 decodes 1,000 stored rows into a reused block: the
// store's own share of a read (one string allocation per row).
func BenchmarkDecode1000(b *testing.B) {
	rows, _ := benchRows(1000, 10, 0)
	c, err := NewCodec(rows.Schema)
	if err != nil {
		b.Fatal(err)
	}
	vals := make([][]byte, rows.Len)
	for i := range vals {
		vals[i] = c.Append(nil, rows, i)
	}
	out := types.NewBlock(rows.Schema, rows.Len)
	b.ReportAllocs()
	for b.Loop() {
		out.Reset()
		for _, v := range vals {
			if err := c.Decode(v, out); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows.Len), "ns/row")
}

// BenchmarkReadTiles reads the tiles of a 30-day window of one key, 30
// tiles of one day with 5 partial states each (the size of sum, count,
// avg, max and a small distinct_count), with the version cells of the
// key's 30 day rows that check their tokens (100 rows a day, written in 4
// writes, as a load stores them, or in 100, as a stream does: a segment
// each, which the read does not receive), from the in-process emulator,
// next to neighbours' tiles, and reports latency percentiles: compare
// with BenchmarkRead/rows=100.
func BenchmarkReadTiles(b *testing.B) {
	for _, writes := range []int{4, 100} {
		b.Run(fmt.Sprintf("segments=%d", writes), func(b *testing.B) { benchReadTiles(b, writes) })
	}
}

func benchReadTiles(b *testing.B, writes int) {
	const day = 86_400_000
	clock := func() time.Time { return benchStart.Add(24 * time.Hour) }
	s := initStore(b, benchSQL, Config{Clock: clock, NoGC: true})
	ctx := context.Background()
	window := storage.WindowID("bench", "w30d")
	first := benchStart.UnixMilli() - 29*day
	seq := uint64(0)
	for d := range int64(31) {
		for range writes {
			rows, seqs := benchRows(100/writes, 1, seq)
			for i := range rows.Len { // into the day, a minute apart
				rows.Cols[4].I[i] = first + (d-1)*day + int64(seq)%1440*60_000
				seq++
			}
			if err := s.Write(ctx, "tx", rows, seqs); err != nil {
				b.Fatal(err)
			}
		}
	}
	r := storage.TileRange{Table: "tx", Window: window, Key: []types.Value{types.StringValue("card00000")}, Width: day,
		From: first, To: first + 30*day}
	bs, err := s.ReadBuckets(ctx, r)
	if err != nil || len(bs) != 30 {
		b.Fatalf("%d buckets: %v", len(bs), err)
	}
	tokens := map[int64]uint64{}
	for _, bk := range bs {
		tokens[bk.Start] = bk.Token
	}
	var tiles []storage.Tile
	for c := range 50 {
		for d := range int64(31) {
			tile := storage.Tile{Window: window, Key: []types.Value{types.StringValue(fmt.Sprintf("card%05d", c))},
				Start: first + (d-1)*day, Width: day, Rows: 3000, MaxSeq: uint64(d) << 20,
				Partials: [][]byte{make([]byte, 12), make([]byte, 9), make([]byte, 21), make([]byte, 10), make([]byte, 64)}}
			if c == 0 {
				tile.Token = tokens[tile.Start]
			}
			tiles = append(tiles, tile)
		}
	}
	if err := s.WriteTiles(ctx, "tx", tiles); err != nil {
		b.Fatal(err)
	}
	read := func() {
		out, err := s.ReadTiles(ctx, r)
		if err != nil || len(out) != 30 {
			b.Fatalf("read %d tiles: %v", len(out), err)
		}
	}
	timeReads(b, read)
}

// timeReads times read, after 200 calls to warm up (connection, caches),
// once per benchmark iteration, and reports its p50 and p99.
func timeReads(b *testing.B, read func()) {
	b.Helper()
	for range 200 {
		read()
	}
	lat := make([]time.Duration, 1<<16)
	k := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		read()
		lat[k%len(lat)] = time.Since(t0)
		k++
	}
	lat = lat[:min(k, len(lat))]
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}
