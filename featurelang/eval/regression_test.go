package eval_test

import (
	"context"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// TestRequestEqualsBatchRegressions pins the minimal reproductions that
// TestRequestEqualsBatch found, with the value batch mode gives.
func TestRequestEqualsBatchRegressions(t *testing.T) {
	t.Parallel()
	const t0 = 1_700_000_000_000
	ts := types.TimestampValue
	str := types.StringValue
	id := types.Int64Value
	t1 := &plan.Table{Name: "t1", Schema: types.Schema{
		{Name: "k", Type: types.String}, {Name: "ts", Type: types.Timestamp},
		{Name: "c1", Type: types.Double}, {Name: "id", Type: types.Int64}}}
	tests := []struct {
		name    string
		query   genQuery
		stored  [][]types.Value
		req     []types.Value
		want    types.Value
		comment string
	}{
		{
			name: "stored row with a NULL order value",
			query: genQuery{from: "t1", id: "t1.id",
				items:   []genItem{{sql: "count(*) OVER w0", wins: []int{0}}},
				windows: []string{"(PARTITION BY t1.k ORDER BY t1.ts ROWS BETWEEN 4 PRECEDING AND CURRENT ROW)"}},
			stored:  [][]types.Value{{str("a"), types.NullOf(types.Timestamp), types.DoubleValue(1), id(0)}},
			req:     []types.Value{str("a"), ts(t0 + 1), types.DoubleValue(2), id(1000)},
			want:    types.Int64Value(2),
			comment: "a NULL order value sorts first in batch; MemSource dropped it from TS scans",
		},
		{
			name: "window over a subquery with windows",
			query: genQuery{from: "(SELECT *, sum(t1.c1) OVER w0 AS s FROM t1 WINDOW w0 AS " +
				"(PARTITION BY t1.k ORDER BY t1.ts ROWS_RANGE BETWEEN 2 OPEN PRECEDING AND CURRENT ROW)) AS q", id: "q.id",
				items:   []genItem{{sql: "max(q.s) OVER w0", wins: []int{0}}},
				windows: []string{"(PARTITION BY q.k ROWS_RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"}},
			stored:  [][]types.Value{{str("b"), ts(t0 + 3), types.DoubleValue(3), id(0)}},
			req:     []types.Value{str("b"), ts(t0 + 2), types.DoubleValue(1.5), id(1000)},
			want:    types.DoubleValue(4.5),
			comment: "the stored row's inner sum sees the earlier request in batch (3 + 1.5)",
		},
		{
			name: "window over a subquery with a self LAST JOIN",
			query: genQuery{from: "(SELECT t1.k AS k, t1.id AS id, b.c1 AS bc FROM t1 LAST JOIN t1 AS b ON t1.k = b.k) AS q", id: "q.id",
				items:   []genItem{{sql: "sum(q.bc) OVER w0", wins: []int{0}}},
				windows: []string{"(PARTITION BY q.k ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"}},
			stored:  [][]types.Value{{str("b"), ts(t0 + 3), types.DoubleValue(3), id(0)}},
			req:     []types.Value{str("b"), ts(t0 + 2), types.DoubleValue(1.5), id(1000)},
			want:    types.DoubleValue(3),
			comment: "every row joins the request, the latest row of t1 (1.5 + 1.5)",
		},
		{
			name: "lag ignoring NULLs reads before the frame",
			query: genQuery{from: "t1", id: "t1.id",
				items:   []genItem{{sql: "lag(t1.c1, 0, true) OVER w0", wins: []int{0}}},
				windows: []string{"(PARTITION BY t1.k ORDER BY t1.ts ROWS_RANGE BETWEEN 2 PRECEDING AND CURRENT ROW)"}},
			stored:  [][]types.Value{{str("a"), ts(t0 + 1), types.DoubleValue(2), id(0)}},
			req:     []types.Value{str("a"), ts(t0 + 5), types.NullOf(types.Double), id(1000)},
			want:    types.DoubleValue(2),
			comment: "the request's value is NULL, so lag skips back to the stored row",
		},
		{
			name: "lag under EXCLUDE CURRENT_TIME with an empty frame",
			query: genQuery{from: "t1", id: "t1.id",
				items: []genItem{{sql: "lag(t1.c1, 1) OVER w0", wins: []int{0}}},
				windows: []string{"(PARTITION BY t1.k ORDER BY t1.ts ROWS_RANGE BETWEEN 0 OPEN PRECEDING AND CURRENT ROW " +
					"EXCLUDE CURRENT_TIME)"}},
			stored: [][]types.Value{
				{str("a"), ts(t0 + 5), types.DoubleValue(1), id(0)},
				{str("a"), ts(t0 + 6), types.NullOf(types.Double), id(1)},
			},
			req:     []types.Value{str("a"), ts(t0 + 6), types.DoubleValue(3), id(1000)},
			want:    types.DoubleValue(1),
			comment: "the row at the request's time is excluded; the one before it is lag 1",
		},
		{
			name: "UNION of the request table",
			query: genQuery{from: "t1", id: "t1.id",
				items:   []genItem{{sql: "count(*) OVER w0", wins: []int{0}}},
				windows: []string{"(UNION t1 PARTITION BY t1.k ORDER BY t1.ts ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"}},
			stored: [][]types.Value{
				{str("a"), ts(t0 + 1), types.DoubleValue(1), id(0)},
				{str("a"), ts(t0 + 9), types.DoubleValue(1), id(1)},
			},
			req:     []types.Value{str("a"), ts(t0 + 5), types.DoubleValue(2), id(1000)},
			want:    types.Int64Value(4),
			comment: "own row 0, union copies of rows 0 and of the request, the request",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := &genCase{tables: []*plan.Table{t1}, rows: map[string][][]types.Value{"t1": tt.stored},
				query: tt.query, reqs: [][]types.Value{tt.req}}
			ev := c.evaluator(t)
			want, err := c.batchRow(context.Background(), ev, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) != 1 || !types.Identical(want[0], tt.want) {
				t.Fatalf("Batch gives %s, want (%s): %s", fmtRow(want), fmtValue(tt.want), tt.comment)
			}
			if msg := c.checkRequest(context.Background(), ev, 0); msg != "" {
				t.Errorf("%s (%s)\n%s", msg, tt.comment, c.describe(0))
			}
		})
	}
}

// evaluator compiles c's query and returns its evaluator.
func (c *genCase) evaluator(t *testing.T) *eval.Evaluator {
	t.Helper()
	p, err := c.compile()
	if err != nil {
		t.Fatal(err)
	}
	ev, err := eval.New(p)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}
