package parser

import (
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/diag"
)

// featureFile is a typical feature file: a table and a deployed view.
const featureFile = `-- card transactions
CREATE TABLE IF NOT EXISTS tx (
  card_id string NOT NULL,
  merchant string,
  amount double,
  ts timestamp,
  INDEX(KEY=card_id, TS=ts, TTL=30d, TTL_TYPE=absolute)
);

DEPLOY card_features OPTIONS(long_windows = 'w30d:1d')
SELECT
  card_id,
  sum(amount) OVER w1h AS amount_1h,
  count(*) OVER w1h AS tx_count_1h,
  avg(amount) OVER w30d AS avg_amount_30d,
  distinct_count(merchant) OVER w30d AS merchants_30d,
  CASE WHEN amount > 3 * avg(amount) OVER w30d THEN 1 ELSE 0 END AS spike,
  CEL('amount > 100.0 && merchant.startsWith("m")') AS big
FROM tx
WINDOW w1h AS (PARTITION BY card_id ORDER BY ts ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW),
       w30d AS (PARTITION BY card_id ORDER BY ts ROWS_RANGE BETWEEN 30d PRECEDING AND CURRENT ROW EXCLUDE CURRENT_ROW);
`

func TestFeatureFile(t *testing.T) {
	t.Parallel()
	script, err := Parse(diag.NewSource("features.sql", featureFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(script.Stmts) != 2 {
		t.Fatalf("got %d statements, want 2", len(script.Stmts))
	}
}

func BenchmarkParse(b *testing.B) {
	src := diag.NewSource("features.sql", featureFile)
	b.SetBytes(int64(len(featureFile)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseQueries parses every query of the test table.
func BenchmarkParseQueries(b *testing.B) {
	srcs := make([]*diag.Source, len(queryTests))
	for i, tc := range queryTests {
		srcs[i] = diag.NewSource(tc.name, tc.src)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, src := range srcs {
			if _, err := ParseQuery(src); err != nil {
				b.Fatal(err)
			}
		}
	}
}
