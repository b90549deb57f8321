package eval_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// The benchmark workload of the featurelang issue: a card's spend over 10
// days, its transaction count over 1 hour and its largest amount over 5
// minutes.
const benchSQL = `SELECT
  sum(amount) OVER w10d AS spend_10d,
  count(amount) OVER w1h AS tx_1h,
  max(amount) OVER w5m AS max_5m
FROM tx
WINDOW
  w10d AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 10d PRECEDING AND CURRENT ROW),
  w1h  AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW),
  w5m  AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 5m PRECEDING AND CURRENT ROW)`

var benchTable = &plan.Table{Name: "tx", Schema: types.Schema{
	{Name: "card", Type: types.Int64},
	{Name: "amount", Type: types.Double},
	{Name: "ts", Type: types.Timestamp},
}}

func benchEvaluator(tb testing.TB) *eval.Evaluator {
	tb.Helper()
	p, err := featurelang.CompileQuery("bench", benchSQL, []*plan.Table{benchTable}, featurelang.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	ev, err := eval.New(p)
	if err != nil {
		tb.Fatal(err)
	}
	return ev
}

// benchRows returns n transactions of keys cards spread over days, in time
// order (an event log), with random amounts.
func benchRows(n, cards int, days int64) *types.Block {
	r := rand.New(rand.NewPCG(1, 2))
	b := types.NewBlock(benchTable.Schema, n)
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	span := days * 86_400_000
	for i := range n {
		b.Cols[0].I = append(b.Cols[0].I, int64(r.IntN(cards)))
		b.Cols[1].F = append(b.Cols[1].F, float64(r.IntN(100_000))/100)
		b.Cols[2].I = append(b.Cols[2].I, start+span*int64(i)/int64(n))
	}
	b.Len = n
	return b
}

// BenchmarkBatch1M evaluates the three windows over 1,000,000 rows of
// 10,000 cards over 30 days. rows/s is input rows per second.
func BenchmarkBatch1M(b *testing.B) {
	ev := benchEvaluator(b)
	tables := map[string]*types.Block{"tx": benchRows(1_000_000, 10_000, 30)}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := ev.Batch(ctx, tables); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*1e6/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/1e6, "ns/row")
}

// historySource serves one key's history from a preallocated block, as a
// storage layer that decodes into reused buffers would: the evaluator may
// append the request row, within capacity.
type historySource struct {
	rows *types.Block
	n    int
}

func newHistorySource(n int) *historySource {
	h := &historySource{rows: types.NewBlock(benchTable.Schema, n+1), n: n}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	step := int64(10*86_400_000) / int64(n) // n rows over the last 10 days
	r := rand.New(rand.NewPCG(3, 4))
	for i := range n {
		h.rows.AppendRow([]types.Value{types.Int64Value(7), types.DoubleValue(float64(r.IntN(100_000)) / 100),
			types.TimestampValue(start + step*int64(i))})
	}
	return h
}

func (h *historySource) Scan(_ context.Context, q eval.Query) (*types.Block, error) {
	for i := range h.rows.Cols {
		c := &h.rows.Cols[i]
		c.I, c.F = c.I[:min(len(c.I), h.n)], c.F[:min(len(c.F), h.n)]
	}
	h.rows.Len = h.n
	return h.rows, nil
}

func (h *historySource) request() []types.Value {
	last := h.rows.Cols[2].I[h.n-1]
	return []types.Value{types.Int64Value(7), types.DoubleValue(42.5), types.TimestampValue(last + 1000)}
}

// BenchmarkRequest1000 evaluates the three windows for one request over
// 1,000 history rows of its key and reports steady-state latency
// percentiles: over the last 65,536 requests (a ring), after a warm-up.
func BenchmarkRequest1000(b *testing.B) {
	ev := benchEvaluator(b)
	src := newHistorySource(1000)
	req := src.request()
	ctx := context.Background()
	for range 1000 { // warm up: caches, heap growth
		if _, err := ev.Request(ctx, req, src); err != nil {
			b.Fatal(err)
		}
	}
	lat := make([]time.Duration, 1<<16)
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if _, err := ev.Request(ctx, req, src); err != nil {
			b.Fatal(err)
		}
		lat[n%len(lat)] = time.Since(t0)
		n++
	}
	lat = lat[:min(n, len(lat))]
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}
