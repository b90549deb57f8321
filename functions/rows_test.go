package functions

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// manyRows returns n request rows, row i of card cardName(keys[i]) at
// t0 + i ms.
func manyRows(keys []int) *types.Block {
	b := types.NewBlock(txBlock().Schema, len(keys))
	for i, k := range keys {
		b.AppendRow(tx(int64(10_000_000+i), cardName(k), float64(i%89)+0.5, t0+int64(i)))
	}
	return b
}

// oneByOne computes each row of rows in a call of its own.
func oneByOne(t *testing.T, svc *Service, rows *types.Block, store bool) [][]types.Value {
	out, _ := oneByOneRead(t, svc, rows, store)
	return out
}

// oneByOneRead is oneByOne, also returning the stored rows read.
func oneByOneRead(t *testing.T, svc *Service, rows *types.Block, store bool) ([][]types.Value, int64) {
	t.Helper()
	out := make([][]types.Value, rows.Len)
	read := int64(0)
	for i := range rows.Len {
		res, err := svc.Compute(context.Background(), "features", oneRow(rows, i), store)
		if err != nil {
			t.Fatalf("row %d alone: %v", i, err)
		}
		out[i], read = res.Rows[0], read+res.RowsRead
	}
	return out, read
}

// sameAnswers reports the first row where got and want differ.
func sameAnswers(t *testing.T, got, want [][]types.Value) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if a, b := string(appendRow(nil, got[i])), string(appendRow(nil, want[i])); a != b {
			t.Fatalf("row %d: %s, computed alone %s", i, a, b)
		}
	}
}

// TestComputeManyRowsBigtable: a call of 1,000 rows of distinct keys over
// the emulator is answered within the default deadline, in order, each
// row as computed alone; its reads are shared (far fewer store calls than
// rows). With store set, the rows are stored too.
func TestComputeManyRowsBigtable(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("the emulator with 10,000 rows")
	}
	mod := compile(t, txSQL)
	store := bigtableStore(t, startEmulator(t), mod)
	svc, err := New(mod, store, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const keys = 1000
	if err := svc.Ingest(ctx, "tx", historyBlock(keys/100)); err != nil { // 100 rows of the first 10 keys
		t.Fatal(err)
	}
	hist := types.NewBlock(txBlock().Schema, 9000)
	for k := 10; k < keys; k++ {
		for i := range 9 {
			hist.AppendRow(tx(int64(100_000+k*10+i), cardName(k), float64(i)+0.25, t0-int64(i+1)*3_600_000))
		}
	}
	if err := svc.Ingest(ctx, "tx", hist); err != nil {
		t.Fatal(err)
	}
	ks := make([]int, keys)
	for i := range ks {
		ks[i] = (i * 7) % keys // distinct, not in key order
	}
	rows := manyRows(ks)
	want, read := oneByOneRead(t, svc, rows, false)
	before, start := sharedReads(svc), time.Now()
	res, err := svc.Compute(ctx, "features", rows, false)
	if err != nil {
		t.Fatalf("1,000 rows within the default deadline (%v): %v", DefaultTimeout, err)
	}
	t.Logf("1,000 rows in %v, %d store reads", time.Since(start), sharedReads(svc)-before)
	sameAnswers(t, res.Rows, want)
	if reads := sharedReads(svc) - before; reads > keys/4 {
		t.Errorf("%d store reads for %d rows: not shared", reads, keys)
	}
	if res.RowsRead != read {
		t.Errorf("%d rows read, %d one by one", res.RowsRead, read)
	}
	// Stored: the same answers (no row sees another), then each row is
	// there for a later request.
	res, err = svc.Compute(ctx, "features", rows, true)
	if err != nil {
		t.Fatal(err)
	}
	sameAnswers(t, res.Rows, want)
	again, err := svc.Compute(ctx, "features", manyRows(ks[:3]), false)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range again.Rows {
		if got, was := r[2].I, want[i][2].I; got != was+1 { // tx_1h counts the stored row
			t.Errorf("row %d after storing: tx_1h %d, want %d", i, got, was+1)
		}
	}
}

// sharedReads counts the store reads the service's coalescer made.
func sharedReads(svc *Service) uint64 {
	m := &dto.Metric{}
	if err := svc.metrics.shared.Write(m); err != nil {
		panic(err)
	}
	return m.GetHistogram().GetSampleCount()
}

