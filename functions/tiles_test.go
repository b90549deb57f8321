package functions

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// tiledSQL is txSQL with its 10-day window tiled in 1-day buckets.
var tiledSQL = strings.Replace(txSQL, "DEPLOY features", `DEPLOY features OPTIONS(long_windows="w10d:1d")`, 1)

// TestTileRepair checks that rows written online get tiles: the first
// request over them reads the rows raw and reports the buckets, the
// service rebuilds them in the background, and later requests read
// tiles, always with the answer of a service without tiles. A late row
// written into a tiled bucket makes its tile stale: the next request reads
// that bucket raw again (same answer), and it is rebuilt.
func TestTileRepair(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"mem", "bigtable"} {
		t.Run(name, func(t *testing.T) {
			mod := compile(t, tiledSQL)
			var store storage.Store
			if name == "mem" {
				mem := storage.NewMem(epoch)
				if err := mem.Init(ctx, mod.Tables); err != nil {
					t.Fatal(err)
				}
				store = mem
			} else {
				store = bigtableStore(t, startEmulator(t), mod)
			}
			svc, err := New(mod, store, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if svc.repair == nil {
				t.Fatal("no tile repair for a view with a tiled window")
			}
			raw, err := New(mod, rawOnlyStore{store}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			// 8 days of a card's transactions, every 3 hours.
			day := int64(86_400_000)
			blk := txBlock()
			for i := range 64 {
				blk.AppendRow(tx(int64(i), "c1", float64(i)+0.5, t0-8*day+int64(i)*3*3_600_000))
			}
			if err := svc.Ingest(ctx, "tx", blk); err != nil {
				t.Fatal(err)
			}
			req := txBlock(tx(1000, "c1", 3, t0))
			compare := func() *ComputeResult {
				t.Helper()
				got, err := svc.Compute(ctx, "features", req, false)
				if err != nil {
					t.Fatal(err)
				}
				want, err := raw.Compute(ctx, "features", req, false)
				if err != nil {
					t.Fatal(err)
				}
				if !sameRows(got.Rows, want.Rows) {
					t.Fatalf("over tiles %v, raw %v", got.Rows, want.Rows)
				}
				return got
			}
			waitRepaired := func() {
				t.Helper()
				for deadline := time.Now().Add(10 * time.Second); !svc.repair.idle(); {
					if time.Now().After(deadline) {
						t.Fatal("the tile repair did not finish in 10s")
					}
					time.Sleep(time.Millisecond)
				}
			}
			first := compare()
			if first.TilesRead != 0 {
				t.Fatalf("first request read %d tiles; none were built", first.TilesRead)
			}
			waitRepaired()
			second := compare()
			if second.TilesRead == 0 || second.RowsRead >= 64 {
				t.Fatalf("after the repair: %d tiles and %d rows read; want tiles and fewer rows", second.TilesRead, second.RowsRead)
			}
			// A late row, 5 days back: its bucket's tile is stale now.
			if err := svc.Ingest(ctx, "tx", txBlock(tx(2000, "c1", 1000, t0-5*day+1))); err != nil {
				t.Fatal(err)
			}
			third := compare()
			if third.TilesRead != second.TilesRead-1 {
				t.Fatalf("after a late row: %d tiles read, want %d (one bucket stale)", third.TilesRead, second.TilesRead-1)
			}
			waitRepaired()
			fourth := compare()
			if fourth.TilesRead != second.TilesRead {
				t.Fatalf("after the second repair: %d tiles read, want %d", fourth.TilesRead, second.TilesRead)
			}
			t.Logf("tiles/rows read: before the repair 0/%d, after %d/%d, after a late row %d/%d, after its repair %d/%d",
				first.RowsRead, second.TilesRead, second.RowsRead, third.TilesRead, third.RowsRead, fourth.TilesRead, fourth.RowsRead)
		})
	}
}

// rawOnlyStore hides a store's tiles.
type rawOnlyStore struct{ storage.Store }

func sameRows(a, b [][]types.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if !types.Identical(a[i][j], b[i][j]) {
				return false
			}
		}
	}
	return true
}
