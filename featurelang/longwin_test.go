package featurelang_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
)

const lwTables = `CREATE TABLE tx (id int, card string, amount double, mcc int, d date, ts timestamp, INDEX(KEY=card, TS=ts));
CREATE TABLE cards (card string, limit_ double, ts timestamp, INDEX(KEY=card, TS=ts));
`

// lwWindows are the windows the long-window tests aggregate over.
const lwWindows = ` FROM tx WINDOW w1 AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 10d PRECEDING AND CURRENT ROW),
w2 AS (PARTITION BY card ORDER BY ts ROWS BETWEEN 10 PRECEDING AND CURRENT ROW)`

// TestLongWindowErrors checks every refusal of DEPLOY OPTIONS and of
// long windows: the message and the caret's line and column.
func TestLongWindowErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, sql string
		err       string // substring of the message
		at        string // "line:col" of the caret
	}{
		{"unknown option", `DEPLOY d OPTIONS(long_window="w1:1d") SELECT sum(amount) OVER w1` + lwWindows,
			`unknown DEPLOY option "long_window"`, "3:18"},
		{"option twice", `DEPLOY d OPTIONS(sync="true", SYNC="false") SELECT sum(amount) OVER w1` + lwWindows,
			"DEPLOY option sync is given twice", "3:31"},
		{"not a string", `DEPLOY d OPTIONS(long_windows=1) SELECT sum(amount) OVER w1` + lwWindows,
			"long_windows takes a string", "3:31"},
		{"bad unit", `DEPLOY d OPTIONS(long_windows="w1:2y") SELECT sum(amount) OVER w1` + lwWindows,
			`bucket "2y" must be a positive number of rows or a duration`, "3:35"},
		{"zero bucket", `DEPLOY d OPTIONS(long_windows="w1:0") SELECT sum(amount) OVER w1` + lwWindows,
			`bucket "0"`, "3:35"},
		{"empty bucket", `DEPLOY d OPTIONS(long_windows="w1:") SELECT sum(amount) OVER w1` + lwWindows,
			`bucket ""`, "3:35"},
		{"two colons", `DEPLOY d OPTIONS(long_windows="w1:1d:2") SELECT sum(amount) OVER w1` + lwWindows,
			"more than one ':'", "3:32"},
		{"empty entry", `DEPLOY d OPTIONS(long_windows="w1:1d, ") SELECT sum(amount) OVER w1` + lwWindows,
			`want "window[:bucket]"`, "3:39"},
		{"listed twice", `DEPLOY d OPTIONS(long_windows="w1:1d,W1:1h") SELECT sum(amount) OVER w1` + lwWindows,
			"long_windows lists window W1 twice", "3:38"},
		{"unknown window", `DEPLOY d OPTIONS(long_windows="w1:1d, w9:1h") SELECT sum(amount) OVER w1` + lwWindows,
			"long_windows names window w9, which the query does not define", "3:39"},
		{"no aggregate", `DEPLOY d OPTIONS(long_windows="w2:1d") SELECT sum(amount) OVER w1` + lwWindows,
			"long window w2 has no aggregate over it", "3:32"},
		{"star", `DEPLOY d OPTIONS(long_windows="w1:1d") SELECT id,
  min_where(*, mcc < 4) OVER w1` + lwWindows,
			"long window w1: min_where(*) cannot be pre-aggregated; only count and count_where take *", "4:13"},
		{"expression argument", `DEPLOY d OPTIONS(long_windows="w1:1d") SELECT sum(amount * 2) OVER w1` + lwWindows,
			"the first argument of sum must be a column", "3:51"},
		{"bool column condition", `DEPLOY d OPTIONS(long_windows="w1") SELECT count_where(id, mcc > 1 AND mcc < 5) OVER w1` + lwWindows,
			"the condition of count_where must compare one column with a constant", "3:60"},
		{"two column condition", `DEPLOY d OPTIONS(long_windows="w1") SELECT sum_where(amount, id > mcc) OVER w1` + lwWindows,
			"the condition of sum_where must compare one column with a constant", "3:62"},
		{"function condition", `DEPLOY d OPTIONS(long_windows="w1") SELECT avg_where(amount, if_null(mcc, 0) > 4) OVER w1` + lwWindows,
			"the condition of avg_where must compare one column with a constant", "3:62"},
		{"date filter", `DEPLOY d OPTIONS(long_windows="w1") SELECT max_where(amount, d < "2020-05-04") OVER w1` + lwWindows,
			"max_where cannot filter on d, a date column", "3:62"},
		{"timestamp filter", `DEPLOY d OPTIONS(long_windows="w1") SELECT count_where(id, "2020-05-04 00:00:00" > ts) OVER w1` + lwWindows,
			"count_where cannot filter on ts, a timestamp column", "3:84"},
		{"function condition caret at its start", `DEPLOY d OPTIONS(long_windows="w1") SELECT count_where(id, timestamp("2020-05-04 00:00:00") > ts) OVER w1` + lwWindows,
			"the condition of count_where must compare one column with a constant", "3:60"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := featurelang.Compile("q.sql", lwTables+tt.sql+";", featurelang.Options{})
			if err == nil {
				t.Fatalf("compiled; want an error containing %q", tt.err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "q.sql:"+tt.at+": ") || !strings.Contains(msg, tt.err) {
				t.Errorf("got\n%s\nwant %q at q.sql:%s", msg, tt.err, tt.at)
			}
			if !strings.Contains(msg, "^") {
				t.Errorf("no caret in\n%s", msg)
			}
		})
	}
}

