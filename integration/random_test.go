package integration

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/verify"
)

// randomSQL has windows of every kind over a keyed table — time ranges,
// a MAXSIZE, a row count with lag, EXCLUDE CURRENT_TIME, distinct_count,
// a *_where with a CEL condition on a joined column — a point-in-time
// LAST JOIN, and a second view partitioned by another column, whose rows
// do not split by the first key.
const randomSQL = `
CREATE TABLE ev (id bigint, k string, g int, v double, n bigint, ts timestamp, INDEX(KEY=k, TS=ts), INDEX(KEY=g, TS=ts));
CREATE TABLE dim (k string, attr string, w double, updated timestamp, INDEX(KEY=k, TS=updated));
DEPLOY feats SELECT id,
  sum(v) OVER w10s AS s10, count(v) OVER w10s AS c10, avg(v) OVER w1m AS a1m,
  min(n) OVER w3 AS min3, max(v) OVER w3 AS max3, lag(v, 1) OVER w3 AS prev_v,
  count(id) OVER wx AS cx,
  distinct_count(g) OVER w1m AS dg,
  sum_where(v, CEL('dim.attr == "a"')) OVER w1m AS sa,
  dim.attr AS attr, CEL('dim.w == null ? -1.0 : dim.w * 2.0') AS w2
FROM ev LAST JOIN dim ORDER BY dim.updated ON ev.k = dim.k AND dim.updated <= ev.ts
WINDOW w10s AS (PARTITION BY ev.k ORDER BY ts ROWS_RANGE BETWEEN 10s PRECEDING AND CURRENT ROW),
  w1m AS (PARTITION BY ev.k ORDER BY ts ROWS_RANGE BETWEEN 1m PRECEDING AND CURRENT ROW MAXSIZE 5),
  w3 AS (PARTITION BY ev.k ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW),
  wx AS (PARTITION BY ev.k ORDER BY ts ROWS_RANGE BETWEEN 30s PRECEDING AND CURRENT ROW EXCLUDE CURRENT_TIME);
DEPLOY by_group SELECT id, count(v) OVER wg AS cg, sum(n) OVER wg AS sg, lag(k, 1) OVER wg AS prev_k
FROM ev
WINDOW wg AS (PARTITION BY g ORDER BY ts ROWS_RANGE BETWEEN 20s PRECEDING AND CURRENT ROW);
`

// randomTables makes n events and a dimension table with random keys
// (NULL and the empty string among them), bursts of equal timestamps,
// NULL times and values, NaN and -0, and one row in ten arriving out of
// time order; dimension rows have versions before, between and after the
// events.
func randomTables(seed uint64, n int) map[string]*types.Block {
	r := rand.New(rand.NewPCG(seed, 99))
	start := time.Now().Add(-time.Hour).UnixMilli()
	keys := []types.Value{types.NullOf(types.String), types.StringValue(""), types.StringValue("a"), types.StringValue("b"), types.StringValue("c"), types.StringValue("d\x00e")}
	pick := func() types.Value { return keys[r.IntN(len(keys))] }
	ev := make([][]types.Value, n)
	ts := start
	for i := range n {
		if r.IntN(4) != 0 { // else: the same millisecond as the previous event
			ts += int64(r.IntN(3000))
		}
		t := types.TimestampValue(ts)
		if r.IntN(40) == 0 {
			t = types.NullOf(types.Timestamp)
		}
		v := types.DoubleValue(float64(r.IntN(2000)-1000) / 8)
		switch r.IntN(30) {
		case 0:
			v = types.NullOf(types.Double)
		case 1:
			v = types.DoubleValue(math.NaN())
		case 2:
			v = types.DoubleValue(math.Copysign(0, -1))
		}
		g := types.IntValue(types.Int32, int64(r.IntN(3)))
		if r.IntN(20) == 0 {
			g = types.NullOf(types.Int32)
		}
		nv := types.Int64Value(r.Int64N(100) - 50)
		if r.IntN(20) == 0 {
			nv = types.NullOf(types.Int64)
		}
		ev[i] = []types.Value{types.Int64Value(int64(i + 1)), pick(), g, v, nv, t}
	}
	for i := range n { // late arrivals
		if r.IntN(10) == 0 {
			j := min(n-1, i+1+r.IntN(10))
			ev[i], ev[j] = ev[j], ev[i]
		}
	}
	var dim [][]types.Value
	for _, k := range keys {
		for range r.IntN(4) {
			attr := types.StringValue([]string{"a", "b"}[r.IntN(2)])
			if r.IntN(5) == 0 {
				attr = types.NullOf(types.String)
			}
			w := types.DoubleValue(float64(r.IntN(100)) / 4)
			if r.IntN(5) == 0 {
				w = types.NullOf(types.Double)
			}
			at := start + r.Int64N(ts-start+120_000) - 60_000
			dim = append(dim, []types.Value{k, attr, w, types.TimestampValue(at)})
		}
	}
	evSchema := types.Schema{{Name: "id", Type: types.Int64}, {Name: "k", Type: types.String}, {Name: "g", Type: types.Int32},
		{Name: "v", Type: types.Double}, {Name: "n", Type: types.Int64}, {Name: "ts", Type: types.Timestamp}}
	dimSchema := types.Schema{{Name: "k", Type: types.String}, {Name: "attr", Type: types.String}, {Name: "w", Type: types.Double}, {Name: "updated", Type: types.Timestamp}}
	return map[string]*types.Block{"ev": types.BlockOf(evSchema, ev), "dim": types.BlockOf(dimSchema, dim)}
}

// TestRandomized is the online == offline proof on randomized data, for
// several seeds and both views: the backfill against the feature function
// over HTTP and the functions core in process.
func TestRandomized(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Beam pipelines")
	}
	t.Parallel()
	for seed := range uint64(3) {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			t.Parallel()
			d := writeDataset(t, randomSQL, randomTables(seed, 600))
			tables := d.tables(t)
			for _, name := range []string{"feats", "by_group"} {
				view := d.view(t, name)
				training := d.backfill(t, view)
				h, err := verify.NewHTTP(t.Context(), d.httpFunction(t, d.bigtableWith(t, view.RequestTable)), view.Name, "")
				if err != nil {
					t.Fatal(err)
				}
				requireSame(t, "HTTP", preloaded{h}, view, tables, training, 4)
				p, err := verify.NewInProcess(t.Context(), d.mod, view.Name)
				if err != nil {
					t.Fatal(err)
				}
				requireSame(t, "in process", p, view, tables, training, 3)
				p.Close()
			}
		})
	}
}
