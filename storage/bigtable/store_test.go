package bigtable

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/bigtable"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/storagetest"
)

// startEmulator starts an in-process Bigtable emulator for the test.
func startEmulator(t testing.TB) string {
	t.Helper()
	addr, stop, err := emulators.StartBigtable("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return addr
}

// openStore opens a store on the emulator at addr; cfg's Project and
// Instance default to "p" and "i".
func openStore(t testing.TB, addr string, cfg Config) *Store {
	t.Helper()
	if cfg.Project == "" {
		cfg.Project, cfg.Instance = "p", "i"
	}
	cfg.EmulatorHost = addr
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestStorageCases runs the data-driven storage cases, whose expected
// results storage.Mem produced, on a fresh emulator per file.
func TestStorageCases(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, "../testdata/*.txt", func(t *testing.T, clock storage.Clock) storage.Store {
		return openStore(t, startEmulator(t), Config{Clock: clock, NoGC: true})
	})
}

// compile returns the tables of CREATE TABLE statements.
func compile(t testing.TB, sql string) []*plan.Table {
	t.Helper()
	m, err := featurelang.Compile("test.sql", sql, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m.Tables
}

const txSQL = `CREATE TABLE tx (card string, amount double, ts timestamp, INDEX(KEY=card, TS=ts));`

func txRows(rows ...[]types.Value) *types.Block {
	return types.BlockOf(types.Schema{{Name: "card", Type: types.String}, {Name: "amount", Type: types.Double}, {Name: "ts", Type: types.Timestamp}}, rows)
}

func tx(card string, amount float64, ts int64) []types.Value {
	return []types.Value{types.StringValue(card), types.DoubleValue(amount), types.TimestampValue(ts)}
}

func initStore(t testing.TB, sql string, cfg Config) *Store {
	t.Helper()
	s := openStore(t, startEmulator(t), cfg)
	if err := s.Init(context.Background(), compile(t, sql)); err != nil {
		t.Fatal(err)
	}
	return s
}

func readAll(t testing.TB, s storage.Store, r storage.Range) [][]types.Value {
	t.Helper()
	if r.From == 0 && r.To == 0 {
		r.From, r.To = math.MinInt64, math.MaxInt64
	}
	b, err := s.Read(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return b.Rows()
}

// amounts renders the amount column, the second, of rows.
func amounts(rows [][]types.Value) string { return column(rows, 1) }

func column(rows [][]types.Value, c int) string {
	var parts []string
	for _, r := range rows {
		parts = append(parts, r[c].String())
	}
	return strings.Join(parts, " ")
}

// TestIdempotentWrites: writing the same rows again (a retry) leaves one
// copy of each; equal times keep sequence order, oldest first or newest
// first.
func TestIdempotentWrites(t *testing.T) {
	t.Parallel()
	s := initStore(t, txSQL, Config{NoGC: true})
	ctx := context.Background()
	rows := txRows(tx("a", 1, 1000), tx("a", 2, 1000), tx("a", 3, 1000), tx("a", 4, 999))
	seqs := []uint64{10, 11, 12, 13}
	for range 3 {
		if err := s.Write(ctx, "tx", rows, seqs); err != nil {
			t.Fatal(err)
		}
	}
	r := storage.Range{Table: "tx", Keys: []string{"card"}, Values: []types.Value{types.StringValue("a")}}
	if got := amounts(readAll(t, s, r)); got != "4 1 2 3" {
		t.Errorf("oldest first: %s, want 4 1 2 3", got)
	}
	r.NewestFirst = true
	if got := amounts(readAll(t, s, r)); got != "3 2 1 4" {
		t.Errorf("newest first: %s, want 3 2 1 4", got)
	}
	r.Limit = 2
	if got := amounts(readAll(t, s, r)); got != "3 2" {
		t.Errorf("newest 2: %s, want 3 2", got)
	}
}

// TestSchemaMismatch: rows written under one schema and read by a store
// that expects another are refused with storage.ErrSchema naming both.
func TestSchemaMismatch(t *testing.T) {
	t.Parallel()
	addr := startEmulator(t)
	ctx := context.Background()
	old := openStore(t, addr, Config{NoGC: true})
	if err := old.Init(ctx, compile(t, txSQL)); err != nil {
		t.Fatal(err)
	}
	if err := old.Write(ctx, "tx", txRows(tx("a", 1, 1000)), []uint64{1}); err != nil {
		t.Fatal(err)
	}
	// Another deployment redefines the table in place (amount becomes a
	// float), as a migration gone wrong would.
	def := compile(t, `CREATE TABLE tx (card string, amount float, ts timestamp, INDEX(KEY=card, TS=ts));`)[0]
	v, err := encodeDef(def)
	if err != nil {
		t.Fatal(err)
	}
	m := bigtable.NewMutation()
	m.Set(metaFamily, defColumn, 0, v)
	if err := old.client.Open(old.TableName("tx")).Apply(ctx, metaKey, m); err != nil {
		t.Fatal(err)
	}
	reader := openStore(t, addr, Config{NoGC: true})
	_, err = reader.Read(ctx, storage.Range{Table: "tx", Keys: []string{"card"}, Values: []types.Value{types.StringValue("a")}, From: math.MinInt64, To: math.MaxInt64})
	if !errors.Is(err, storage.ErrSchema) {
		t.Fatalf("got %v, want ErrSchema", err)
	}
	for _, want := range []string{"(card string, amount double, ts timestamp)", "(card string, amount float, ts timestamp)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name schema %s", err, want)
		}
	}
	// Init with the first definition is now refused.
	if err := old.Init(ctx, compile(t, txSQL)); !errors.Is(err, storage.ErrSchema) {
		t.Errorf("Init of a different definition: %v, want ErrSchema", err)
	}
}

// TestUninitialised: every method names a table that was never
// initialised.
func TestUninitialised(t *testing.T) {
	t.Parallel()
	s := openStore(t, startEmulator(t), Config{})
	ctx := context.Background()
	_, errD := s.Describe(ctx, "nope")
	_, errR := s.Read(ctx, storage.Range{Table: "nope", Keys: []string{"k"}, Values: []types.Value{types.StringValue("a")}})
	_, errS := s.Scan(ctx, eval.Query{Table: "nope"})
	errW := s.Write(ctx, "nope", txRows(), nil)
	for i, err := range []error{errD, errR, errS, errW} {
		if !errors.Is(err, storage.ErrNoTable) || !strings.Contains(err.Error(), "nope") || !strings.Contains(err.Error(), "fenestra_nope") {
			t.Errorf("call %d: %v, want ErrNoTable naming nope and fenestra_nope", i, err)
		}
	}
}

// TestUnreachable: a server nothing listens on fails within the timeout
// with storage.ErrUnavailable naming the address.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	addr := "127.0.0.1:1" // privileged and unused: connections are refused
	s := openStore(t, addr, Config{Timeout: 300 * time.Millisecond})
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"init":     func() error { return s.Init(ctx, compile(t, txSQL)) },
		"describe": func() error { _, err := s.Describe(ctx, "tx"); return err },
		"read": func() error {
			_, err := s.Read(ctx, storage.Range{Table: "tx", Keys: []string{"card"}, Values: []types.Value{types.StringValue("a")}})
			return err
		},
	} {
		start := time.Now()
		err := call()
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("%s took %v with a timeout of 300ms", name, took)
		}
		if !errors.Is(err, storage.ErrUnavailable) || !strings.Contains(err.Error(), addr) {
			t.Errorf("%s: %v, want ErrUnavailable naming %s", name, err, addr)
		}
	}
}

