package featurelang_test

import (
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang"
)

const checkTables = `CREATE TABLE tx (id int, card string, amount double, ts timestamp, INDEX(KEY=card, TS=ts));
CREATE TABLE cards (card string, limit_ double, ts timestamp, INDEX(KEY=card, TS=ts));
`

// TestCheck covers name resolution and the checker's messages for
// constructs a feature view does not support.
func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, sql string
		err       string // substring of the error; empty: must compile
		output    string // the output schema when it compiles
	}{
		{"star", "SELECT * FROM tx", "", "id int32, card string, amount double, ts timestamp"},
		{"qualified star", "SELECT cards.* FROM tx LAST JOIN cards ON tx.card = cards.card", "", "card string, limit_ double, ts timestamp"},
		{"alias and unaliased names", "SELECT id AS i, amount + 1, sum(amount) OVER w FROM tx WINDOW w AS (PARTITION BY card ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)", "",
			"i int32, amount + 1 double, sum(amount)over w double"},
		{"unaliased subquery keeps table names", "SELECT tx.id FROM (SELECT * FROM tx)", "", "id int32"},
		{"aliased subquery", "SELECT s.id FROM (SELECT id FROM tx) AS s", "", "id int32"},
		{"null column is bool", "SELECT NULL AS x FROM tx", "", "x bool"},
		{"constant folding", "SELECT -1 + 2 * 3 AS x", "", "x int32"},
		{"ambiguous", "SELECT card FROM tx LAST JOIN cards ON tx.card = cards.card", `column "card" is ambiguous`, ""},
		{"unknown table", "SELECT id FROM txx", `unknown table "txx"; did you mean tx?`, ""},
		{"group by", "SELECT card, count(id) FROM tx GROUP BY card", "", "card string, count(id) int64"}, // more in group_test.go
		{"distinct", "SELECT DISTINCT card FROM tx", "SELECT DISTINCT is not supported", ""},
		{"order by", "SELECT id FROM tx ORDER BY id", "ORDER BY on a query is not supported", ""},
		{"aggregate without over", "SELECT sum(amount) FROM tx", "", "sum(amount) double"},
		{"aggregate in where", "SELECT id FROM tx WHERE sum(amount) OVER w > 1 WINDOW w AS (PARTITION BY card ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)", "not allowed in WHERE", ""},
		{"where not bool", "SELECT id FROM tx WHERE amount", "WHERE condition must be bool, not double", ""},
		{"nested window mismatch", "SELECT sum(amount - count(id) OVER w2) OVER w1 FROM tx WINDOW w1 AS (PARTITION BY card ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW), w2 AS (PARTITION BY card ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)", "must use that aggregate's window", ""},
		{"window without frame", "SELECT sum(amount) OVER w FROM tx WINDOW w AS (PARTITION BY card ORDER BY ts)", "needs a frame", ""},
		{"union schema", "SELECT sum(amount) OVER w FROM tx WINDOW w AS (UNION cards PARTITION BY card ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)", "UNION source has columns", ""},
		{"following", "SELECT sum(amount) OVER w FROM tx WINDOW w AS (PARTITION BY card ORDER BY ts ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING)", "FOLLOWING frames are not supported", ""},
		{"join kind", "SELECT tx.id FROM tx JOIN cards ON tx.card = cards.card", "JOIN is not supported: use LAST JOIN", ""},
		{"join order type", "SELECT tx.id FROM tx LAST JOIN cards ORDER BY cards.card ON tx.card = cards.card", "a LAST JOIN orders by a timestamp or integer, not string", ""},
		{"limit", "SELECT id FROM tx LIMIT -1", "", ""}, // parser rejects
		{"param", "SELECT id FROM tx WHERE id = ?", "query parameters (?) are not supported", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := featurelang.Compile("q.sql", checkTables+tt.sql+";", featurelang.Options{})
			switch {
			case tt.name == "limit":
				if err == nil {
					t.Error("LIMIT -1 compiled")
				}
			case tt.err != "":
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("got %v, want an error containing %q", err, tt.err)
				}
			case err != nil:
				t.Fatal(err)
			default:
				if got := m.Views[0].Output.String(); got != tt.output {
					t.Errorf("output %q, want %q", got, tt.output)
				}
			}
		})
	}
}
