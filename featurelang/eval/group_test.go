package eval_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// groupDDL holds the tables of OpenMLDB's GROUP BY and HAVING cases
// (cases/query/having_query.yaml, cases/integration_test/v040/
// test_groupby.yaml), whose rows groupTables gives.
const groupDDL = `CREATE TABLE t (col0 string, col1 int, col2 smallint, col3 float, col4 double, col5 bigint, col6 string, INDEX(KEY=col1, TS=col5));
CREATE TABLE g (id bigint, c1 string, c2 int, c7 timestamp, INDEX(KEY=c1, TS=c7));
CREATE TABLE r (c1 string, c2 int, c3 bigint, c4 timestamp, INDEX(KEY=c1, TS=c4));
CREATE TABLE e (id bigint, c1 string, c2 int, c7 timestamp, INDEX(KEY=c1, TS=c7));`

func groupTables(t *testing.T, mod *featurelang.Module) map[string]*types.Block {
	t.Helper()
	s, i16, i32, i64 := types.StringValue, func(v int64) types.Value { return types.IntValue(types.Int16, v) },
		func(v int64) types.Value { return types.IntValue(types.Int32, v) }, types.Int64Value
	f, d, ts, null := types.FloatValue, types.DoubleValue, types.TimestampValue, types.NullOf
	rows := map[string][][]types.Value{
		"t": {
			{s("0"), i32(1), i16(5), f(1.1), d(11.1), i64(1), s("1")},
			{s("0"), i32(2), i16(5), f(2.2), d(22.2), i64(2), s("22")},
			{s("1"), i32(3), i16(55), f(3.3), d(33.3), i64(1), s("333")},
			{s("1"), i32(4), i16(55), f(4.4), d(44.4), i64(2), s("4444")},
			{s("2"), i32(5), i16(55), f(5.5), d(55.5), i64(3), s("aaaa")},
			{s("2"), i32(6), i16(555), f(6.6), d(66.6), i64(4), s("bbb")},
			{s("2"), i32(7), i16(555), f(7.7), d(77.7), i64(5), s("cccc")},
		},
		"g": {
			{i64(1), s("aa"), i32(11), ts(1590738990000)},
			{i64(2), s("bb"), i32(11), ts(1590738991000)},
			{i64(3), null(types.String), i32(12), ts(1590738992000)},
			{i64(4), s("a%"), null(types.Int32), ts(1590738993000)},
			{i64(5), s("bb"), i32(11), ts(1590738994000)},
			{i64(6), null(types.String), i32(11), ts(1590738995000)},
			{i64(7), s(""), i32(12), ts(1590738996000)},
		},
		"r": {
			{s("aa"), i32(2), i64(13), ts(1590738989000)},
			{s("cc"), i32(21), i64(131), ts(1590738990000)},
			{s("cc"), i32(41), i64(151), ts(1590738992000)},
		},
	}
	out := map[string]*types.Block{}
	for _, tb := range mod.Tables {
		out[tb.Name] = types.BlockOf(tb.Schema, rows[tb.Name])
	}
	return out
}