// TestLongWindowTiles checks the tiling decisions the plan records.
func TestLongWindowTiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, options, sql string
		bucketMs, rows     int64  // the first aggregate's window
		tiled              bool   // the first aggregate
		why                string // substring of its raw reason
	}{
		{"sum", "w1:1d", "SELECT sum(amount) OVER w1" + lwWindows, 86_400_000, 0, true, ""},
		{"default bucket", "w1", "SELECT count(*) OVER w1" + lwWindows, 86_400_000, 0, true, ""},
		{"upper-case unit", "w1:2H", "SELECT avg(amount) OVER w1" + lwWindows, 7_200_000, 0, true, ""},
		{"where", "w1:1h", "SELECT count_where(id, mcc = 5411) OVER w1" + lwWindows, 3_600_000, 0, true, ""},
		{"count_where star", "w1:1m", "SELECT count_where(*, 4 > mcc) OVER w1" + lwWindows, 60_000, 0, true, ""},
		{"distinct_count", "w1:30s", "SELECT distinct_count(mcc) OVER w1" + lwWindows, 30_000, 0, true, ""},
		{"expression into distinct_count", "w1:1d", "SELECT distinct_count(mcc + 1) OVER w1" + lwWindows, 86_400_000, 0, true, ""},
		{"topn_frequency", "w1:1d", "SELECT topn_frequency(card, 3) OVER w1" + lwWindows, 86_400_000, 0, true, ""},
		{"top1_ratio", "w1:1d", "SELECT top1_ratio(mcc) OVER w1" + lwWindows, 86_400_000, 0, true, ""},
		{"median", "w1:1d", "SELECT median(amount) OVER w1" + lwWindows, 86_400_000, 0, false, "median has no mergeable per-bucket state"},
		{"lag", "w1:1d", "SELECT lag(amount, 1) OVER w1" + lwWindows, 86_400_000, 0, false, "lag has no mergeable"},
		{"rows bucket", "w1:100", "SELECT sum(amount) OVER w1" + lwWindows, 0, 100, false, "buckets of 100 rows are not tiled"},
		{"rows frame", "w2:1d", "SELECT sum(amount) OVER w2" + lwWindows, 86_400_000, 0, false, "a ROWS frame"},
		{"frame ends before current row", "w:1d", "SELECT sum(amount) OVER w FROM tx WINDOW w AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 10d PRECEDING AND 1h PRECEDING)", 86_400_000, 0, false, "ends before CURRENT ROW"},
		{"unbounded start", "w:1d", "SELECT sum(amount) OVER w FROM tx WINDOW w AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)", 86_400_000, 0, true, ""},
		{"exclude current_time", "w:1d", "SELECT sum(amount) OVER w FROM tx WINDOW w AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 10d PRECEDING AND CURRENT ROW EXCLUDE CURRENT_TIME)", 86_400_000, 0, true, ""},
		{"exclude current_row", "w:1d", "SELECT sum(amount) OVER w FROM tx WINDOW w AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 10d PRECEDING AND CURRENT ROW EXCLUDE CURRENT_ROW)", 86_400_000, 0, false, "EXCLUDE CURRENT_ROW"},
		{"maxsize", "w:1d", "SELECT sum(amount) OVER w FROM tx WINDOW w AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 10d PRECEDING AND CURRENT ROW MAXSIZE 10)", 86_400_000, 0, false, "MAXSIZE"},
		{"union", "w:1d", "SELECT sum(amount) OVER w FROM tx WINDOW w AS (UNION tx PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 10d PRECEDING AND CURRENT ROW)", 86_400_000, 0, false, "WINDOW UNION"},
		{"instance_not_in_window", "w:1d", "SELECT sum(amount) OVER w FROM tx WINDOW w AS (UNION tx PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 10d PRECEDING AND CURRENT ROW INSTANCE_NOT_IN_WINDOW)", 86_400_000, 0, false, "INSTANCE_NOT_IN_WINDOW"},
		{"join column in condition", "w:1d", "SELECT count_where(tx.id, limit_ > 100) OVER w FROM tx LAST JOIN cards ON tx.card = cards.card WINDOW w AS (PARTITION BY tx.card ORDER BY tx.ts ROWS_RANGE BETWEEN 10d PRECEDING AND CURRENT ROW)", 86_400_000, 0, false, "read limit_ from a LAST JOIN"},
		{"own column beside a join", "w:1d", "SELECT sum(amount) OVER w FROM tx LAST JOIN cards ON tx.card = cards.card WINDOW w AS (PARTITION BY tx.card ORDER BY tx.ts ROWS_RANGE BETWEEN 10d PRECEDING AND CURRENT ROW)", 86_400_000, 0, true, ""},
		{"subquery aggregate column", "w:1d", "SELECT sum(s) OVER w FROM (SELECT card, ts, sum(amount) OVER v AS s FROM tx WINDOW v AS (PARTITION BY card ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)) WINDOW w AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 10d PRECEDING AND CURRENT ROW)", 86_400_000, 0, false, "read s, a window aggregate of a subquery"},
		{"partition expression", "w:1d", "SELECT sum(amount) OVER w FROM tx WINDOW w AS (PARTITION BY substr(card, 1, 2) ORDER BY ts ROWS_RANGE BETWEEN 10d PRECEDING AND CURRENT ROW)", 86_400_000, 0, false, "PARTITION BY has an expression"},
		{"plain subquery", "w:1d", "SELECT sum(amount) OVER w FROM (SELECT card, ts, amount FROM tx) WINDOW w AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 10d PRECEDING AND CURRENT ROW)", 86_400_000, 0, false, "come from a subquery"},
		{"where before the window", "w:1d", "SELECT sum(amount) OVER w FROM tx WHERE mcc > 1 WINDOW w AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 10d PRECEDING AND CURRENT ROW)", 86_400_000, 0, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := lwTables + "DEPLOY d OPTIONS(long_windows='" + tt.options + "') " + tt.sql + ";"
			m, err := featurelang.Compile("q.sql", src, featurelang.Options{})
			if err != nil {
				t.Fatal(err)
			}
			p := m.Views[0]
			proj := p.Root
			e := firstAgg(proj)
			if e == nil {
				t.Fatal("no aggregate in the plan")
			}
			w := proj.Windows[e.Window]
			if w.Tiles == nil || w.Tiles.BucketMs != tt.bucketMs || w.Tiles.BucketRows != tt.rows {
				t.Errorf("window tiles %+v, want bucket %d ms / %d rows", w.Tiles, tt.bucketMs, tt.rows)
			}
			switch {
			case e.Tile == nil:
				t.Fatal("no tiling decision on the aggregate")
			case e.Tile.Tiled != tt.tiled:
				t.Errorf("tiled = %v (%s), want %v", e.Tile.Tiled, e.Tile.Why, tt.tiled)
			case !tt.tiled && !strings.Contains(e.Tile.Why, tt.why):
				t.Errorf("reason %q, want it to contain %q", e.Tile.Why, tt.why)
			}
			if p.Options["long_windows"] != tt.options {
				t.Errorf("plan options %v", p.Options)
			}
		})
	}
}

