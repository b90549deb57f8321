package featurelang_test

import (
	"context"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// TestConfigRequest: a query's CONFIG (execute_mode = 'request', values =
// ...) compiles its request rows into the plan, converted to the request
// table's column types as CAST converts them, and Batch answers them in
// request mode over the given tables.
func TestConfigRequest(t *testing.T) {
	t.Parallel()
	m, err := featurelang.Compile("q.sql", checkTables+`
SELECT id, count(amount) OVER w AS n, sum(amount) OVER w AS total FROM tx
WINDOW w AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 10s PRECEDING AND CURRENT ROW)
CONFIG (execute_mode = 'request', values = [(10, 'a', 5, timestamp(4000)), (11, 'b', NULL, '1970-01-01 08:00:09'), (12, 'a', 1.5, 30000)]);`, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := m.Views[0]
	if got := rowsText(types.BlockOf(m.Tables[0].Schema, p.Requests)); got != "10, a, 5, 1970-01-01 08:00:04\n11, b, NULL, 1970-01-01 08:00:09\n12, a, 1.5, 1970-01-01 08:00:30\n" {
		t.Errorf("request rows:\n%s", got)
	}
	ev, err := eval.New(p)
	if err != nil {
		t.Fatal(err)
	}
	stored := types.BlockOf(m.Tables[0].Schema, [][]types.Value{
		{types.IntValue(types.Int32, 1), types.StringValue("a"), types.DoubleValue(1), types.TimestampValue(1000)},
		{types.IntValue(types.Int32, 2), types.StringValue("a"), types.DoubleValue(2), types.TimestampValue(25000)},
		{types.IntValue(types.Int32, 3), types.StringValue("b"), types.DoubleValue(4), types.TimestampValue(8000)},
	})
	out, err := ev.Batch(context.Background(), map[string]*types.Block{"tx": stored, "cards": types.NewBlock(m.Tables[1].Schema, 0)})
	if err != nil {
		t.Fatal(err)
	}
	// Each request sees the stored rows of its key at or before its time,
	// and never the other requests.
	if got := rowsText(out); got != "10, 2, 6\n11, 1, 4\n12, 2, 3.5\n" {
		t.Errorf("answers:\n%s", got)
	}
	if _, _, err := ev.BatchRows(context.Background(), map[string]*types.Block{"tx": stored, "cards": types.NewBlock(m.Tables[1].Schema, 0)}); err == nil || !strings.Contains(err.Error(), "not evaluated in pieces") {
		t.Errorf("BatchRows of a request query: %v", err)
	}
}

// TestConfigErrors: every CONFIG mistake is a positioned error that says
// what to write.
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	const q = "SELECT id FROM tx "
	tests := []struct{ name, config, err string }{
		{"offline is no request", "CONFIG (execute_mode = 'offline')", ""},
		{"online", "CONFIG (execute_mode = 'ONLINE')", ""},
		{"unknown key", "CONFIG (mode = 'request')", `q.sql:3:27: unknown CONFIG key "mode" (CONFIG takes execute_mode and values)`},
		{"bad mode", "CONFIG (execute_mode = 'batch')", `q.sql:3:42: execute_mode takes 'online', 'request' or 'offline'`},
		{"mode not a string", "CONFIG (execute_mode = 1)", `q.sql:3:42: execute_mode takes 'online', 'request' or 'offline'`},
		{"values without request", "CONFIG (values = (1, 'a', 1.0, 1000))", `q.sql:3:27: values are request rows: they need execute_mode = 'request'`},
		{"request without values", "CONFIG (execute_mode = 'request')", `q.sql:3:19: execute_mode = 'request' needs the request rows`},
		{"arity", "CONFIG (execute_mode = 'request', values = [(1, 'a', 1.0, 1000), (2, 'b')])", `q.sql:3:84: request row 2 has 2 values; the request table tx has 4 columns (id int32, card string, amount double, ts timestamp)`},
		{"not a number", "CONFIG (execute_mode = 'request', values = ('x', 'a', 1.0, 1000))", `q.sql:3:63: request value "x" does not fit column id int32`},
		{"not a time", "CONFIG (execute_mode = 'request', values = (1, 'a', 1.0, 'soon'))", `q.sql:3:76: request value "soon" does not fit column ts timestamp`},
		{"column", "CONFIG (execute_mode = 'request', values = (id, 'a', 1.0, 1000))", `q.sql:3:63: unknown column "id"`},
		{"aggregate", "CONFIG (execute_mode = 'request', values = (count(1), 'a', 1.0, 1000))", `not allowed in CONFIG values`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := featurelang.Compile("q.sql", checkTables+q+tt.config+";", featurelang.Options{})
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("%s: %v", tt.config, err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("%s: got %v, want %q", tt.config, err, tt.err)
			}
		})
	}
	for _, sql := range []string{
		"SELECT card, count(*) FROM tx GROUP BY card CONFIG (execute_mode = 'request', values = (1, 'a', 1.0, 1000))",
		"SELECT 1 AS one CONFIG (execute_mode = 'request', values = (1))",
	} {
		_, err := featurelang.Compile("q.sql", checkTables+sql+";", featurelang.Options{})
		if err == nil || (!strings.Contains(err.Error(), "batch mode only") && !strings.Contains(err.Error(), "no FROM table")) {
			t.Errorf("%s: got %v", sql, err)
		}
	}
}

// rowsText renders a block's rows, one line each.
func rowsText(b *types.Block) string {
	var sb strings.Builder
	for _, row := range b.Rows() {
		for i, v := range row {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(v.String())
		}
		sb.WriteString("\n")
	}
	return sb.String()
}
