package hot_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/hot"
)

// pruneSQL has an index that prunes (absolute) and two that do not
// (absorlat keeps old rows among the newest, latest has no age limit).
const pruneSQL = `CREATE TABLE tx (card string, amount double, ts timestamp,
  INDEX(KEY=card, TS=ts, TTL=10m, TTL_TYPE=absolute),
  INDEX(KEY=card, TS=ts, TTL=(10m, 2), TTL_TYPE=absorlat),
  INDEX(KEY=amount, TS=ts, TTL=2, TTL_TYPE=latest));`

// TestPrune: rows an absolute TTL expired more than Keep ago leave memory
// when their key is written to, and reads of times before that go to the
// back store, so every read still equals storage.Mem's.
func TestPrune(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const minute = int64(60_000)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	now := t0
	clock := func() time.Time { return time.UnixMilli(now) }
	tables := compile(t, pruneSQL)
	ref, back := storage.NewMem(clock), newDumpMem(clock, 2)
	s := hot.New(back, hot.Options{Clock: clock, Keep: 5 * time.Minute})
	for _, st := range []storage.Store{ref, s} {
		if err := st.Init(ctx, tables); err != nil {
			t.Fatal(err)
		}
	}
	// TS -30m, -20m, -12m, -1m: the first two expired more than 5m ago.
	rows := txBlock(tables[0], []string{"a", "a", "a", "a"}, []float64{1, 2, 1, 2}, []int64{t0 - 30*minute, t0 - 20*minute, t0 - 12*minute, t0 - minute})
	write(t, ref, rows, []uint64{1, 2, 3, 4})
	write(t, back, rows, []uint64{1, 2, 3, 4})
	if err := s.Load(ctx, "tx"); err != nil {
		t.Fatal(err)
	}
	// check checks memory's size and reads as of asOfs: those before
	// horizon must go to the back store.
	check := func(when string, rows int, horizon int64, asOfs ...int64) {
		t.Helper()
		if err := s.Check(); err != nil {
			t.Fatal(err)
		}
		if s.Rows() != rows {
			t.Errorf("%s: Rows() = %d, want %d", when, s.Rows(), rows)
		}
		for _, asOf := range asOfs {
			before := back.reads.Load()
			r := storage.Range{Table: "tx", Keys: []string{"card"}, Values: []types.Value{types.StringValue("a")}, From: math.MinInt64, To: math.MaxInt64, AsOf: asOf}
			sameRead(t, s, ref, r)
			r.TS = "ts"
			sameRead(t, s, ref, r) // index 0 too
			r.Keys, r.Values = []string{"amount"}, []types.Value{types.DoubleValue(2)}
			sameRead(t, s, ref, r)
			at := asOf
			if at == 0 {
				at = now
			}
			if toBack := back.reads.Load() > before; toBack != (at < horizon) {
				t.Errorf("%s: a read as of %d min went to the back store: %t", when, (at-t0)/minute, toBack)
			}
		}
	}
	// Index 0 dropped the first two rows at Load; the others keep all 4.
	check("loaded", 10, t0-5*minute, 0, t0-4*minute, t0-6*minute, t0-25*minute, t0+time.Hour.Milliseconds())

	// 20 minutes later a row of card a drops -12m and -1m from index 0.
	now += 20 * minute
	more := txBlock(tables[0], []string{"a"}, []float64{2}, []int64{now})
	write(t, ref, more, []uint64{5})
	write(t, back, more, []uint64{5})
	if err := s.Apply("tx", more, []uint64{5}); err != nil {
		t.Fatal(err)
	}
	check("20 minutes later", 11, t0+15*minute, 0, t0, t0+14*minute, t0+16*minute)

	// The clock goes back before the horizon: reads go to the back store.
	now -= 30 * minute
	check("clock set back", 11, t0+15*minute, 0)
}

// TestNoPrune: with a negative Keep, memory keeps every row.
func TestNoPrune(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	clock := func() time.Time { return time.UnixMilli(t0) }
	tables := compile(t, pruneSQL)
	s := hot.New(newDumpMem(clock, 2), hot.Options{Clock: clock, Keep: -1})
	if err := s.Init(ctx, tables); err != nil {
		t.Fatal(err)
	}
	if err := s.Load(ctx, "tx"); err != nil {
		t.Fatal(err)
	}
	rows := txBlock(tables[0], []string{"a", "a"}, []float64{1, 2}, []int64{t0 - 1e9, t0})
	write(t, s, rows, []uint64{1, 2})
	if s.Rows() != 6 {
		t.Errorf("Rows() = %d, want 6", s.Rows())
	}
}