// TestGroupBatch evaluates GROUP BY, HAVING and whole-table aggregates in
// batch mode: one row per group, groups in order of first appearance
// (NULL is a key of its own), HAVING over the groups; distinct_count
// counts a NULL string as "", as OpenMLDB does. The expected values
// of the having_query cases are OpenMLDB's (its float sums 13.2, 14.3 and
// 30.8, printed here as the float32's float64 value).
func TestGroupBatch(t *testing.T) {
	t.Parallel()
	const sums = "sum(col1) AS col1_sum, sum(col3) AS col3_sum, sum(col4) AS col4_sum, sum(col2) AS col2_sum, sum(col5) AS col5_sum"
	tests := []struct {
		name, sql string
		schema    string
		rows      []string
		origins   []int
	}{
		{"group by, having (having_query#1)",
			"SELECT col2, " + sums + " FROM t GROUP BY t.col2 HAVING sum(col1) > 10.0",
			"col2 int16, col1_sum int32, col3_sum float, col4_sum double, col2_sum int16, col5_sum int64",
			[]string{"(int16(55), int32(12), float(13.199999809265137), double(133.2), int16(165), int64(6))",
				"(int16(555), int32(13), float(14.299999237060547), double(144.3), int16(1110), int64(9))"},
			[]int{2, 5}},
		{"having keeps no group (having_query#3)",
			"SELECT col2, " + sums + " FROM t GROUP BY t.col2 HAVING sum(col1) < 0.0",
			"col2 int16, col1_sum int32, col3_sum float, col4_sum double, col2_sum int16, col5_sum int64",
			nil, []int{}},
		{"where, group by, having (having_query#4)",
			"SELECT col2, " + sums + " FROM t WHERE col2 > 55 GROUP BY col2 HAVING sum(col1) > 10.0",
			"col2 int16, col1_sum int32, col3_sum float, col4_sum double, col2_sum int16, col5_sum int64",
			[]string{"(int16(555), int32(13), float(14.299999237060547), double(144.3), int16(1110), int64(9))"},
			[]int{5}},
		{"whole table, having true (having_query#5)",
			"SELECT " + sums + " FROM t HAVING sum(col1) > 10.0",
			"col1_sum int32, col3_sum float, col4_sum double, col2_sum int16, col5_sum int64",
			[]string{"(int32(28), float(30.799999237060547), double(310.8), int16(1285), int64(18))"},
			[]int{0}},
		{"whole table, having false (having_query#6)",
			"SELECT " + sums + " FROM t HAVING sum(col1) < 10.0",
			"col1_sum int32, col3_sum float, col4_sum double, col2_sum int16, col5_sum int64",
			nil, []int{}},
		{"whole table, where (test_where#9:6-1)",
			"SELECT SUM(col1) AS sum_col1, COUNT(col1) AS cnt_col1, MAX(col1) AS max_col1, MIN(col1) AS min_col1, AVG(col1) AS avg_col1 FROM t WHERE col2 = 5",
			"sum_col1 int32, cnt_col1 int64, max_col1 int32, min_col1 int32, avg_col1 double",
			[]string{"(int32(3), int64(2), int32(2), int32(1), double(1.5))"},
			[]int{0}},
		{"whole table, no row passes where: one row",
			"SELECT count(*) AS n, count(col1) AS c, sum(col1) AS s, max(col6) AS m, 7 AS seven FROM t WHERE col2 > 1000",
			"n int64, c int64, s int32, m string, seven int32",
			[]string{"(int64(0), int64(0), NULL, NULL, int32(7))"},
			[]int{-1}},
		{"groups in order of first appearance, NULL a key of its own",
			"SELECT c1, count(*) AS n, count(c2) AS c, sum(c2) AS s, first_value(id) AS first_id, last_value(id) AS last_id FROM g GROUP BY c1",
			"c1 string, n int64, c int64, s int32, first_id int64, last_id int64",
			[]string{`("aa", int64(1), int64(1), int32(11), int64(1), int64(1))`,
				`("bb", int64(2), int64(2), int32(22), int64(2), int64(5))`,
				`(NULL, int64(2), int64(2), int32(23), int64(3), int64(6))`,
				`("a%", int64(1), int64(0), NULL, int64(4), int64(4))`,
				`("", int64(1), int64(1), int32(12), int64(7), int64(7))`},
			[]int{0, 1, 2, 3, 6}},
		{"two keys",
			"SELECT c1, c2, count(*) AS v1 FROM g GROUP BY c1, c2",
			"c1 string, c2 int32, v1 int64",
			[]string{`("aa", int32(11), int64(1))`, `("bb", int32(11), int64(2))`, `(NULL, int32(12), int64(1))`,
				`("a%", NULL, int64(1))`, `(NULL, int32(11), int64(1))`, `("", int32(12), int64(1))`},
			[]int{0, 1, 2, 3, 5, 6}},
		{"expressions of keys and aggregates, count(DISTINCT), *_where",
			"SELECT c2 + 1 AS k, sum(c2) * 2 AS s2, count(DISTINCT c1) AS d, count_where(id, id > 2) AS late, sum(id) / count(*) AS mean FROM g GROUP BY c2",
			"k int32, s2 int32, d int64, late int64, mean double",
			[]string{"(int32(12), int32(88), int64(3), int64(2), double(3.5))", "(int32(13), int32(48), int64(1), int64(2), double(5))",
				"(NULL, NULL, int64(1), int64(1), double(4))"},
			[]int{0, 2, 3}},
		{"having on a key",
			"SELECT c1, count(*) AS n FROM g GROUP BY c1 HAVING c1 = 'bb' OR count(c2) = 0",
			"c1 string, n int64",
			[]string{`("bb", int64(2))`, `("a%", int64(1))`},
			[]int{1, 3}},
		{"limit over groups",
			"SELECT c1, count(*) AS n FROM g GROUP BY c1 LIMIT 2",
			"c1 string, n int64",
			[]string{`("aa", int64(1))`, `("bb", int64(2))`},
			[]int{0, 1}},
		{"group by a subquery's column (test_groupby#24)",
			"SELECT c1, count(*) AS v1 FROM (SELECT * FROM g WHERE id > 1) AS q GROUP BY c1",
			"c1 string, v1 int64",
			[]string{`("bb", int64(2))`, `(NULL, int64(2))`, `("a%", int64(1))`, `("", int64(1))`},
			[]int{1, 2, 3, 6}},
		{"a grouped subquery, filtered (test_groupby#27)",
			"SELECT * FROM (SELECT c1, count(*) AS v1 FROM g GROUP BY c1) AS q WHERE v1 = 2",
			"c1 string, v1 int64",
			[]string{`("bb", int64(2))`, `(NULL, int64(2))`},
			[]int{1, 2}},
		{"grouped subqueries, LAST JOINed (test_groupby#22)",
			"SELECT t1.c1, t1.v1, t2.v1 FROM (SELECT c1, sum(c2) AS v1 FROM g WHERE c1 = 'aa' OR c1 = 'bb' GROUP BY c1) AS t1 LAST JOIN (SELECT c1, sum(c2) AS v1 FROM r GROUP BY c1) AS t2 ON t1.c1 = t2.c1",
			"c1 string, v1 int32, v1 int32",
			[]string{`("aa", int32(11), int32(2))`, `("bb", int32(22), NULL)`},
			[]int{0, 1}},
		{"after a LAST JOIN (test_groupby#21)",
			"SELECT r.c1, sum(g.c2) AS v1 FROM r LAST JOIN g ORDER BY g.c7 ON r.c1 = g.c1 GROUP BY r.c1",
			"c1 string, v1 int32",
			[]string{`("aa", int32(11))`, `("cc", NULL)`},
			[]int{0, 1}},
		{"a window over grouped rows",
			"SELECT c1, n, sum(n) OVER w AS running FROM (SELECT c1, count(*) AS n, min(c7) AS t0, 'all' AS one FROM g GROUP BY c1) AS q WINDOW w AS (PARTITION BY one ORDER BY t0 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)",
			"c1 string, n int64, running int64",
			[]string{`("aa", int64(1), int64(1))`, `("bb", int64(2), int64(3))`, `(NULL, int64(2), int64(5))`,
				`("a%", int64(1), int64(6))`, `("", int64(1), int64(7))`},
			[]int{0, 1, 2, 3, 6}},
		{"whole table of no rows",
			"SELECT count(*) AS n, sum(c2) AS s, avg(c2) AS a FROM e",
			"n int64, s int32, a double",
			[]string{"(int64(0), NULL, NULL)"},
			[]int{-1}},
		{"group by over no rows", "SELECT c1, count(*) AS n FROM e GROUP BY c1", "c1 string, n int64", nil, []int{}},
	}
	mod, err := featurelang.Compile("ddl.sql", groupDDL, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tables := groupTables(t, mod)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := featurelang.CompileQuery("q.sql", tt.sql, mod.Tables, featurelang.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Output.String(); got != tt.schema {
				t.Errorf("schema %s, want %s", got, tt.schema)
			}
			ev, err := eval.New(roundTrip(t, p))
			if err != nil {
				t.Fatal(err)
			}
			out, origins, err := ev.BatchRows(context.Background(), tables)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i := range out.Len {
				got = append(got, fmtRow(out.Row(i, nil)))
			}
			if !slices.Equal(got, tt.rows) {
				t.Errorf("rows:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.rows, "\n  "))
			}
			if !slices.Equal(origins, tt.origins) {
				t.Errorf("origins %v, want %v", origins, tt.origins)
			}
		})
	}
}

