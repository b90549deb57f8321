package hot_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
	"github.com/fenestra-dev/fenestra/storage/hot"
)

// btSQL has an index per kind of TTL that matters to Load: none, one
// that prunes, and absorlat, which does not.
const btSQL = `CREATE TABLE ev (k string, n bigint, v int, ts timestamp,
  INDEX(KEY=k, TS=ts),
  INDEX(KEY=n, TS=ts, TTL=30h, TTL_TYPE=absolute),
  INDEX(KEY=(k, n), TS=ts, TTL=(20h, 2), TTL_TYPE=absorlat));`

// TestOverBigtable loads a table from the Bigtable store (on the
// emulator), whose Dump hands over a copy of a row per Bigtable row
// holding one, with rows rewritten under other keys and days, then
// writes more, and checks that memory's answers equal storage.Mem's.
// (Bigtable's own differ for a row rewritten under another key or day:
// it reads both copies; see docs/storage-format.md.)
func TestOverBigtable(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Bigtable emulator")
	}
	t.Parallel()
	ctx := context.Background()
	addr, stop, err := emulators.StartBigtable("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	now := time.Date(2024, 1, 4, 0, 0, 0, 0, time.UTC).UnixMilli()
	clock := func() time.Time { return time.UnixMilli(now) }
	// CompactAt -1: compaction gives every row it merges the greatest
	// stamp of its day row, so a stale copy there can outrank the latest
	// copy in another day row (a Dump contract violation, reported).
	bt, err := bigtable.Open(ctx, bigtable.Config{Project: "p", Instance: "i", EmulatorHost: addr, Clock: clock, NoGC: true, CompactAt: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bt.Close() })
	tables := compile(t, btSQL)
	ref := storage.NewMem(clock)
	for _, s := range []storage.Store{ref, bt} {
		if err := s.Init(ctx, tables); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	block := func(n int) (*types.Block, []uint64) {
		b := types.NewBlock(tables[0].Schema, n)
		seqs := make([]uint64, n)
		for i := range n {
			b.AppendRow([]types.Value{types.StringValue(pick(rng, "a", "b", "c")), types.Int64Value(rng.Int64N(3)),
				types.IntValue(types.Int32, rng.Int64N(100)), types.TimestampValue(now - rng.Int64N(3*86_400_000))})
			seqs[i] = uint64(1 + rng.IntN(150)) // many rewrites
		}
		return b, seqs
	}
	for range 60 {
		rows, seqs := block(5)
		for _, s := range []storage.Store{ref, bt} {
			if err := s.Write(ctx, "ev", rows, seqs); err != nil {
				t.Fatal(err)
			}
		}
	}
	copies, seqs := 0, map[uint64]bool{}
	if err := bt.Dump(ctx, "ev", func(rows *types.Block, ss, _ []uint64) error {
		copies += rows.Len
		for _, seq := range ss {
			seqs[seq] = true
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if copies <= len(seqs) {
		t.Fatalf("Bigtable dumps %d copies of %d rows: no row rewritten under another key or day", copies, len(seqs))
	}
	t.Logf("Bigtable dumps %d copies of %d rows", copies, len(seqs))
	back := &countingBT{Store: bt}
	s := hot.New(back, hot.Options{Clock: clock, Keep: -1})
	if err := s.Load(ctx, "ev"); err != nil {
		t.Fatal(err)
	}
	compareAll := func(when string) {
		t.Helper()
		for _, asOf := range []int64{0, now - 86_400_000, now + 86_400_000} {
			for _, k := range []string{"a", "b", "c"} {
				for n := range int64(3) {
					for _, r := range []storage.Range{
						{Keys: []string{"k"}, Values: []types.Value{types.StringValue(k)}},
						{Keys: []string{"n"}, Values: []types.Value{types.Int64Value(n)}, Limit: 2, NewestFirst: true},
						{Keys: []string{"n", "k"}, Values: []types.Value{types.Int64Value(n), types.StringValue(k)}},
					} {
						r.Table, r.From, r.To, r.AsOf = "ev", math.MinInt64, math.MaxInt64, asOf
						t.Run(fmt.Sprintf("%s/%v=%v/asOf=%d", when, r.Keys, r.Values, asOf), func(t *testing.T) {
							sameRead(t, s, ref, r)
						})
					}
				}
			}
		}
	}
	compareAll("loaded")
	for range 20 {
		now += rng.Int64N(3_600_000)
		rows, seqs := block(3)
		if err := ref.Write(ctx, "ev", rows, seqs); err != nil {
			t.Fatal(err)
		}
		if err := s.Write(ctx, "ev", rows, seqs); err != nil {
			t.Fatal(err)
		}
	}
	compareAll("written")
	if err := s.Check(); err != nil {
		t.Error(err)
	}
	if n := back.reads.Load(); n != 0 {
		t.Errorf("%d reads went to Bigtable", n)
	}
}

// countingBT is the Bigtable store, counting the reads asked of it.
type countingBT struct {
	*bigtable.Store
	reads atomic.Int64
}

func (c *countingBT) Read(ctx context.Context, r storage.Range) (*types.Block, error) {
	c.reads.Add(1)
	return c.Store.Read(ctx, r)
}

func (c *countingBT) Scan(ctx context.Context, q eval.Query) (*types.Block, error) {
	c.reads.Add(1)
	return c.Store.Scan(ctx, q)
}
