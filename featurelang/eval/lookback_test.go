package eval_test

import (
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// TestLookback checks how far back views read their FROM table's rows,
// and why those that do without bound do. (dataflow's TestSplitKeys
// checks that evaluations over that lookback equal whole ones.)
func TestLookback(t *testing.T) {
	t.Parallel()
	schema := types.Schema{{Name: "k", Type: types.String}, {Name: "j", Type: types.String}, {Name: "ts", Type: types.Timestamp},
		{Name: "v", Type: types.Double}}
	tables := []*plan.Table{{Name: "t", Schema: schema}, {Name: "u", Schema: schema}}
	const w1h = ` WINDOW w AS (PARTITION BY k ORDER BY ts ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW)`
	cases := []struct {
		query string
		want  eval.Lookback
		why   string // a part of Why, when the lookback is unbounded
	}{
		{query: `SELECT v FROM t`},
		{query: `SELECT sum(v) OVER w AS s FROM t` + w1h, want: eval.Lookback{TS: "ts", Range: 3_600_000}},
		{query: `SELECT sum(v) OVER w AS s, lag(v, 4) OVER w AS l FROM t` + w1h, want: eval.Lookback{TS: "ts", Range: 3_600_000, Rows: 4, Key: []string{"k"}}},
		{query: `SELECT sum(v) OVER w AS s FROM t WINDOW w AS (PARTITION BY k, j ORDER BY ts ROWS BETWEEN 9 PRECEDING AND CURRENT ROW)`,
			want: eval.Lookback{TS: "ts", Rows: 9, Key: []string{"j", "k"}}},
		{query: `SELECT max(s) OVER w AS m FROM (SELECT k, ts, sum(v) OVER w2 AS s FROM t
  WINDOW w2 AS (PARTITION BY k ORDER BY ts ROWS_RANGE BETWEEN 2h PRECEDING AND CURRENT ROW))` + w1h,
			want: eval.Lookback{TS: "ts", Range: 3 * 3_600_000}},
		{query: `SELECT sum(v) OVER w AS s FROM t WHERE v > 1` + w1h, want: eval.Lookback{TS: "ts", Range: 3_600_000}},
		{query: `SELECT lag(v, 1) OVER w AS s FROM t WHERE v > 1` + w1h, why: "a WHERE below windows"},
		{query: `SELECT sum(v) OVER w AS s FROM t WINDOW w AS (PARTITION BY k ORDER BY ts ROWS_RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)`,
			why: "window w has an unbounded frame"},
		{query: `SELECT k, sum(v) AS s FROM t GROUP BY k`, why: "GROUP BY"},
		{query: `SELECT sum(v) OVER w AS s FROM t WINDOW w AS (UNION u PARTITION BY k ORDER BY ts ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW)`,
			why: "window w has a UNION"},
		{query: `SELECT sum(v) OVER w AS s, count(v) OVER w2 AS n FROM t` + w1h + `, w2 AS (PARTITION BY k ORDER BY bigint(ts) ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW)`,
			why: "window w2 orders by a computed value"},
		{query: `SELECT t.v AS v, x.s AS s FROM t LAST JOIN (SELECT k, sum(v) OVER w AS s FROM t` + w1h + `) AS x ON t.k = x.k`,
			why: "right side reads the FROM table t"},
	}
	for _, c := range cases {
		p, err := featurelang.CompileQuery("q.sql", c.query, tables, featurelang.Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		ev, err := eval.New(p)
		if err != nil {
			t.Fatal(err)
		}
		got := ev.Lookback()
		if c.why != "" {
			if !strings.Contains(got.Why, c.why) {
				t.Errorf("%s:\n Lookback %+v, want Why saying %q", c.query, got, c.why)
			}
			continue
		}
		if got.Why != "" || got.TS != c.want.TS || got.Range != c.want.Range || got.Rows != c.want.Rows || strings.Join(got.Key, ",") != strings.Join(c.want.Key, ",") {
			t.Errorf("%s:\n Lookback %+v, want %+v", c.query, got, c.want)
		}
	}
}