// firstAgg returns the first aggregate of the first Project node on n's
// left-most path.
func firstAgg(n *plan.Node) *plan.Expr {
	for ; n != nil; n = n.Input {
		if n.Op != plan.Project || len(n.Windows) == 0 {
			continue
		}
		var found *plan.Expr
		for _, e := range n.Exprs {
			walkPlan(e, func(x *plan.Expr) {
				if found == nil && x.Op == plan.Agg {
					found = x
				}
			})
		}
		return found
	}
	return nil
}

func walkPlan(e *plan.Expr, f func(*plan.Expr)) {
	f(e)
	for _, a := range e.Args {
		walkPlan(a, f)
	}
}

// TestLongWindowPlan checks that the tiling round-trips through JSON, is
// part of the version, and leaves plans without long windows as they were.
func TestLongWindowPlan(t *testing.T) {
	t.Parallel()
	view := "SELECT sum(amount) OVER w1 AS s, median(amount) OVER w1 AS m" + lwWindows + ";"
	tests := []struct {
		name, deploy string
		tiles        bool
	}{
		{"plain", "DEPLOY d ", false},
		{"other options only", `DEPLOY d OPTIONS(skip_index_check="true", range_bias="inf", rows_bias=10, sync="false") `, false},
		{"long window", `DEPLOY d OPTIONS(long_windows="w1:1d") `, true},
		{"long window, 1h", `DEPLOY d OPTIONS(long_windows="w1:1h") `, true},
	}
	plain := compileOne(t, lwTables+"DEPLOY d "+view)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := compileOne(t, lwTables+tt.deploy+view)
			b, err := plan.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(string(b), `"tiles"`) && strings.Contains(string(b), `"tile"`); got != tt.tiles {
				t.Errorf("tiles in JSON = %v, want %v:\n%s", got, tt.tiles, b)
			}
			back, err := plan.Unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, p) || plan.Version(back) != plan.Version(p) {
				t.Errorf("round trip changed the plan:\n%s", b)
			}
			if tt.name == "plain" {
				if plan.Version(p) != plan.Version(plain) {
					t.Error("recompiling changed the version")
				}
			} else if plan.Version(p) == plan.Version(plain) {
				t.Error("the options kept the version of the plain view")
			}
		})
	}
}

