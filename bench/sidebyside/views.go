package sidebyside

import (
	"fmt"
	"strings"

	"github.com/fenestra-dev/fenestra/examples"
)

// A View is one feature view computed by both engines: its feature file for
// fenestra backfill and the DuckDB query that computes the same rows.
type View struct {
	// Name names the view in flags and in the table (three-windows, cards).
	Name string
	// Deploy is the DEPLOY name in the feature file.
	Deploy string
	// Tables are the tables the view reads, the first the FROM table.
	Tables []string
	// SQL is the feature file.
	SQL string
	// duck returns the DuckDB query's body over the given table sources.
	duck func(src sources) string
	// settings are DuckDB settings the query needs besides threads.
	settings []string
}

// sources are FROM-able DuckDB expressions for the example's tables in one
// format, with timestamps as epoch milliseconds (BIGINT) and, for tx, its
// rows' arrival order (position in the file) in the column arrival.
type sources struct {
	tx, cards, merchants string
}

// ordScale makes (ts, arrival) one BIGINT window order: ord = ts*ordScale +
// tie, tie the row's rank among its key's rows at the same ts, in arrival
// order. It leaves room for 2^20 rows of a key at one millisecond and for
// timestamps up to the year 2248.
const ordScale = 1 << 20

// Views returns the benchmark's views, in the order they are run: the
// three windows of cmd/fenestra-load/features.sql over the cards example's
// tx table, and the cards example's card_features.
func Views() ([]*View, error) {
	text, err := examples.FS.ReadFile("cards/features.sql")
	if err != nil {
		return nil, err
	}
	cards := string(text)
	tx, err := createTable(cards, "tx")
	if err != nil {
		return nil, err
	}
	return []*View{
		{
			Name:   "three-windows",
			Deploy: "features",
			Tables: []string{"tx"},
			SQL:    threeWindowsHead + tx + "\n" + threeWindowsDeploy,
			duck:   threeWindowsDuck,
		},
		{
			Name:   "cards",
			Deploy: "card_features",
			Tables: []string{"tx", "cards", "merchants"},
			SQL:    cards,
			duck:   cardsDuck,
			// DuckDB estimates the rows of read_csv low and then plans the
			// ASOF join as a nested loop join (1M x 12K comparisons, about
			// 30 s here); 0 keeps it the sort-merge ASOF join.
			settings: []string{"SET asof_loop_join_threshold = 0;"},
		},
	}, nil
}

// createTable returns the CREATE TABLE statement of table in a feature file.
func createTable(file, table string) (string, error) {
	start := strings.Index(file, "CREATE TABLE "+table+" (")
	if start < 0 {
		return "", fmt.Errorf("sidebyside: no CREATE TABLE %s in the cards example", table)
	}
	end := strings.Index(file[start:], ");")
	if end < 0 {
		return "", fmt.Errorf("sidebyside: CREATE TABLE %s does not end", table)
	}
	return file[start : start+end+2], nil
}

const threeWindowsHead = `-- The view of cmd/fenestra-load/features.sql (the functions issue's load
-- test: a card's spend over 10 days, its count over the last hour and its
-- largest amount over 5 minutes) over the cards example's tx table, whose
-- CREATE TABLE is copied from examples/cards/features.sql.
`

const threeWindowsDeploy = `DEPLOY features
SELECT tx_id,
  sum(amount) OVER w10d AS spend_10d,
  count(amount) OVER w1h AS tx_1h,
  max(amount) OVER w5m AS max_5m
FROM tx
WINDOW
  w10d AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 10d PRECEDING AND CURRENT ROW),
  w1h  AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW),
  w5m  AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 5m PRECEDING AND CURRENT ROW);
`

const (
	msMinute = 60_000
	msHour   = 60 * msMinute
	msDay    = 24 * msHour
)

// ordered is the CTE that gives each tx row (after joins, in the CTE named
// from) its window order ord and its tie rank.
//
// fenestra's window of a row holds its key's rows at or before its time
// and, at an equal time, only those that arrived before it. A DuckDB RANGE
// frame over ts holds every peer, later ones too, and takes a single ORDER
// BY key. So the window order is ord = ts*ordScale + tie, unique within a
// key, and a frame of d milliseconds is RANGE BETWEEN d*ordScale + tie
// PRECEDING AND CURRENT ROW: its lower bound is (ts-d)*ordScale, so it
// holds every row at ts-d or later (fenestra's offsets are inclusive) and,
// at ts, the rows of lower tie only.
func ordered(from string) string {
	return fmt.Sprintf(`ranked AS (
    SELECT *, row_number() OVER (PARTITION BY card, ts ORDER BY arrival) - 1 AS tie
    FROM %s),
  ordered AS (
    SELECT *, ts * %d + tie AS ord FROM ranked)`, from, ordScale)
}

// window is a DuckDB window over the last d milliseconds, ending at the row
// itself, in fenestra's order.
func window(d int64) string {
	return fmt.Sprintf("PARTITION BY card ORDER BY ord RANGE BETWEEN %d + tie PRECEDING AND CURRENT ROW", d*ordScale)
}

