package hot_test

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/hot"
)

const txSQL = `CREATE TABLE tx (card string, amount double, ts timestamp,
  INDEX(KEY=card, TS=ts),
  INDEX(KEY=amount, TS=ts, TTL=3, TTL_TYPE=latest));`

// compile returns the tables of CREATE TABLE statements.
func compile(t testing.TB, sql string) []*plan.Table {
	t.Helper()
	m, err := featurelang.Compile("test.sql", sql, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m.Tables
}

// txBlock returns rows of tx: card, amount and ts of each.
func txBlock(def *plan.Table, cards []string, amounts []float64, ts []int64) *types.Block {
	b := types.NewBlock(def.Schema, len(cards))
	for i := range cards {
		b.AppendRow([]types.Value{types.StringValue(cards[i]), types.DoubleValue(amounts[i]), types.TimestampValue(ts[i])})
	}
	return b
}

// TestConcurrentReads reads while blocks of 4 rows are applied, some
// rewriting earlier ones: every read sees whole blocks, in window order.
// Run it with -race.
func TestConcurrentReads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return t0 }
	tables := compile(t, txSQL)
	back := newDumpMem(clock, 10)
	s := hot.New(back, hot.Options{Clock: clock})
	if err := s.Init(ctx, tables); err != nil {
		t.Fatal(err)
	}
	if err := s.Load(ctx, "tx"); err != nil {
		t.Fatal(err)
	}
	const blocks, size = 300, 4
	done := make(chan struct{})
	distinct := map[uint64]bool{}
	var wg, ready sync.WaitGroup
	ready.Add(2)
	wg.Go(func() {
		defer close(done)
		ready.Wait() // the readers are reading
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range blocks {
			j := i
			if i > 10 && rng.IntN(4) == 0 {
				j = rng.IntN(i) // the same rows again
			}
			cards, amounts, ts, seqs := make([]string, size), make([]float64, size), make([]int64, size), make([]uint64, size)
			for k := range size {
				n := j*size + k
				cards[k], amounts[k], ts[k], seqs[k] = "a", float64(n%7), t0.UnixMilli()-int64(n%50)*1000, uint64(n)
				distinct[seqs[k]] = true
			}
			if err := s.Apply("tx", txBlock(tables[0], cards, amounts, ts), seqs); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for range 2 {
		wg.Go(func() {
			for n := 0; ; n++ {
				if n == 1 {
					ready.Done()
				}
				select {
				case <-done:
					return
				default:
				}
				readWhole(t, s, n, size)
			}
		})
	}
	wg.Wait()
	if err := s.Check(); err != nil {
		t.Error(err)
	}
	if got := s.Rows(); got != 2*len(distinct) { // once per index
		t.Errorf("Rows() = %d, want %d", got, 2*len(distinct))
	}
}

// readWhole reads card a, the n-th time, and checks that the rows are
// whole blocks of size, in window order; every 16th read is a scan of the
// whole table.
func readWhole(t *testing.T, s *hot.Store, n, size int) {
	ctx := context.Background()
	var b *types.Block
	var err error
	if n%16 == 15 {
		b, err = s.Scan(ctx, eval.Query{Table: "tx"})
	} else {
		b, err = s.Read(ctx, storage.Range{Table: "tx", Keys: []string{"card"}, Values: []types.Value{types.StringValue("a")}, From: math.MinInt64, To: math.MaxInt64})
	}
	if err != nil {
		t.Error(err)
		return
	}
	if b.Len%size != 0 {
		t.Errorf("read %d rows, not whole blocks of %d", b.Len, size)
	}
	for i := 1; n%16 != 15 && i < b.Len; i++ {
		if b.Cols[2].I[i] < b.Cols[2].I[i-1] {
			t.Errorf("row %d is older than row %d", i, i-1)
		}
	}
}

// TestConcurrentLoad loads a table while rows, many rewriting stored
// ones, are applied and written: the applied copies win, and memory ends
// as storage.Mem given the same rows in the same order. Run it with
// -race.
func TestConcurrentLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return t0 }
	tables := compile(t, txSQL)
	for _, snapshot := range []bool{false, true} {
		ref, back := storage.NewMem(clock), newDumpMem(clock, 7)
		back.snapshot = snapshot
		s := hot.New(back, hot.Options{Clock: clock})
		if err := s.Init(ctx, tables); err != nil {
			t.Fatal(err)
		}
		if err := ref.Init(ctx, tables); err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(3, 4))
		block := func(seq0, n int) (*types.Block, []uint64) {
			cards, amounts, ts, seqs := make([]string, n), make([]float64, n), make([]int64, n), make([]uint64, n)
			for k := range n {
				cards[k], amounts[k], ts[k] = string(rune('a'+rng.IntN(5))), float64(rng.IntN(9)), t0.UnixMilli()-rng.Int64N(100)*1000
				seqs[k] = uint64(seq0 + k)
				if seq0 < 0 {
					seqs[k] = uint64(1 + rng.IntN(1000))
				}
			}
			return txBlock(tables[0], cards, amounts, ts), seqs
		}
		for i := range 100 {
			rows, seqs := block(1+i*10, 10)
			write(t, ref, rows, seqs)
			write(t, back, rows, seqs)
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := s.Load(ctx, "tx"); err != nil {
				t.Error(err)
			}
		})
		for i := range 200 {
			seq0 := -1 // rewrite stored rows
			if i%3 == 0 {
				seq0 = 2000 + i*3
			}
			rows, seqs := block(seq0, 3)
			write(t, ref, rows, seqs)
			if i%2 == 0 {
				write(t, s, rows, seqs)
				continue
			}
			write(t, back, rows, seqs)
			if err := s.Apply("tx", rows, seqs); err != nil {
				t.Fatal(err)
			}
		}
		wg.Wait()
		if err := s.Check(); err != nil {
			t.Fatal(err)
		}
		reads := back.reads.Load()
		for _, card := range []string{"a", "b", "c", "d", "e"} {
			r := storage.Range{Table: "tx", Keys: []string{"card"}, Values: []types.Value{types.StringValue(card)}, From: math.MinInt64, To: math.MaxInt64}
			sameRead(t, s, ref, r)
		}
		for a := range 9 {
			r := storage.Range{Table: "tx", Keys: []string{"amount"}, Values: []types.Value{types.DoubleValue(float64(a))}, From: math.MinInt64, To: math.MaxInt64}
			sameRead(t, s, ref, r)
		}
		if n := back.reads.Load() - reads; n != 0 {
			t.Errorf("snapshot %t: %d reads went to the back store after Load", snapshot, n)
		}
	}
}

func write(t *testing.T, s storage.Store, rows *types.Block, seqs []uint64) {
	t.Helper()
	if err := s.Write(context.Background(), "tx", rows, seqs); err != nil {
		t.Fatal(err)
	}
}

// sameRead checks that s and ref read r alike.
func sameRead(t *testing.T, s, ref storage.Store, r storage.Range) {
	t.Helper()
	ctx := context.Background()
	got, err := s.Read(ctx, r)
	want, wantErr := ref.Read(ctx, r)
	if err != nil || wantErr != nil {
		t.Fatalf("Read(%+v): %v, want %v", r, err, wantErr)
	}
	if d := blockDiff(got, want); d != "" {
		t.Errorf("Read(%+v): %s", r, d)
	}
}
