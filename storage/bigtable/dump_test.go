package bigtable

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// TestDumpEqualsMem writes the same rows to the store and to storage.Mem,
// some of them again under the same sequence number with other values,
// keys or days, and finds that Dump hands over the same rows, across
// pages and blocks, expired rows included: for every sequence number, the
// copy of the greatest stamp is Mem's row.
func TestDumpEqualsMem(t *testing.T) {
	// Not parallel: small pages and blocks, so that a dump takes several.
	defer func(block, page int) { dumpBlock, dumpPage = block, page }(dumpBlock, dumpPage)
	dumpBlock, dumpPage = 1000, 100
	ctx := context.Background()
	tables := compile(t, `CREATE TABLE tx (card string, amount double, ts timestamp,
		INDEX(KEY=card, TS=ts, TTL=1, TTL_TYPE=latest), INDEX(KEY=amount, TS=ts));`)
	s := openStore(t, startEmulator(t), Config{NoGC: true})
	m := storage.NewMem(nil)
	for _, st := range []storage.Store{s, m} {
		if err := st.Init(ctx, tables); err != nil {
			t.Fatal(err)
		}
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	const day = 86_400_000
	for w := 0; w < 6; w++ {
		var rows [][]types.Value
		var seqs []uint64
		for i := 0; i < 3000; i++ {
			card := fmt.Sprintf("c%d", rnd.IntN(300))
			rows = append(rows, tx(card, float64(rnd.IntN(50)), int64(rnd.IntN(40))*day/3))
			seqs = append(seqs, uint64(rnd.IntN(12000)))
		}
		b := txRows(rows...)
		// Within one write a repeated sequence number keeps its last row;
		// Mem keeps it too, so both see the same rows.
		for _, st := range []storage.Store{s, m} {
			if err := st.Write(ctx, "tx", b, seqs); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, want := dumpRows(t, s), dumpRows(t, m)
	if len(got) != len(want) || len(want) < 5000 {
		t.Fatalf("dumped %d rows, Mem %d", len(got), len(want))
	}
	for _, seq := range slices.Sorted(maps.Keys(want)) {
		if got[seq] != want[seq] {
			t.Fatalf("seq %d: dumped %q, Mem %q", seq, got[seq], want[seq])
		}
	}
	if err := s.Dump(ctx, "nope", func(*types.Block, []uint64, []uint64) error { return nil }); err == nil {
		t.Fatal("Dump of a table that does not exist: no error")
	}
}

// dumpRows returns what st dumps of tx, each row as text by sequence
// number, the copy of the greatest stamp; two copies of one stamp fail the
// test.
func dumpRows(t *testing.T, st storage.Dumper) map[uint64]string {
	t.Helper()
	out, stamp := map[uint64]string{}, map[uint64]uint64{}
	err := st.Dump(context.Background(), "tx", func(b *types.Block, seqs, stamps []uint64) error {
		for i := 0; i < b.Len; i++ {
			if s, ok := stamp[seqs[i]]; ok && s == stamps[i] {
				t.Fatalf("seq %d dumped twice with stamp %d", seqs[i], s)
			} else if ok && s > stamps[i] {
				continue
			}
			out[seqs[i]], stamp[seqs[i]] = fmt.Sprint(b.Row(i, nil)), stamps[i]
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