// TestInitIdempotent: Init again with the same definitions is fine, from
// the same or another store, and Describe returns the definition to a
// store that did not initialise it.
func TestInitIdempotent(t *testing.T) {
	t.Parallel()
	addr := startEmulator(t)
	ctx := context.Background()
	tables := compile(t, txSQL+`CREATE TABLE l (k string, v int, ts timestamp, INDEX(KEY=k, TS=ts, TTL=2, TTL_TYPE=latest), INDEX(KEY=v, TS=ts));`)
	a := openStore(t, addr, Config{})
	for range 2 {
		if err := a.Init(ctx, tables); err != nil {
			t.Fatal(err)
		}
	}
	b := openStore(t, addr, Config{})
	if err := b.Init(ctx, tables); err != nil {
		t.Fatal(err)
	}
	got, err := openStore(t, addr, Config{}).Describe(ctx, "l")
	if err != nil {
		t.Fatal(err)
	}
	if got.Schema.String() != "k string, v int32, ts timestamp" || len(got.Indexes) != 2 || got.Indexes[0].TTLLat != 2 {
		t.Errorf("Describe: %+v", got)
	}
	// Another prefix is another set of tables.
	if _, err := openStore(t, addr, Config{Prefix: "other_"}).Describe(ctx, "l"); !errors.Is(err, storage.ErrNoTable) {
		t.Errorf("another prefix: %v, want ErrNoTable", err)
	}
}