// TestComputeManyRowsStoreSameKey: rows of one call that store themselves
// keep their sequential meaning when they share keys (each row sees the
// earlier rows of its key, stored), whatever the other rows: the answers
// and what is stored equal those of one call per row.
func TestComputeManyRowsStoreSameKey(t *testing.T) {
	t.Parallel()
	mod := compile(t, txSQL)
	t.Run("mem", func(t *testing.T) {
		t.Parallel()
		together, _ := memService(t, mod, Options{})
		alone, _ := memService(t, mod, Options{})
		testStoreSameKey(t, together, alone)
	})
	t.Run("bigtable", func(t *testing.T) {
		t.Parallel()
		addr := startEmulator(t)
		services := make([]*Service, 2)
		for i := range services {
			var err error
			if services[i], err = New(mod, bigtableStore(t, addr, mod), Options{}); err != nil {
				t.Fatal(err)
			}
		}
		testStoreSameKey(t, services[0], services[1])
	})
}

// testStoreSameKey compares, over two services of txSQL holding the same
// history, a call of rows sharing keys that stores them (on together)
// with one call per row (on alone).
func testStoreSameKey(t *testing.T, together, alone *Service) {
	keys := []int{1, 2, 1, 3, 2, 1, 4, 5, 1, 6, 2, 7, 7, 7}
	rows := manyRows(keys)
	rows.Cols[1].Nulls = make([]bool, rows.Len)
	rows.Cols[1].Nulls[12], rows.Cols[1].Nulls[13] = true, true // NULL keys: one key
	rows.Cols[1].S[12], rows.Cols[1].S[13] = "", ""
	for _, svc := range []*Service{together, alone} {
		if err := svc.Ingest(context.Background(), "tx", historyBlock(8)); err != nil {
			t.Fatal(err)
		}
	}
	want := oneByOne(t, alone, rows, true)
	res, err := together.Compute(context.Background(), "features", rows, true)
	if err != nil {
		t.Fatal(err)
	}
	sameAnswers(t, res.Rows, want)
	// Stored alike: the next request of each key sees the same.
	next := manyRows([]int{1, 2, 7})
	a, err := together.Compute(context.Background(), "features", next, false)
	if err != nil {
		t.Fatal(err)
	}
	sameAnswers(t, a.Rows, oneByOne(t, alone, next, false))
}

// TestConflictLevels: the levels of a call's rows, by key.
func TestConflictLevels(t *testing.T) {
	t.Parallel()
	mod := compile(t, txSQL)
	svc, _ := memService(t, mod, Options{})
	v := svc.View("features")
	if v.conflicts.all || len(v.conflicts.keys) != 1 || !slices.Equal(v.conflicts.keys[0], []int{1}) {
		t.Fatalf("conflicts %+v, want the card column", v.conflicts)
	}
	got, n := v.conflicts.levels(manyRows([]int{1, 2, 1, 3, 2, 1}))
	if want := []int{0, 0, 1, 0, 1, 2}; !slices.Equal(got, want) || n != 3 {
		t.Errorf("levels %v (%d), want %v", got, n, want)
	}
	got, n = conflicts{all: true}.levels(manyRows([]int{1, 2, 3}))
	if want := []int{0, 1, 2}; !slices.Equal(got, want) || n != 3 {
		t.Errorf("levels of a view reading every row %v (%d), want %v", got, n, want)
	}
	// A view that joins the request table to itself by another column:
	// any row may see any other.
	join := compile(t, `
CREATE TABLE t (id bigint, a string, b string, ts timestamp, INDEX(KEY=a, TS=ts), INDEX(KEY=b, TS=ts));
DEPLOY j SELECT t.id, r.id AS rid FROM t LAST JOIN t AS r ORDER BY r.ts ON t.a = r.b;`)
	jsvc, _ := memService(t, join, Options{})
	if c := jsvc.View("j").conflicts; !c.all {
		t.Errorf("a self join: conflicts %+v, want all", c)
	}
}

