package functions

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

func txBlock(rows ...[]types.Value) *types.Block {
	return types.BlockOf(types.Schema{{Name: "tx_id", Type: types.Int64}, {Name: "card", Type: types.String},
		{Name: "amount", Type: types.Double}, {Name: "ts", Type: types.Timestamp}}, rows)
}

func tx(id int64, card string, amount float64, ts int64) []types.Value {
	return []types.Value{types.Int64Value(id), types.StringValue(card), types.DoubleValue(amount), types.TimestampValue(ts)}
}

// TestService uses the core directly: views, compute, ingest and their
// errors.
func TestService(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mod := compile(t, txSQL+"SELECT tx_id FROM tx;") // a bare query is not served
	svc, _ := memService(t, mod, Options{})
	if n := len(svc.Views()); n != 1 {
		t.Fatalf("%d views, want 1", n)
	}
	v := svc.View("features")
	if v.Version != plan.Version(mod.Views[0]) || v.Input.Name != "tx" || v.Output.String() != "tx_id int64, spend_10d double, tx_1h int64, max_5m double" {
		t.Errorf("view %s %s input %s output %s", v.Name, v.Version, v.Input.Name, v.Output)
	}
	if svc.Table("tx") == nil || len(svc.Tables()) != 1 || svc.View("nope") != nil {
		t.Error("tables or lookups wrong")
	}
	if err := svc.Ingest(ctx, "tx", txBlock(tx(1, "a", 1, t0), tx(2, "a", 2, t0+1))); err != nil {
		t.Fatal(err)
	}
	res, err := svc.Compute(ctx, "features", txBlock(tx(3, "a", 4, t0+2), tx(4, "a", 8, t0+3)), true)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(appendRows(nil, res.Rows)); got != `[3,7,3,4],[4,15,4,8]` || res.RowsRead != 2+3 {
		t.Errorf("rows %s, %d rows read", got, res.RowsRead)
	}
	for _, c := range []struct {
		name string
		err  error
		want error
	}{
		{"unknown view", second(svc.Compute(ctx, "nope", txBlock(), false)), ErrNotFound},
		{"unknown table", svc.Ingest(ctx, "nope", txBlock()), ErrNotFound},
		{"rows of another schema", second(svc.Compute(ctx, "features", types.BlockOf(types.Schema{{Name: "x", Type: types.Int64}}, nil), false)), ErrBadRequest},
		{"ingest of another schema", svc.Ingest(ctx, "tx", types.BlockOf(types.Schema{{Name: "x", Type: types.Int64}}, nil)), ErrBadRequest},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// TestNewRefuses views New cannot serve.
func TestNewRefuses(t *testing.T) {
	t.Parallel()
	mod := compile(t, txSQL)
	other := &featurelang.Module{Views: mod.Views} // the view's table is not in the module
	if _, err := New(other, storage.NewMem(nil), Options{}); err == nil {
		t.Error("a view over a table the module lacks was accepted")
	}
	twice := &featurelang.Module{Tables: mod.Tables, Views: []*plan.Plan{mod.Views[0], mod.Views[0]}}
	if _, err := New(twice, storage.NewMem(nil), Options{}); err == nil {
		t.Error("two views of one name were accepted")
	}
}

// TestStatus is the table of error kinds and their HTTP statuses.
func TestStatus(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err  error
		want int
	}{
		{nil, 200},
		{inputErr("rows[0].x", "bad"), 400},
		{fmt.Errorf("x: %w", eval.ErrInput), 400},
		{ErrUnauthorized, 401},
		{fmt.Errorf("%w: view", ErrNotFound), 404},
		{ErrMethod, 405},
		{ErrTooLarge, 413},
		{&http.MaxBytesError{Limit: 1}, 413},
		{fmt.Errorf("a: %w", context.Canceled), 499},
		{&PanicError{Value: "x"}, 500},
		{fmt.Errorf("a: %w", storage.ErrSchema), 500},
		{fmt.Errorf("a: %w", storage.ErrNoTable), 503},
		{&storage.NoTableError{Table: "t"}, 503},
		{fmt.Errorf("a: %w", storage.ErrNoIndex), 503},
		{fmt.Errorf("a: %w", storage.ErrPermission), 503},
		{ErrDraining, 503},
		{errors.New("anything"), 500},
		{fmt.Errorf("reading: %w", storage.ErrUnavailable), 503},
		{fmt.Errorf("reading: %w", context.DeadlineExceeded), 504},
	} {
		if got := Status(c.err); got != c.want {
			t.Errorf("Status(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

// TestSequencer: online sequence numbers are unique and increasing under
// concurrency, sort after every loaded row's (file<<40 | line), and keep
// increasing when the clock stalls or steps back.
func TestSequencer(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.UnixMilli(t0)
	s := NewSequencer(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	loaded := uint64(1<<23-1)<<40 | (1<<40 - 1) // the largest file<<40|line of fewer than 2^23 files
	first := s.Next()
	if first>>63 != 1 || first <= loaded {
		t.Fatalf("first %#x: want bit 63 set", first)
	}
	if micros := first &^ (1 << 63) >> instanceBits; micros != uint64(t0)*1000 {
		t.Errorf("time part %d, want %d", micros, t0*1000)
	}
	var wg sync.WaitGroup
	got := make([][]uint64, 4)
	for g := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				got[g] = append(got[g], s.Next())
			}
		}()
	}
	wg.Wait()
	var all []uint64
	for _, g := range got {
		if !slices.IsSorted(g) {
			t.Error("a goroutine saw numbers go down")
		}
		all = append(all, g...)
	}
	slices.Sort(all)
	if len(slices.Compact(all)) != 4000 {
		t.Error("a number was handed out twice")
	}
	mu.Lock()
	now = now.Add(-time.Hour) // the clock steps back
	mu.Unlock()
	if next := s.Next(); next <= all[len(all)-1] {
		t.Errorf("after the clock stepped back: %#x <= %#x", next, all[len(all)-1])
	}
}
