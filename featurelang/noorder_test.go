package featurelang_test

import (
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang"
)

// TestWindowWithoutOrder covers the windows without ORDER BY that OpenMLDB
// allows (its WINDOW clause reference; BatchModeTransformer::CheckWindow),
// which take rows in arrival order, and the exact refusal of the others.
// (The differential tests hold request mode to batch mode over them.)
func TestWindowWithoutOrder(t *testing.T) {
	t.Parallel()
	const tables = `CREATE TABLE t (id int, k string, v bigint, ts timestamp, INDEX(KEY=k, TS=ts));
CREATE TABLE u (id int, k string, v bigint, ts timestamp, INDEX(KEY=k, TS=ts));
`
	tests := []struct{ name, window, err string }{
		{"rows", "PARTITION BY k ROWS BETWEEN 2 PRECEDING AND CURRENT ROW", ""},
		{"rows, open, excluding the current row (window_query#24)", "PARTITION BY k ROWS BETWEEN 2 OPEN PRECEDING AND CURRENT ROW EXCLUDE CURRENT_ROW", ""},
		{"rows_range, unbounded (window_query#25)", "PARTITION BY k ROWS_RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW", ""},
		{"rows_range, unbounded, maxsize", "PARTITION BY k ROWS_RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW MAXSIZE 3", ""},
		{"rows_range with an offset", "PARTITION BY k ROWS_RANGE BETWEEN 10s PRECEDING AND CURRENT ROW",
			"q.sql:4:8: window \"w\" needs ORDER BY for a ROWS_RANGE frame with an offset, which is measured on the ORDER BY column (as in OpenMLDB); add ORDER BY a timestamp or bigint column, or use a ROWS frame, or ROWS_RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"},
		{"rows_range ending before the current row", "PARTITION BY k ROWS_RANGE BETWEEN UNBOUNDED PRECEDING AND 1s PRECEDING",
			"q.sql:4:8: window \"w\" needs ORDER BY for a ROWS_RANGE frame with an offset, which is measured on the ORDER BY column (as in OpenMLDB); add ORDER BY a timestamp or bigint column, or use a ROWS frame, or ROWS_RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"},
		{"exclude current_time (error_window#17)", "PARTITION BY k ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW EXCLUDE CURRENT_TIME",
			"q.sql:4:8: window \"w\" needs ORDER BY with EXCLUDE CURRENT_TIME, which compares the ORDER BY values (as in OpenMLDB); add ORDER BY a timestamp or bigint column"},
		{"union", "UNION u PARTITION BY k ROWS BETWEEN 2 PRECEDING AND CURRENT ROW",
			"q.sql:4:8: window \"w\" needs ORDER BY with UNION: the union tables' rows and the table's own have no common arrival order; add ORDER BY a timestamp or bigint column"},
		{"no frame", "PARTITION BY k", `q.sql:4:8: window "w" needs a frame: ROWS or ROWS_RANGE BETWEEN ... AND ...`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sql := tables + "SELECT id, sum(v) OVER w AS s, lag(v, 1) OVER w AS prev FROM t\nWINDOW w AS (" + tt.window + ");"
			_, err := featurelang.Compile("q.sql", sql, featurelang.Options{})
			got := ""
			if err != nil {
				got, _, _ = strings.Cut(err.Error(), "\n")
			}
			if got != tt.err {
				t.Errorf("error %q\nwant  %q", got, tt.err)
			}
		})
	}
}