// TestLongWindowCompileQuery checks Options.LongWindows: a query checked
// as if deployed with the option, errors pointing into the option.
func TestLongWindowCompileQuery(t *testing.T) {
	t.Parallel()
	m, err := featurelang.Compile("t.sql", lwTables, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	query := "SELECT sum(amount) OVER w1 AS s" + lwWindows
	tests := []struct {
		name, option, err string
	}{
		{"ok", "w1:2s", ""},
		{"none", "", ""},
		{"unknown window", "w1:2s,w3", "long_windows:1:7: long_windows names window w3"},
		{"bad bucket", "w1:2y", "long_windows:1:4: long window w1: bucket \"2y\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := featurelang.CompileQuery("q.sql", query, m.Tables, featurelang.Options{LongWindows: tt.option})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("got %v, want an error containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tiles := p.Root.Windows[0].Tiles
			if (tiles != nil) != (tt.option != "") || p.Options["long_windows"] != tt.option {
				t.Errorf("tiles %+v, options %v", tiles, p.Options)
			}
		})
	}
}

// TestLongWindowExplain checks explain's line per aggregate.
func TestLongWindowExplain(t *testing.T) {
	t.Parallel()
	p := compileOne(t, lwTables+`DEPLOY d OPTIONS(long_windows="w1:1d, w2:1h") SELECT sum(amount) OVER w1 AS s,
  median(amount) OVER w1 AS m, count(id) OVER w2 AS c, max(amount) OVER w3 AS x`+lwWindows+`,
  w3 AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW);`)
	got := plan.Explain(p)
	for _, want := range []string{
		"window w1: partition by card order by ts rows_range between 10d preceding and current row, long window: 1d buckets\n",
		"  sum(amount) over w1: tiles (window w1, 1d buckets)\n",
		"  median(amount) over w1: raw rows: median has no mergeable per-bucket state",
		"  count(id) over w2: raw rows: a ROWS frame counts rows, while tiles hold time ranges\n",
		"  max(amount) over w3: raw rows: w3 is not a long window\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("explain lacks %q:\n%s", want, got)
		}
	}
	plain := plan.Explain(compileOne(t, lwTables+"SELECT sum(amount) OVER w1 AS s"+lwWindows+";"))
	if strings.Contains(plain, "tiles") || strings.Contains(plain, "raw rows") || strings.Contains(plain, "long window") {
		t.Errorf("explain of a view without long windows mentions tiling:\n%s", plain)
	}
}
