package sidebyside

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	_ "github.com/duckdb/duckdb-go/v2" // the duckdb database/sql driver
)

// execDuckDB runs script, one or more statements, in a new in-memory
// database.
func execDuckDB(ctx context.Context, script string) error {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, script)
	return errors.Join(err, db.Close())
}

// duckVersion returns the DuckDB library's version, such as "v1.5.5".
func duckVersion(ctx context.Context) (string, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return "", err
	}
	defer db.Close()
	var v, id string
	err = db.QueryRowContext(ctx, "SELECT library_version, source_id FROM pragma_version()").Scan(&v, &id)
	return v + " (" + id + ")", err
}

// DataStats describes the generated transactions: what makes the two
// engines' window semantics differ.
type DataStats struct {
	// DuckDB is the DuckDB library's version.
	DuckDB     string
	Rows, Keys int64
	// TieRows are rows sharing their key's timestamp with another row, in
	// TieGroups groups; in TieInverted of them arrival order and tx_id
	// order disagree (so ties must be broken by arrival).
	TieRows, TieGroups, TieInverted int64
	// Late rows arrived after a later row of their key.
	Late int64
}

// dataStats computes DataStats over the tx table of src.
func dataStats(ctx context.Context, src sources) (DataStats, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return DataStats{}, err
	}
	defer db.Close()
	q := fmt.Sprintf(`WITH tx AS (%s),
  groups AS (SELECT count(*) AS n FROM tx GROUP BY card, ts HAVING count(*) > 1),
  ranks AS (
    SELECT row_number() OVER (PARTITION BY card, ts ORDER BY arrival) AS a,
      row_number() OVER (PARTITION BY card, ts ORDER BY tx_id) AS b,
      ts < max(ts) OVER (PARTITION BY card ORDER BY arrival ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS late
    FROM tx)
SELECT (SELECT count(*) FROM tx), (SELECT count(DISTINCT card) FROM tx),
  (SELECT coalesce(sum(n), 0)::BIGINT FROM groups), (SELECT count(*) FROM groups),
  (SELECT count(*) FILTER (WHERE a <> b) FROM ranks), (SELECT count(*) FILTER (WHERE late) FROM ranks)`, src.tx)
	var s DataStats
	if err := db.QueryRowContext(ctx, q).Scan(&s.Rows, &s.Keys, &s.TieRows, &s.TieGroups, &s.TieInverted, &s.Late); err != nil {
		return s, err
	}
	s.DuckDB, err = duckVersion(ctx)
	return s, err
}
