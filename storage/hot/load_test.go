package hot_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/hot"
)

// TestLoad: reads go to the back store until Load; rows applied before
// Load win over the stored copies of their sequence numbers; rows applied
// before the table was known that do not fit it fail Load once; a failed
// Dump leaves the table unloaded; a second Load does nothing.
func TestLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	clock := func() time.Time { return time.UnixMilli(t0) }
	tables := compile(t, txSQL)
	def := tables[0]
	back := newDumpMem(clock, 1)
	s := hot.New(back, hot.Options{Clock: clock})
	if err := s.Init(ctx, tables); err != nil {
		t.Fatal(err)
	}
	write(t, back, txBlock(def, []string{"a", "a", "b"}, []float64{1, 2, 3}, []int64{t0 - 3, t0 - 2, t0 - 1}), []uint64{1, 2, 3})
	// Sequence 2 applied again, moved to card b: it wins over the stored copy.
	if err := s.Apply("tx", txBlock(def, []string{"b"}, []float64{20}, []int64{t0 - 2}), []uint64{2}); err != nil {
		t.Fatal(err)
	}
	bad := types.BlockOf(types.Schema{{Name: "card", Type: types.String}}, [][]types.Value{{types.StringValue("x")}})
	if err := s.Apply("tx", bad, []uint64{9}); err != nil {
		t.Fatalf("Apply before the table is known: %v", err)
	}
	readCard := func(card string) string {
		t.Helper()
		b, err := s.Read(ctx, storage.Range{Table: "tx", Keys: []string{"card"}, Values: []types.Value{types.StringValue(card)}, From: math.MinInt64, To: math.MaxInt64})
		if err != nil {
			t.Fatal(err)
		}
		return format(b)
	}
	if got, reads := readCard("a"), back.reads.Load(); got != "a,1 a,2" || reads != 1 {
		t.Errorf("before Load: card a is %q, %d reads of the back store; want the stored rows, 1", got, reads)
	}

	if err := s.Load(ctx, "tx"); !errors.Is(err, storage.ErrSchema) {
		t.Errorf("Load with rows applied that do not fit: %v, want ErrSchema", err)
	}
	failed := errors.New("dump failed")
	back.fail = failed
	if err := s.Load(ctx, "tx"); !errors.Is(err, failed) {
		t.Errorf("Load with a failing Dump: %v", err)
	}
	reads := back.reads.Load()
	readCard("a")
	if back.reads.Load() != reads+1 {
		t.Error("after a failed Load, a read did not go to the back store")
	}
	if err := s.Load(ctx, "tx"); err != nil {
		t.Fatal(err)
	}
	if err := s.Load(ctx, "tx"); err != nil || back.dumps.Load() != 2 {
		t.Errorf("a second Load: %v, %d dumps; want nil, 2", err, back.dumps.Load())
	}
	reads = back.reads.Load()
	if a, b := readCard("a"), readCard("b"); a != "a,1" || b != "b,20 b,3" {
		t.Errorf("after Load: card a is %q, b %q; want \"a,1\", \"b,20 b,3\"", a, b)
	}
	if back.reads.Load() != reads {
		t.Error("after Load, reads went to the back store")
	}
	if err := s.Apply("tx", bad, []uint64{9}); !errors.Is(err, storage.ErrSchema) {
		t.Errorf("Apply of rows that do not fit: %v, want ErrSchema", err)
	}
	if err := s.Check(); err != nil {
		t.Error(err)
	}
}

// TestLoadCopies: of the copies of a sequence number Dump hands over,
// before or after the latest, Load keeps the latest (the greatest stamp).
func TestLoadCopies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	clock := func() time.Time { return time.UnixMilli(t0) }
	tables := compile(t, txSQL)
	back := newDumpMem(clock, 1)
	back.copies = true
	s := hot.New(back, hot.Options{Clock: clock})
	if err := s.Init(ctx, tables); err != nil {
		t.Fatal(err)
	}
	// Sequence numbers 1 (older copies last) and 2 (older copies first),
	// each written under cards a, b, then c.
	for _, card := range []string{"a", "b", "c"} {
		write(t, back, txBlock(tables[0], []string{card, card}, []float64{1, 2}, []int64{t0 - 2, t0 - 1}), []uint64{1, 2})
	}
	if err := s.Load(ctx, "tx"); err != nil {
		t.Fatal(err)
	}
	for card, want := range map[string]string{"a": "", "b": "", "c": "c,1 c,2"} {
		b, err := s.Read(ctx, storage.Range{Table: "tx", Keys: []string{"card"}, Values: []types.Value{types.StringValue(card)}, From: math.MinInt64, To: math.MaxInt64})
		if err != nil {
			t.Fatal(err)
		}
		if got := format(b); got != want {
			t.Errorf("card %s: %q, want %q", card, got, want)
		}
	}
	if err := s.Check(); err != nil {
		t.Error(err)
	}
}

// TestLoadErrors: Load needs a Dumper and a table the back store has;
// reads of tables never loaded go to the back store, with its errors.
func TestLoadErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	notDumper := struct{ storage.Store }{storage.NewMem(nil)}
	if err := hot.New(notDumper, hot.Options{}).Load(ctx, "tx"); !errors.Is(err, hot.ErrNoDump) {
		t.Errorf("Load over a store that is no storage.Dumper: %v, want ErrNoDump", err)
	}
	s := hot.New(newDumpMem(nil, 1), hot.Options{})
	if err := s.Load(ctx, "nope"); !errors.Is(err, storage.ErrNoTable) {
		t.Errorf("Load of an unknown table: %v, want ErrNoTable", err)
	}
	if _, err := s.Read(ctx, storage.Range{Table: "nope"}); !errors.Is(err, storage.ErrNoTable) {
		t.Errorf("Read of an unknown table: %v, want ErrNoTable", err)
	}
	if _, err := s.Scan(ctx, eval.Query{Table: "other"}); !errors.Is(err, storage.ErrNoTable) {
		t.Errorf("Scan of an unknown table: %v, want ErrNoTable", err)
	}
	if err := s.Apply("nope", types.NewBlock(nil, 0), []uint64{1}); err == nil {
		t.Error("Apply of 0 rows with 1 sequence number: no error")
	}
}

// format renders the card and amount of each row, space-separated.
func format(b *types.Block) string {
	s := ""
	for i := range b.Len {
		if i > 0 {
			s += " "
		}
		s += b.Cols[0].Value(i).String() + "," + b.Cols[1].Value(i).String()
	}
	return s
}