// TestTooManyRows: past Options.MaxRows a call is refused, 413 over HTTP
// on both the native and the OpenMLDB route, naming the limit, before
// any row is read.
func TestTooManyRows(t *testing.T) {
	t.Parallel()
	var scans atomic.Int64
	fs := &faultyStore{scan: func(ctx context.Context, q eval.Query) (*types.Block, error) {
		scans.Add(1)
		return nil, errors.New("not reached")
	}}
	srv := faultyServer(t, fs, Options{MaxRows: 3}, ServerOptions{})
	rows := func(n int) string {
		r := make([]string, n)
		for i := range r {
			r[i] = txRow(i, "c1", 10, t0)
		}
		return strings.Join(r, ",")
	}
	for _, c := range []struct{ path, body string }{
		{"/v1/views/features:compute", `{"rows": [` + rows(4) + `]}`},
		{"/v1/views/features:compute", `{"rows": [` + rows(100) + `], "store": true}`},
		{"/dbs/db/deployments/features", `{"input": [` + rows(4) + `]}`},
	} {
		resp := serve(srv, "POST", c.path, c.body)
		if resp.status != http.StatusRequestEntityTooLarge || !strings.Contains(string(resp.body), "the limit is 3 rows per request") {
			t.Errorf("%s with %d bytes: %d %s, want 413 naming the limit", c.path, len(c.body), resp.status, resp.body)
		}
	}
	if n := scans.Load(); n != 0 {
		t.Errorf("%d reads for refused requests", n)
	}
	_, err := srv.svc.Compute(context.Background(), "features", manyRows([]int{1, 2, 3, 4}), false)
	if !errors.Is(err, ErrTooManyRows) || Status(err) != http.StatusRequestEntityTooLarge || !strings.Contains(err.Error(), "4 rows; the limit is 3") {
		t.Errorf("Compute of 4 rows: %v", err)
	}
	if resp := serve(srv, "POST", "/v1/views/features:compute", `{"rows": [`+rows(3)+`]}`); resp.status == http.StatusRequestEntityTooLarge {
		t.Errorf("3 rows: %d %s", resp.status, resp.body)
	}
}

// TestComputeManyRowsErrors: the error of a failing row names it and
// ends the call, whichever rows run beside it.
func TestComputeManyRowsErrors(t *testing.T) {
	t.Parallel()
	fs := &faultyStore{}
	fs.scan = func(ctx context.Context, q eval.Query) (*types.Block, error) {
		if q.Values[0].S == cardName(37) {
			return nil, fmt.Errorf("%w: card 37", storage.ErrUnavailable)
		}
		return fs.Store.Scan(ctx, q)
	}
	srv := faultyServer(t, fs, Options{}, ServerOptions{})
	ks := make([]int, 200)
	for i := range ks {
		ks[i] = i
	}
	_, err := srv.svc.Compute(context.Background(), "features", manyRows(ks), false)
	if !errors.Is(err, storage.ErrUnavailable) || !strings.Contains(err.Error(), "row 37") {
		t.Errorf("error %v, want row 37's", err)
	}
}

// TestComputeAsOf: each row of a ComputeAsOf call reads as of its own
// time, the store enforcing its TTLs then (the tx index keeps 30 days),
// whatever its clock; rows of different times share one call.
func TestComputeAsOf(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, mem := memService(t, compile(t, txSQL), Options{})
	const day = int64(24 * time.Hour / time.Millisecond)
	if err := mem.Write(ctx, "tx", txBlock(tx(1, "a", 10, 20*day), tx(2, "b", 20, 20*day)), []uint64{1, 2}); err != nil {
		t.Fatal(err)
	}
	reqs := txBlock(tx(3, "a", 1, 25*day), tx(4, "b", 2, 25*day))
	spend := func(res *ComputeResult) string {
		return fmt.Sprint(res.Rows[0][1].F, " ", res.Rows[1][1].F)
	}
	res, err := svc.ComputeAsOf(ctx, "features", reqs, false, []int64{51 * day, 26 * day})
	if err != nil {
		t.Fatal(err)
	}
	if got := spend(res); got != "1 22" {
		t.Errorf("as of days 51 and 26: spend_10d %s, want 1 (a's row of day 20 expired at day 51) and 22", got)
	}
	if res, err = svc.Compute(ctx, "features", reqs, false); err != nil {
		t.Fatal(err)
	}
	if got := spend(res); got != "11 22" {
		t.Errorf("by the store's clock (1970): spend_10d %s, want 11 22", got)
	}
	if _, err := svc.ComputeAsOf(ctx, "features", reqs, false, []int64{1}); !errors.Is(err, ErrBadRequest) {
		t.Errorf("one time for two rows: %v", err)
	}
}
