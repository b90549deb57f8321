package eval_test

import (
	"context"
	"slices"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// TestBatchRowsOrigins checks that BatchRows maps every output row to the
// FROM-table row it was computed for, through WHERE and LIMIT on the
// spine, and is not disturbed by filters in joined or unioned subqueries.
func TestBatchRowsOrigins(t *testing.T) {
	t.Parallel()
	const ddl = `CREATE TABLE t1 (id int64, k string, ts timestamp, v double, INDEX(KEY=k, TS=ts));
CREATE TABLE t2 (id int64, k string, ts timestamp, v double, INDEX(KEY=k, TS=ts));`
	tests := []struct {
		name, query string
		want        []int
	}{
		{"plain", "SELECT id FROM t1", []int{0, 1, 2, 3, 4, 5}},
		{"where", "SELECT id FROM t1 WHERE v > 2", []int{2, 3, 4, 5}},
		{"limit", "SELECT id FROM t1 LIMIT 2", []int{0, 1}},
		{"where then limit", "SELECT id FROM t1 WHERE v > 2 LIMIT 3", []int{2, 3, 4}},
		{"subquery where, outer where", "SELECT id FROM (SELECT * FROM t1 WHERE v <> 3) AS q WHERE q.v > 1", []int{1, 3, 4, 5}},
		{"window over a filtered subquery",
			"SELECT id, sum(v) OVER w AS s FROM (SELECT * FROM t1 WHERE k = 'a') AS q WINDOW w AS (PARTITION BY q.k ORDER BY q.ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)",
			[]int{0, 2, 4}},
		{"filtered join side",
			"SELECT t1.id, r.v FROM t1 LAST JOIN (SELECT * FROM t2 WHERE v > 100) AS r ON t1.k = r.k WHERE t1.v < 5",
			[]int{0, 1, 2, 3}},
		{"filtered union",
			"SELECT id, count(v) OVER w AS c FROM t1 WINDOW w AS (UNION (SELECT * FROM t2 WHERE v > 100) PARTITION BY k ORDER BY ts ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW) LIMIT 5",
			[]int{0, 1, 2, 3, 4}},
		{"no from", "SELECT 1 AS one", []int{-1}},
	}
	mod, err := featurelang.Compile("ddl.sql", ddl, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows := func(name string) *types.Block {
		tb := mod.Tables[0]
		if name == "t2" {
			tb = mod.Tables[1]
		}
		b := types.NewBlock(tb.Schema, 6)
		for i := range 6 {
			k := "a"
			if i%2 == 1 {
				k = "b"
			}
			b.AppendRow([]types.Value{types.Int64Value(int64(i)), types.StringValue(k),
				types.TimestampValue(int64(1000 * i)), types.DoubleValue(float64(i + 1))})
		}
		return b
	}
	tables := map[string]*types.Block{"t1": rows("t1"), "t2": rows("t2")}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := featurelang.CompileQuery("q.sql", tt.query, mod.Tables, featurelang.Options{})
			if err != nil {
				t.Fatal(err)
			}
			ev, err := eval.New(p)
			if err != nil {
				t.Fatal(err)
			}
			out, origins, err := ev.BatchRows(context.Background(), tables)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(origins, tt.want) {
				t.Fatalf("origins = %v, want %v", origins, tt.want)
			}
			plain, err := ev.Batch(context.Background(), tables)
			if err != nil {
				t.Fatal(err)
			}
			if out.Len != plain.Len {
				t.Fatalf("BatchRows gave %d rows, Batch %d", out.Len, plain.Len)
			}
			if p.RequestTable == "" {
				return
			}
			for i, o := range origins {
				if got := out.Cols[0].I[i]; got != int64(o) {
					t.Errorf("row %d: id %d, origin %d", i, got, o)
				}
			}
		})
	}
}