// roundTrip returns p after a trip through its JSON, as a host loads it.
func roundTrip(t *testing.T, p *plan.Plan) *plan.Plan {
	t.Helper()
	b, err := plan.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	q, err := plan.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// TestGroupRequestRefused checks that request mode refuses plans that
// aggregate into groups, wherever the aggregation is, and lists no reads
// for them.
func TestGroupRequestRefused(t *testing.T) {
	t.Parallel()
	mod, err := featurelang.Compile("ddl.sql", groupDDL, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ sql, want string }{
		{"SELECT c1, count(*) AS n FROM g GROUP BY c1",
			"eval: batch mode only: view (query) uses GROUP BY, whose output is a row per group, not a row per request; request mode (a deployment) computes aggregates OVER a window"},
		{"SELECT count(*) AS n FROM g",
			"eval: batch mode only: view (query) uses a whole-table aggregate (an aggregate without OVER), whose output is a row per group, not a row per request; request mode (a deployment) computes aggregates OVER a window"},
		{"SELECT g.id, q.n FROM g LAST JOIN (SELECT c1, count(*) AS n FROM r GROUP BY c1) AS q ON g.c1 = q.c1",
			"eval: batch mode only: view (query) uses GROUP BY, whose output is a row per group, not a row per request; request mode (a deployment) computes aggregates OVER a window"},
	}
	for _, tt := range tests {
		p, err := featurelang.CompileQuery("q.sql", tt.sql, mod.Tables, featurelang.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ev, err := eval.New(p)
		if err != nil {
			t.Fatal(err)
		}
		req := []types.Value{types.Int64Value(1), types.StringValue("aa"), types.IntValue(types.Int32, 1), types.TimestampValue(1)}
		_, err = ev.Request(context.Background(), req, eval.NewMemSource())
		if !errors.Is(err, eval.ErrBatchOnly) || err.Error() != tt.want {
			t.Errorf("%s:\nerror %v\nwant  %s", tt.sql, err, tt.want)
		}
		if reads := ev.Reads(); reads != nil {
			t.Errorf("%s: reads %v, want none", tt.sql, reads)
		}
	}
}
