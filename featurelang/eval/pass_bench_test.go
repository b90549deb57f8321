package eval

import (
	"context"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/check"
	"github.com/fenestra-dev/fenestra/featurelang/diag"
	"github.com/fenestra-dev/fenestra/featurelang/parser"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// passRows mirrors eval_test's benchmark data: n rows of cards keys, in
// time order over days.
func passRows(n, cards int, days int64) *types.Block {
	b := types.NewBlock(types.Schema{{Name: "card", Type: types.Int64}, {Name: "amount", Type: types.Double}, {Name: "ts", Type: types.Timestamp}}, n)
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	x := uint64(88172645463325252)
	for i := range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b.Cols[0].I = append(b.Cols[0].I, int64(x%uint64(cards)))
		b.Cols[1].F = append(b.Cols[1].F, float64(x%100_000)/100)
		b.Cols[2].I = append(b.Cols[2].I, start+days*86_400_000*int64(i)/int64(n))
	}
	b.Len = n
	return b
}

// BenchmarkWindowPass times the phases of the batch window evaluation of
// the benchmark workload (sum over 10 days, count over 1 hour, max over 5
// minutes; 1,000,000 rows, 10,000 keys, 30 days) separately: "prepare"
// partitions, sorts and gathers; "pass" is the window pass proper, the
// three windows sliding over the prepared partitions.
func BenchmarkWindowPass(b *testing.B) {
	const sql = `SELECT sum(amount) OVER w10d AS a, count(amount) OVER w1h AS b, max(amount) OVER w5m AS c FROM tx
WINDOW w10d AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 10d PRECEDING AND CURRENT ROW),
       w1h  AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW),
       w5m  AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 5m PRECEDING AND CURRENT ROW)`
	in := passRows(1_000_000, 10_000, 30)
	// featurelang.CompileQuery, without importing featurelang (which
	// imports this package).
	src := diag.NewSource("bench", sql)
	q, err := parser.ParseQuery(src)
	if err != nil {
		b.Fatal(err)
	}
	var errs diag.List
	p := check.Query(src, q, check.Catalog{"tx": {Name: "tx", Schema: in.Schema}}, "", check.Options{}, &errs)
	if err := errs.Err(); err != nil {
		b.Fatal(err)
	}
	ev, err := New(p)
	if err != nil {
		b.Fatal(err)
	}
	n := ev.root
	g := n.groups[0]
	var prep, pass time.Duration
	for b.Loop() {
		t0 := time.Now()
		c := newCtx()
		c.blk = in
		ts := orderValues(g, in, c)
		order, segs := partitionOrder(g, in, c, ts, []int{in.Len})
		tsP := gatherInts(ts, order)
		gc := &gathered{w: in, order: order, c: c, byCol: map[int]*types.Column{}}
		var runs []*windowRun
		for _, we := range g.windows {
			wr, err := newWindowRun(n, we, gc)
			if err != nil {
				b.Fatal(err)
			}
			runs = append(runs, wr)
		}
		t1 := time.Now()
		for p := 0; p+1 < len(segs); p++ {
			sg := segment{a: segs[p], b: segs[p+1], orig: order, nOwn: in.Len}
			for _, wr := range runs {
				wr.sweep(sg, tsP)
			}
		}
		t2 := time.Now()
		prep += t1.Sub(t0)
		pass += t2.Sub(t1)
	}
	rows := float64(b.N) * float64(in.Len)
	b.ReportMetric(float64(pass.Nanoseconds())/rows, "pass-ns/row")
	b.ReportMetric(rows/pass.Seconds(), "pass-rows/s")
	b.ReportMetric(float64(prep.Nanoseconds())/rows, "prepare-ns/row")
	_ = context.Background
}
