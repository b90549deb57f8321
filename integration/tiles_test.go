package integration

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/examples"
	"github.com/fenestra-dev/fenestra/verify"
)

// TestLongWindowsOnline is the online == offline proof with tiles: the
// cards example deployed with its 10-day window tiled in 1-day buckets
// (spend_10d and merchants_10d from tiles; abroad_big_10d, which reads a
// LAST JOIN, and lag from raw rows), replayed over HTTP in time order,
// each transaction requested then written online. Online writes leave
// tiles stale or missing; requests that read such buckets raw report
// them and the function rebuilds them in the background, so the replay
// mixes tiles, stale tiles and raw rows — and every answer must still
// equal the Beam backfill's.
func TestLongWindowsOnline(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Beam pipelines")
	}
	t.Parallel()
	e, err := examples.Lookup("cards")
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := e.Generate(examples.Config{Rows: 4000, Seed: 12, Start: examples.DefaultStart(time.Now(), e.Days)})
	if err != nil {
		t.Fatal(err)
	}
	sql := cardsLongSQL(t, e.SQL)
	d := writeDataset(t, sql, blocks)
	view := d.view(t, e.View)
	training := d.backfill(t, view)
	url := d.httpFunction(t, d.bigtableWith(t, view.RequestTable))
	h, err := verify.NewHTTP(t.Context(), url, view.Name, "")
	if err != nil {
		t.Fatal(err)
	}
	requireSame(t, "HTTP over tiles", preloaded{h}, view, d.tables(t), training, 4)
	read, rebuilt := metric(t, url, `fenestra_tiles_read_total{view="card_features"}`), metric(t, url, `fenestra_tile_repairs_total{result="rebuilt"}`)
	t.Logf("%v tiles read, %v tiles rebuilt", read, rebuilt)
	if read == 0 || rebuilt == 0 {
		t.Fatalf("%v tiles read, %v rebuilt: the replay did not exercise tiles", read, rebuilt)
	}
}

// cardsLongSQL is the cards example deployed with its 10-day window tiled
// in 1-day buckets. OpenMLDB pre-aggregates a count_where only with a
// column-constant condition, so abroad_big_10d, whose condition is CEL
// over the joined profile, moves to a window of its own with the same
// frame: the same answers.
func cardsLongSQL(t *testing.T, sql string) string {
	t.Helper()
	for _, r := range [][2]string{
		{"DEPLOY card_features", `DEPLOY card_features OPTIONS(long_windows="w10d:1d")`},
		{"OVER w10d AS abroad_big_10d", "OVER w10d_cel AS abroad_big_10d"},
		{"WINDOW\n", "WINDOW\n  w10d_cel AS (PARTITION BY tx.card ORDER BY ts ROWS_RANGE BETWEEN 10d PRECEDING AND CURRENT ROW),\n"},
	} {
		if !strings.Contains(sql, r[0]) {
			t.Fatalf("the cards example has no %q", r[0])
		}
		sql = strings.Replace(sql, r[0], r[1], 1)
	}
	return sql
}

// metric returns the value of a sample of the function's /metrics.
func metric(t *testing.T, url, sample string) float64 {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
