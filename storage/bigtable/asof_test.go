package bigtable

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// TestAsOf: a read as of a time (eval.Query.AsOf, storage.Range.AsOf)
// enforces TTLs at that time instead of the store's clock, in Read, Scan
// and ScanMany, as storage.Mem does; queries of different times in one
// ScanMany each get their own.
func TestAsOf(t *testing.T) {
	t.Parallel()
	const sql = `CREATE TABLE tx (card string, amount double, ts timestamp, INDEX(KEY=card, TS=ts, TTL=10s, TTL_TYPE=absolute));`
	clock := func() time.Time { return time.UnixMilli(1_000_000) } // every row expired by the clock
	bt := initStore(t, sql, Config{Clock: clock, NoGC: true})
	mem := storage.NewMem(clock)
	ctx := context.Background()
	if err := mem.Init(ctx, compile(t, sql)); err != nil {
		t.Fatal(err)
	}
	rows := txRows(tx("a", 1, 1000), tx("a", 2, 15000), tx("a", 3, 20000), tx("b", 4, 5000))
	for _, s := range []storage.Store{bt, mem} {
		if err := s.Write(ctx, "tx", rows, []uint64{1, 2, 3, 4}); err != nil {
			t.Fatal(err)
		}
	}
	key := func(card string, asOf int64) eval.Query {
		return eval.Query{Table: "tx", Keys: []string{"card"}, Values: []types.Value{types.StringValue(card)}, TS: "ts", From: math.MinInt64, To: math.MaxInt64, AsOf: asOf}
	}
	whole := func(card string, asOf int64) eval.Query {
		q := key(card, asOf)
		q.TS, q.From, q.To = "", 0, 0
		return q
	}
	table := eval.Query{Table: "tx", AsOf: 21000}
	qs := []eval.Query{key("a", 21000), key("a", 16000), key("a", 0), key("b", 14000), key("b", 16000), whole("a", 21000), whole("a", 0), table}
	want := []string{"2 3", "2 3", "", "4", "", "2 3", "", "2 3"}
	for _, s := range []storage.Store{bt, mem} {
		name := map[bool]string{true: "bigtable", false: "mem"}[s == storage.Store(bt)]
		for i, q := range qs {
			b, err := s.Scan(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if got := amounts(b.Rows()); got != want[i] {
				t.Errorf("%s: Scan of query %d (as of %d): %q, want %q", name, i, q.AsOf, got, want[i])
			}
		}
		r := storage.Range{Table: "tx", Keys: []string{"card"}, Values: []types.Value{types.StringValue("a")}, TS: "ts", AsOf: 16000}
		if got := amounts(readAll(t, s, r)); got != "2 3" {
			t.Errorf("%s: Read as of 16000: %q", name, got)
		}
	}
	bs, err := bt.ScanMany(ctx, qs)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range bs {
		if got := amounts(b.Rows()); got != want[i] {
			t.Errorf("ScanMany, query %d (as of %d): %q, want %q", i, qs[i].AsOf, got, want[i])
		}
	}
}
