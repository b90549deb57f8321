package eval_test

import (
	"context"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// TestJoinPrune checks request mode's pruning of the LAST JOINs of a
// window's input (joinprune.go) where it is easy to get wrong, each
// against batch mode, which joins every row: a join only a short window
// reads beside a long one, whose rows before the short frame go unjoined;
// a join read by lag (never pruned); and a NULL order value (TestRequest-
// EqualsBatch's seed 8180: the request's order NULL, so the frame starts
// at the lowest value, and a stored row with a NULL order must be joined).
func TestJoinPrune(t *testing.T) {
	t.Parallel()
	const t0 = 1_700_000_000_000
	ts, i64, i32 := types.TimestampValue, types.Int64Value, func(v int64) types.Value { return types.IntValue(types.Int32, v) }
	t1 := &plan.Table{Name: "t1", Schema: types.Schema{{Name: "k", Type: types.Int32}, {Name: "ts", Type: types.Timestamp},
		{Name: "c1", Type: types.Int64}, {Name: "c2", Type: types.Int32}, {Name: "id", Type: types.Int64}},
		Indexes: []*plan.Index{{Name: "i", Keys: []string{"k"}, TS: "ts"}}}
	t3 := &plan.Table{Name: "t3", Schema: types.Schema{{Name: "jk", Type: types.Int64}, {Name: "jts", Type: types.Timestamp}, {Name: "v1", Type: types.Int64}},
		Indexes: []*plan.Index{{Name: "i", Keys: []string{"jk"}, TS: "jts"}}}
	var history [][]types.Value
	for i := range 40 {
		c1 := i64(int64(i % 5))
		if i%7 == 3 {
			c1 = types.NullOf(types.Int64)
		}
		history = append(history, []types.Value{i32(1), ts(t0 + int64(i)*1000), c1, i32(int64(i % 3)), i64(int64(i))})
	}
	joined := [][]types.Value{
		{i64(0), ts(t0), i64(10)}, {i64(1), ts(t0 + 5000), i64(20)}, {i64(2), ts(t0 + 9000), i64(30)},
		{i64(3), ts(t0 + 30_000), i64(40)}, {i64(4), ts(t0), types.NullOf(types.Int64)},
	}
	const join = "t1 LAST JOIN t3 ORDER BY t3.jts ON t1.c1 = t3.jk"
	tests := []struct {
		name   string
		query  genQuery
		stored [][]types.Value
		req    []types.Value
	}{{
		name: "a join read by a short window beside a long one",
		query: genQuery{from: join + " AND t3.jts <= t1.ts", id: "t1.id",
			items: []genItem{{sql: "sum(t1.c1) OVER w0", wins: []int{0}}, {sql: "sum(t3.v1) OVER w1", wins: []int{1}}, {sql: "count(t3.v1) OVER w1", wins: []int{1}}},
			windows: []string{"(PARTITION BY t1.k ORDER BY t1.ts ROWS_RANGE BETWEEN 30s PRECEDING AND CURRENT ROW)",
				"(PARTITION BY t1.k ORDER BY t1.ts ROWS_RANGE BETWEEN 4s PRECEDING AND CURRENT ROW)"}},
		stored: history,
		req:    []types.Value{i32(1), ts(t0 + 41_000), i64(2), i32(0), i64(1000)},
	}, {
		name: "a join read by lag",
		query: genQuery{from: join, id: "t1.id",
			items:   []genItem{{sql: "lag(t3.v1, 6) OVER w0", wins: []int{0}}, {sql: "sum(t3.v1) OVER w0", wins: []int{0}}},
			windows: []string{"(PARTITION BY t1.k ORDER BY t1.ts ROWS_RANGE BETWEEN 2s PRECEDING AND CURRENT ROW)"}},
		stored: history,
		req:    []types.Value{i32(1), ts(t0 + 41_000), i64(1), i32(0), i64(1000)},
	}, {
		name: "a NULL order value",
		query: genQuery{from: "t1 LAST JOIN t3 ORDER BY t3.jts ON t1.k = t3.jk", id: "t1.id",
			items:   []genItem{{sql: "count(t3.jts) OVER w0", wins: []int{0}}},
			windows: []string{"(PARTITION BY t1.k ORDER BY t1.c1 ROWS_RANGE BETWEEN 3 PRECEDING AND 1 OPEN PRECEDING EXCLUDE CURRENT_ROW MAXSIZE 3)"}},
		stored: [][]types.Value{{i32(2), ts(t0 + 3), types.NullOf(types.Int64), i32(1), i64(15)}},
		req:    []types.Value{i32(2), ts(t0), types.NullOf(types.Int64), i32(1), i64(1000)},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := &genCase{tables: []*plan.Table{t1, t3}, rows: map[string][][]types.Value{"t1": tt.stored, "t3": joined},
				query: tt.query, reqs: [][]types.Value{tt.req}}
			if msg := c.checkRequest(context.Background(), c.evaluator(t), 0); msg != "" {
				t.Errorf("%s\n%s", msg, c.describe(0))
			}
		})
	}
}