func threeWindowsDuck(src sources) string {
	return fmt.Sprintf(`WITH tx AS (%s),
  %s
SELECT tx_id,
  sum(amount) OVER w10d AS spend_10d,
  count(amount) OVER w1h AS tx_1h,
  max(amount) OVER w5m AS max_5m
FROM ordered
WINDOW
  w10d AS (%s),
  w1h AS (%s),
  w5m AS (%s)`, src.tx, ordered("tx"), window(10*msDay), window(msHour), window(5*msMinute))
}

// cardsDuck is card_features: the point-in-time LAST JOIN is an ASOF LEFT
// JOIN (the latest version with updated <= ts; a card has at most one
// version at a time), the LAST JOIN to merchants a LEFT JOIN (merchant is
// unique in merchants), and the windows run over the joined rows, as
// fenestra's do (a window row's cards.home is the one of its own time).
// The CEL conditions become FILTER clauses: CEL's explicit null checks are
// SQL's NULL comparisons, and a condition that errs (amount > 100.0 over a
// NULL amount) counts nothing in either. lag ignores the frame in both.
func cardsDuck(src sources) string {
	return fmt.Sprintf(`WITH tx AS (%s),
  cards AS (%s),
  merchants AS (%s),
  joined AS (
    SELECT tx.*, cards.home, cards.credit_limit, merchants.category
    FROM tx
    ASOF LEFT JOIN cards ON tx.card = cards.card AND tx.ts >= cards.updated
    LEFT JOIN merchants ON tx.merchant = merchants.merchant),
  %s
SELECT tx_id,
  sum(amount) OVER w10d AS spend_10d,
  count(amount) OVER w1h AS tx_1h,
  max(amount) OVER w5m AS max_5m,
  count(DISTINCT merchant) OVER w10d AS merchants_10d,
  count(amount) FILTER (WHERE country <> home AND amount > 100.0) OVER w10d AS abroad_big_10d,
  sum(amount) FILTER (WHERE category = 'online') OVER w1h AS online_1h,
  lag(amount, 1) OVER w AS prev_amount,
  (ts - lag(ts, 1) OVER w) // 1000 AS secs_since_prev,
  CASE WHEN credit_limit IS NULL THEN 0.0 ELSE amount / credit_limit END AS limit_share,
  category
FROM ordered
WINDOW
  w AS (PARTITION BY card ORDER BY ord),
  w10d AS (%s),
  w1h AS (%s),
  w5m AS (%s)`, src.tx, src.cards, src.merchants, ordered("joined"),
		window(10*msDay), window(msHour), window(5*msMinute))
}

// sourcesFor returns the table sources of the data files in dir, written by
// fenestra gen in format.
func sourcesFor(dir, format string) sources {
	p := func(table string) string { return sqlString(dir + "/" + table + "." + format) }
	if format == "parquet" {
		return sources{
			tx: "SELECT tx_id, card, merchant, country, amount, epoch_ms(ts) AS ts, file_row_number AS arrival\n" +
				"    FROM read_parquet(" + p("tx") + ", file_row_number = true)",
			cards:     "SELECT card, home, credit_limit, epoch_ms(updated) AS updated FROM read_parquet(" + p("cards") + ")",
			merchants: "SELECT merchant, category FROM read_parquet(" + p("merchants") + ")",
		}
	}
	csv := func(table, columns string) string {
		return "read_csv(" + p(table) + ", header = true, auto_detect = false,\n" +
			"      columns = {" + columns + "})"
	}
	return sources{
		// row_number() OVER () numbers the rows as read: DuckDB keeps a
		// file's order (preserve_insertion_order, the default).
		tx: "SELECT *, row_number() OVER () AS arrival\n    FROM " +
			csv("tx", "'tx_id': 'BIGINT', 'card': 'VARCHAR', 'merchant': 'VARCHAR', 'country': 'VARCHAR', 'amount': 'DOUBLE', 'ts': 'BIGINT'"),
		cards:     "SELECT * FROM " + csv("cards", "'card': 'VARCHAR', 'home': 'VARCHAR', 'credit_limit': 'DOUBLE', 'updated': 'BIGINT'"),
		merchants: "SELECT * FROM " + csv("merchants", "'merchant': 'VARCHAR', 'category': 'VARCHAR'"),
	}
}

// DuckSQL returns the DuckDB script computing v over the data files in dir
// (format csv or parquet) into the CSV file out, on threads threads. It runs
// as is in the duckdb CLI too.
func (v *View) DuckSQL(dir, format, out string, threads int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "-- %s over %s files: the same rows as fenestra backfill of the view %s.\n", v.Name, format, v.Deploy)
	fmt.Fprintf(&b, "SET threads = %d;\n", threads)
	for _, s := range v.settings {
		b.WriteString(s + "\n")
	}
	fmt.Fprintf(&b, "COPY (\n%s\n) TO %s (FORMAT csv, HEADER true);\n", v.duck(sourcesFor(dir, format)), sqlString(out))
	return b.String()
}

// sqlString quotes s as a SQL string literal.
func sqlString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
