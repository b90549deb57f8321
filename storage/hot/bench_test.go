package hot_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/hot"
)

const benchSQL = `CREATE TABLE tx (card string, amount double, mcc int, ts timestamp,
  INDEX(KEY=card, TS=ts, TTL=30d, TTL_TYPE=absolute));`

// BenchmarkRead reads from memory one key's rows of the last 10 days (100
// rows), its newest row (a LAST JOIN), and the same 10 days through Scan
// (as the evaluator asks), among 1000 keys of 100 rows each.
func BenchmarkRead(b *testing.B) {
	ctx := context.Background()
	const keys, rows, day = 1000, 100, int64(86_400_000)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	clock := func() time.Time { return time.UnixMilli(t0) }
	tables := compile(b, benchSQL)
	back := newDumpMem(clock, 1000)
	s := hot.New(back, hot.Options{Clock: clock})
	if err := s.Init(ctx, tables); err != nil {
		b.Fatal(err)
	}
	cards := make([]types.Value, keys)
	for k := range keys {
		cards[k] = types.StringValue(fmt.Sprintf("card%04d", k))
		blk := types.NewBlock(tables[0].Schema, rows)
		seqs := make([]uint64, rows)
		for i := range rows {
			ts := t0 - 10*day + int64(i+1)*10*day/rows // 100 rows over the 10 days
			blk.AppendRow([]types.Value{cards[k], types.DoubleValue(float64(i)), types.IntValue(types.Int32, int64(i%10)), types.TimestampValue(ts)})
			seqs[i] = uint64(k*rows + i)
		}
		if err := back.Write(ctx, "tx", blk, seqs); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Load(ctx, "tx"); err != nil {
		b.Fatal(err)
	}
	r := storage.Range{Table: "tx", Keys: []string{"card"}, Values: make([]types.Value, 1), TS: "ts", From: t0 - 10*day, To: t0}
	bench := func(name string, want int, read func(i int) (*types.Block, error)) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				got, err := read(i)
				if err != nil || got.Len != want {
					b.Fatalf("%d rows, %v; want %d", got.Len, err, want)
				}
				i++
			}
			if back.reads.Load() != 0 {
				b.Fatal("reads went to the back store")
			}
		})
	}
	bench("range10d", rows, func(i int) (*types.Block, error) {
		r.Values[0] = cards[i%keys]
		return s.Read(ctx, r)
	})
	newest := r
	newest.Values, newest.Limit, newest.NewestFirst = make([]types.Value, 1), 1, true
	bench("newest", 1, func(i int) (*types.Block, error) {
		newest.Values[0] = cards[i%keys]
		return s.Read(ctx, newest)
	})
	q := eval.Query{Table: "tx", Keys: []string{"card"}, Values: make([]types.Value, 1), TS: "ts", From: t0 - 10*day, To: t0}
	bench("scan10d", rows, func(i int) (*types.Block, error) {
		q.Values[0] = cards[i%keys]
		return s.Scan(ctx, q)
	})
}
