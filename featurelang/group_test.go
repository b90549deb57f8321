package featurelang_test

import (
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
)

const groupTables = `CREATE TABLE t (id bigint, c1 string, c2 int, f float, d double, ts timestamp, INDEX(KEY=c1, TS=ts));
`

// TestGroupCheck covers what the checker accepts of GROUP BY, HAVING and
// whole-table aggregates (output schema, and the plan's BatchOnly) and
// the exact first line of each refusal.
func TestGroupCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, sql string
		want      string // the output schema, or the error's first line
	}{
		{"group by", "SELECT c1, count(*) AS n, sum(c2) FROM t GROUP BY c1", "c1 string, n int64, sum(c2) int32"},
		{"qualified key, unaliased count(*)", "SELECT t.c1, count(*) FROM t GROUP BY t.c1", "c1 string, count(*) int64"},
		{"key not selected, having", "SELECT count(c2) AS v1 FROM t GROUP BY c1, c2 HAVING count(c2) > 1 AND c1 <> 'x'", "v1 int64"},
		{"whole table", "SELECT count(*) AS n, avg(f) AS a, max(ts) AS latest FROM t WHERE c2 > 0", "n int64, a double, latest timestamp"},
		{"whole table, having", "SELECT sum(c2) AS s FROM t HAVING sum(c2) > 10", "s int32"},
		{"constants beside aggregates", "SELECT 1 AS one, count(*) + 1 AS n1 FROM t", "one int32, n1 int64"},
		{"count(*, cond) and *_cate", "SELECT c1, count_where(*, c2 > 1) AS n, sum_cate(c2, c1) AS s FROM t GROUP BY c1", "c1 string, n int64, s string"},
		{"scalar at is no aggregate", "SELECT at(split(c1, ','), 0) AS first FROM t", "first string"},
		{"a window inside, aggregated outside", "SELECT c1, max(s) AS m FROM (SELECT c1, sum(c2) OVER w AS s FROM t WINDOW w AS (PARTITION BY c1 ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)) AS q GROUP BY c1", "c1 string, m int32"},

		{"column not grouped (test_groupby#14)", "SELECT id, c1, count(*) AS v1 FROM t GROUP BY c1",
			`q.sql:2:8: column "id" is neither grouped nor aggregated: add it to GROUP BY, or aggregate it (e.g. max(id))`},
		{"unknown key (test_groupby#16)", "SELECT c3, count(*) FROM t GROUP BY c3", `q.sql:2:37: unknown column "c3"; did you mean c1?`},
		{"float key (test_groupby#6)", "SELECT f, count(*) AS v1 FROM t GROUP BY f",
			"q.sql:2:42: cannot group by float; use an integer, string, date, timestamp or bool column"},
		{"double key (test_groupby#7)", "SELECT count(*) AS v1 FROM t GROUP BY d",
			"q.sql:2:39: cannot group by double; use an integer, string, date, timestamp or bool column"},
		{"expression key", "SELECT count(*) AS v1 FROM t GROUP BY c2 + 1",
			"q.sql:2:42: GROUP BY takes column names; to group by an expression, compute it as a column of a subquery and group by that column"},
		{"having an alias (test_groupby#18)", "SELECT c1, count(c2) AS v1 FROM t GROUP BY c1 HAVING v1 > 1", `q.sql:2:54: unknown column "v1"; did you mean c1?`},
		{"having a column not grouped", "SELECT c1, count(*) AS n FROM t GROUP BY c1 HAVING c2 > 1",
			`q.sql:2:52: column "c2" is neither grouped nor aggregated: add it to GROUP BY, or aggregate it (e.g. max(c2))`},
		{"having not bool", "SELECT c1 FROM t GROUP BY c1 HAVING count(*)", "q.sql:2:37: HAVING condition must be bool, not int64"},
		{"where after group by (test_groupby#19)", "SELECT c1, count(c2) AS v1 FROM t GROUP BY c1 WHERE count(c2) > 1", "q.sql:2:47: expected ';' after statement, found 'WHERE'"},
		{"window with group by (test_groupby#23)",
			"SELECT c1, max(sum(c2) OVER w) AS m FROM t WINDOW w AS (PARTITION BY c1 ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) GROUP BY c1",
			"q.sql:2:127: expected ';' after statement, found 'GROUP'"},
		{"window with group by, in order",
			"SELECT c1, max(sum(c2) OVER w) AS m FROM t GROUP BY c1 WINDOW w AS (PARTITION BY c1 ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)",
			"q.sql:2:16: sum OVER a window cannot be combined with GROUP BY: compute the window in a subquery, then aggregate its rows in the outer query"},
		{"window beside a whole-table aggregate",
			"SELECT count(*) AS n, sum(c2) OVER w AS s FROM t WINDOW w AS (PARTITION BY c1 ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)",
			"q.sql:2:23: sum OVER a window cannot be combined with a whole-table aggregate (an aggregate without OVER): compute the window in a subquery, then aggregate its rows in the outer query"},
		{"nested", "SELECT c1, max(count(*)) AS m FROM t GROUP BY c1",
			"q.sql:2:16: aggregate count cannot be nested in another aggregate of GROUP BY; aggregate in a subquery, then again in the outer query"},
		{"star", "SELECT * FROM t GROUP BY c1", "q.sql:2:8: * cannot be selected with GROUP BY: list the grouped columns and aggregates"},
		{"count(1) (test_udaf#1)", "SELECT count(1) AS v1 FROM t",
			"q.sql:2:8: count without OVER reads no column, so it aggregates nothing; write count(*) to count rows"},
		{"column beside a whole-table aggregate", "SELECT c1, count(*) AS n FROM t",
			`q.sql:2:8: column "c1" is not aggregated: a query with an aggregate without OVER has one row for the whole table; aggregate the column too, or compute every aggregate OVER a window for a row per input row`},
		{"having without aggregates", "SELECT c1 FROM t HAVING c1 = 'a'",
			`q.sql:2:8: column "c1" is not aggregated: a query with an aggregate without OVER has one row for the whole table; aggregate the column too, or compute every aggregate OVER a window for a row per input row`},
		{"no FROM", "SELECT count(*) AS n", "q.sql:2:8: a whole-table aggregate (an aggregate without OVER) needs a FROM clause"},
		{"aggregate in WHERE", "SELECT count(*) FROM t WHERE sum(c2) > 1", "q.sql:2:30: aggregate sum is not allowed in WHERE"},
		{"DEPLOY of GROUP BY", "DEPLOY d SELECT c1, count(*) AS n FROM t GROUP BY c1",
			"q.sql:2:51: GROUP BY runs offline only, as in OpenMLDB, and cannot be deployed: a deployment computes one row per request, not one per group; run the query offline (SELECT ... INTO OUTFILE), or deploy aggregates OVER a window that partitions by the grouped columns"},
		{"DEPLOY of a whole-table aggregate", "DEPLOY d SELECT sum(c2) AS s FROM t",
			"q.sql:2:17: a whole-table aggregate (an aggregate without OVER) runs offline only, as in OpenMLDB, and cannot be deployed: a deployment computes one row per request, not one per group; run the query offline (SELECT ... INTO OUTFILE), or deploy aggregates OVER a window"},
		{"DEPLOY of a grouped subquery", "DEPLOY d SELECT t.id, q.n FROM t LAST JOIN (SELECT c1, count(*) AS n FROM t GROUP BY c1) AS q ON t.c1 = q.c1",
			"q.sql:2:86: GROUP BY runs offline only, as in OpenMLDB, and cannot be deployed: a deployment computes one row per request, not one per group; run the query offline (SELECT ... INTO OUTFILE), or deploy aggregates OVER a window that partitions by the grouped columns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := featurelang.Compile("q.sql", groupTables+tt.sql+";", featurelang.Options{})
			if err != nil {
				if got, _, _ := strings.Cut(err.Error(), "\n"); got != tt.want {
					t.Errorf("error %q\nwant       %q", got, tt.want)
				}
				return
			}
			p := m.Views[0]
			if got := p.Output.String(); got != tt.want {
				t.Fatalf("output %q, want %q", got, tt.want)
			}
			grouped := false
			plan.Walk(p.Root, func(n *plan.Node) { grouped = grouped || n.Op == plan.Aggregate })
			if batchOnly := p.BatchOnly() != ""; batchOnly != grouped {
				t.Errorf("BatchOnly %q for a plan with aggregate nodes: %v", p.BatchOnly(), grouped)
			}
		})
	}
}

// TestGroupExplain pins how an Aggregate node explains.
func TestGroupExplain(t *testing.T) {
	t.Parallel()
	m, err := featurelang.Compile("q.sql", groupTables+`SELECT c1, count(*) AS n, sum(c2) * 2 AS s FROM t WHERE c2 > 0 GROUP BY c1 HAVING max(d) > 1;
SELECT count(c2) AS n FROM t;`, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`aggregate (group by c1, having (max(d) > 1)): c1 = c1, n = count(), s = (sum(c2) * 2)
  filter (c2 > 0)
    scan t (id int64, c1 string, c2 int32, f float, d double, ts timestamp)
`, `aggregate (whole table): n = count(c2)
  scan t (id int64, c1 string, c2 int32, f float, d double, ts timestamp)
`}
	for i, v := range m.Views {
		if got := plan.Explain(v); got != want[i] {
			t.Errorf("explain:\n%swant:\n%s", got, want[i])
		}
	}
}