// TestGCPolicies: absolute TTLs become a maximum age of the index's
// family; latest and absorlat, which Bigtable cannot express per key, none.
func TestGCPolicies(t *testing.T) {
	t.Parallel()
	s := initStore(t, `CREATE TABLE t (k string, v int, ts timestamp,
  INDEX(KEY=k, TS=ts, TTL=10m, TTL_TYPE=absolute),
  INDEX(KEY=v, TS=ts, TTL=2, TTL_TYPE=latest),
  INDEX(KEY=(k, v), TS=ts, TTL=(1h, 2), TTL_TYPE=absorlat),
  INDEX(KEY=(v, k), TS=ts, TTL=(2h, 2), TTL_TYPE=absandlat),
  INDEX(KEY=ts, TS=ts));`, Config{})
	info, err := s.admin.TableInfo(context.Background(), "fenestra_t")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range info.FamilyInfos {
		got[f.Name] = f.GCPolicy
	}
	want := map[string]string{"i0": "age() > 10m", "i1": "", "i2": "", "i3": "age() > 2h", "i4": "", "m": "versions() > 1"}
	for fam, w := range want {
		if g, ok := got[fam]; !ok || g != w {
			t.Errorf("family %s: GC policy %q (present %t), want %q", fam, g, ok, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("families %v, want %v", got, want)
	}
}

// TestPartialWriteFailure: when some row copies fail (here, one index's
// column family was dropped behind the store's back), Write reports which
// rows failed, the others are stored, and retrying the whole write once the
// family is back stores everything exactly once.
func TestPartialWriteFailure(t *testing.T) {
	t.Parallel()
	s := initStore(t, `CREATE TABLE tx (card string, merchant string, amount double, ts timestamp,
  INDEX(KEY=card, TS=ts), INDEX(KEY=merchant, TS=ts));`, Config{NoGC: true})
	ctx := context.Background()
	schema := types.Schema{{Name: "card", Type: types.String}, {Name: "merchant", Type: types.String}, {Name: "amount", Type: types.Double}, {Name: "ts", Type: types.Timestamp}}
	row := func(amount float64, ts int64) []types.Value {
		return []types.Value{types.StringValue("a"), types.StringValue("m"), types.DoubleValue(amount), types.TimestampValue(ts)}
	}
	rows := types.BlockOf(schema, [][]types.Value{row(1, 1000), row(2, 2000)})
	if err := s.admin.DeleteColumnFamily(ctx, "fenestra_tx", "i1"); err != nil {
		t.Fatal(err)
	}
	err := s.Write(ctx, "tx", rows, []uint64{7, 8})
	var we *WriteError
	if !errors.As(err, &we) || len(we.Failed) != 2 || we.Failed[0].Index != 1 || we.Failed[1].Seq != 8 {
		t.Fatalf("got %v, want a WriteError for both rows' copies in index 1", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "2 of 2 rows failed: row 1 (seq 7) index 1: ") || !strings.Contains(msg, `unknown family \"i1\"`) && !strings.Contains(msg, `unknown family "i1"`) {
		t.Errorf("message: %s", msg)
	}
	card := storage.Range{Table: "tx", Keys: []string{"card"}, Values: []types.Value{types.StringValue("a")}}
	if got := column(readAll(t, s, card), 2); got != "1 2" {
		t.Errorf("index 0 holds %q, want 1 2", got)
	}
	if err := s.admin.CreateColumnFamily(ctx, "fenestra_tx", "i1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, "tx", rows, []uint64{7, 8}); err != nil {
		t.Fatalf("retry: %v", err)
	}
	merchant := storage.Range{Table: "tx", Keys: []string{"merchant"}, Values: []types.Value{types.StringValue("m")}}
	if got := column(readAll(t, s, card), 2) + " / " + column(readAll(t, s, merchant), 2); got != "1 2 / 1 2" {
		t.Errorf("after the retry: %s, want 1 2 / 1 2", got)
	}
}

// TestWriteErrorFormat checks the report of failed rows built from
// ApplyBulk's per-entry results, with more failures than are shown.
func TestWriteErrorFormat(t *testing.T) {
	t.Parallel()
	plain := errors.New("try again")
	var refs []entryRef
	var errs []error
	seqs := make([]uint64, 10)
	for i := range 10 {
		seqs[i] = uint64(100 + i)
		for ix := range 2 {
			refs = append(refs, entryRef{rows: []int{i}, index: ix})
			var err error
			if i%2 == 1 {
				err = fmt.Errorf("boom %d/%d", i, ix)
			}
			errs = append(errs, err)
		}
	}
	e := &WriteError{Table: "tx", Rows: 10}
	e.add(refs[:14], errs[:14], seqs)
	e.add(refs[14:], nil, seqs) // a batch that succeeded
	e.add(refs[:2], []error{nil, plain}, seqs)
	want := "bigtable: writing tx: 4 of 10 rows failed: row 1 (seq 100) index 1: try again; row 2 (seq 101) index 0: boom 1/0; row 2 (seq 101) index 1: boom 1/1; " +
		"row 4 (seq 103) index 0: boom 3/0; row 4 (seq 103) index 1: boom 3/1; and 2 more; the write is idempotent: retry it whole"
	if got := e.Error(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if errors.Is(e, storage.ErrUnavailable) {
		t.Error("a plain error is not ErrUnavailable")
	}
	e.add(refs[:2], []error{status.Error(codes.Unavailable, "server restarting"), nil}, seqs)
	if !errors.Is(e, storage.ErrUnavailable) {
		t.Error("an Unavailable row does not make the write ErrUnavailable")
	}
}

// TestRepeatedSeqInOneWrite: a sequence number repeated within one write
// stores only its last row, as writing the rows one by one would (and as
// storage.Mem does), since Bigtable does not order a bulk write's entries.
func TestRepeatedSeqInOneWrite(t *testing.T) {
	t.Parallel()
	s := initStore(t, txSQL, Config{NoGC: true})
	rows := txRows(tx("a", 1, 1000), tx("a", 2, 2000), tx("a", 3, 1000), tx("a", 4, 3000))
	if err := s.Write(context.Background(), "tx", rows, []uint64{5, 6, 5, 7}); err != nil {
		t.Fatal(err)
	}
	r := storage.Range{Table: "tx", Keys: []string{"card"}, Values: []types.Value{types.StringValue("a")}}
	if got := amounts(readAll(t, s, r)); got != "3 2 4" {
		t.Errorf("got %s, want 3 2 4", got)
	}
	for _, tc := range []struct {
		seqs []uint64
		want []bool
	}{
		{[]uint64{1, 2, 3}, nil},
		{[]uint64{3, 1, 2}, nil},
		{[]uint64{1, 1}, []bool{true, false}},
		{[]uint64{2, 1, 2, 1, 3}, []bool{true, true, false, false, false}},
	} {
		if got := supersededRows(tc.seqs); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("supersededRows(%v) = %v, want %v", tc.seqs, got, tc.want)
		}
	}
}

// TestGCReclaims: with the wall clock, rows past an absolute TTL are both
// hidden at once (read time) and deleted by the family's age policy (the
// emulator collects every second or so).
func TestGCReclaims(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the emulator's garbage collection")
	}
	t.Parallel()
	s := initStore(t, `CREATE TABLE tx (card string, amount double, ts timestamp, INDEX(KEY=card, TS=ts, TTL=1m, TTL_TYPE=absolute));`, Config{})
	ctx := context.Background()
	now := time.Now().UnixMilli()
	if err := s.Write(ctx, "tx", txRows(tx("a", 1, now-120_000), tx("a", 2, now)), []uint64{1, 2}); err != nil {
		t.Fatal(err)
	}
	r := storage.Range{Table: "tx", Keys: []string{"card"}, Values: []types.Value{types.StringValue("a")}}
	if got := amounts(readAll(t, s, r)); got != "2" {
		t.Errorf("read: %s, want 2", got)
	}
	// The emulator starts collecting only once a family is modified (not
	// when a table is created with policies): set the same policy again.
	if err := s.admin.SetGCPolicy(ctx, "fenestra_tx", "i0", bigtable.MaxAgePolicy(time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Rows holding a segment: a day row's version cell lives until the
	// day's end, so the expired row's may outlast its segments.
	stored := func() int {
		n := 0
		err := s.client.Open("fenestra_tx").ReadRows(ctx, bigtable.PrefixRange("\x00"), func(bigtable.Row) bool { n++; return true },
			bigtable.RowFilter(bigtable.ColumnRangeFilter("i0", "\x00", "")))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for deadline := time.Now().Add(5 * time.Second); stored() != 1; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d rows stored after 5s, want the expired one collected", stored())
		}
	}
}

// TestConcurrentUse: one store serves writers and readers at once, the
// first of them describing the table (run with -race).
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	addr := startEmulator(t)
	ctx := context.Background()
	if err := openStore(t, addr, Config{}).Init(ctx, compile(t, txSQL)); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, addr, Config{NoGC: true}) // knows no table yet
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			for i := range 20 {
				seq := uint64(g*100 + i)
				if err := s.Write(ctx, "tx", txRows(tx(fmt.Sprint(g%2), float64(seq), int64(seq))), []uint64{seq}); err != nil {
					errs <- err
					return
				}
				if _, err := s.Scan(ctx, eval.Query{Table: "tx", Keys: []string{"card"}, Values: []types.Value{types.StringValue("0")}}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	b, err := s.Scan(ctx, eval.Query{Table: "tx"})
	if err != nil || b.Len != 160 {
		t.Fatalf("%v rows, %v; want 160", b, err)
	}
}
