package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/examples"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/functions"
	"github.com/fenestra-dev/fenestra/internal/datafile"
	"github.com/fenestra-dev/fenestra/internal/script"
)

// runScriptFile runs an OpenMLDB script with fenestra run's runner, the
// state in state and the online store on the emulator at emu.
func runScriptFile(t *testing.T, state, emu, name, text string) string {
	t.Helper()
	out, err := tryScript(state, emu, name, text)
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	return out
}

// tryScript is runScriptFile returning the script's error.
func tryScript(state, emu, name, text string) (string, error) {
	var out bytes.Buffer
	cfg := script.Config{StateDir: state, Stdout: &out, Stderr: &out,
		Bigtable: &dataflow.BigtableTarget{Project: "local", Instance: "local", EmulatorHost: emu}}
	err := script.Run(context.Background(), cfg, name, text)
	return out.String(), err
}

// TestTaxiDemo runs OpenMLDB's taxi trip duration demo script as written,
// only its file paths edited, on data of the demo's shape: the offline
// LOAD DATA of a snappy Parquet file, SELECT ... INTO OUTFILE, DEPLOY with
// its OPTIONS and the online LOAD DATA of the CSV, against the Bigtable
// emulator. Then the stored deployment is served (fenestra serve without
// --sql) and answers the demo's request format, POST
// /dbs/demo_db/deployments/demo {"input": [[...]]}, equal bit for bit to
// the batch evaluation of the loaded rows with the request row appended
// last.
func TestTaxiDemo(t *testing.T) {
	t.Parallel()
	text, err := os.ReadFile("../featurelang/parser/testdata/openmldb/taxi.sql")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	emu, stop, err := emulators.StartBigtable("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)

	// The demo's table, as its CREATE TABLE types it.
	state := filepath.Join(dir, "state")
	m, err := featurelang.Compile("t1.sql", between(t, string(text), "CREATE TABLE", ";"), featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	schema := m.Tables[0].Schema
	rows, err := examples.GenerateTaxi(schema, 4000, 7, time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	pq, csv := filepath.Join(dir, "taxi_tour_table_train_simple.snappy.parquet"), filepath.Join(dir, "taxi_tour_table_train_simple.csv")
	for _, p := range []string{pq, csv} {
		if err := datafile.WriteFile(p, rows); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "feature_data")
	edited := strings.NewReplacer(
		"/work/taxi-trip/data/taxi_tour_table_train_simple.snappy.parquet", pq,
		"file:///work/taxi-trip/data/taxi_tour_table_train_simple.csv", "file://"+csv,
		"/tmp/feature_data", out,
	).Replace(string(text))
	log := runScriptFile(t, state, emu, "taxi.sql", edited)
	t.Logf("fenestra run taxi.sql:\n%s", log)

	// The training set is the batch evaluation of the rows.
	st, err := os.ReadFile(filepath.Join(state, "catalog.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cat script.State
	if err := json.Unmarshal(st, &cat); err != nil {
		t.Fatal(err)
	}
	view := cat.Deployments[0].Plan
	ev, err := eval.New(view)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ev.Batch(context.Background(), map[string]*types.Block{"demo_db.t1": rows})
	if err != nil {
		t.Fatal(err)
	}
	wantCSV := filepath.Join(dir, "want.csv")
	if err := datafile.WriteFile(wantCSV, want); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(wantCSV)
	b, err := os.ReadFile(filepath.Join(out, "part-00000.csv"))
	if err != nil || !bytes.Equal(a, b) {
		t.Fatalf("INTO OUTFILE differs from the batch evaluation (%v): %d bytes, want %d", err, len(b), len(a))
	}

	// Serve the stored deployments, as fenestra serve without --sql does.
	store := openStore(t, emu)
	c, err := functions.NewCatalog(context.Background(), store, functions.CatalogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)

	// Requests: new trips after (and among) the loaded ones.
	reqs, err := examples.GenerateTaxi(schema, 40, 99, time.Date(2016, 1, 20, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	answers := types.NewBlock(view.Output, reqs.Len)
	for i := 0; i < reqs.Len; i++ {
		req := reqs.Gather([]int{i})
		with := types.Concat(rows, req)
		all, err := ev.Batch(context.Background(), map[string]*types.Block{"demo_db.t1": with})
		if err != nil {
			t.Fatal(err)
		}
		answers.AppendFrom(all, all.Len-1)
		wantRow := string(datafile.AppendJSONArray(nil, all.Row(all.Len-1, nil)))
		body := `{"input": [` + string(datafile.AppendJSONArray(nil, req.Row(0, nil))) + `]}`
		resp, err := http.Post(srv.URL+"/dbs/demo_db/deployments/demo", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(got), `"data":[`+wantRow+`]`) {
			t.Fatalf("request %d: %d %s\nwant data [%s]", i, resp.StatusCode, got, wantRow)
		}
	}
	t.Logf("%d requests answered equal to the batch evaluation", reqs.Len)

	// The same requests asked as OpenMLDB's SQL asks them, SELECT ...
	// CONFIG (execute_mode = 'request', values = [...]) in a script, are
	// answered from the store with the same values.
	deployed := strings.TrimPrefix(between(t, string(text), "DEPLOY demo OPTIONS(RANGE_BIAS=\"inf\", ROWS_BIAS=\"inf\")", ";"), "DEPLOY demo OPTIONS(RANGE_BIAS=\"inf\", ROWS_BIAS=\"inf\")")
	var values []string
	for i := 0; i < reqs.Len; i++ {
		values = append(values, sqlRow(reqs.Row(i, nil)))
	}
	log = runScriptFile(t, state, emu, "request.sql", "USE demo_db;\n"+deployed+
		"\nCONFIG (execute_mode = 'request', values = ["+strings.Join(values, ",\n")+"]);\n")
	var wantAnswers []byte
	for i := 0; i < answers.Len; i++ {
		wantAnswers = datafile.AppendRow(wantAnswers, datafile.CSV, answers, i)
	}
	if !strings.Contains(log, string(wantAnswers)) || !strings.Contains(log, "40 request rows answered over the online store") {
		t.Errorf("SELECT ... CONFIG (execute_mode = 'request') printed\n%s\nwant the rows\n%s", log, wantAnswers)
	}

	// A second deployment needing an index the stored table lacks is
	// refused before anything runs.
	second := "USE demo_db;\nSET @@execute_mode='online';\nDEPLOY demo2 SELECT id, count(id) OVER w3 AS c FROM t1\n" +
		"WINDOW w3 AS (PARTITION BY store_and_fwd_flag ORDER BY pickup_datetime ROWS BETWEEN 2 PRECEDING AND CURRENT ROW);\n"
	log, err = tryScript(state, emu, "second.sql", second)
	if err == nil || log != "" || !strings.Contains(err.Error(), "second.sql:3:1: the online table demo_db.t1 exists with indexes") ||
		!strings.Contains(err.Error(), "INDEX(KEY=(store_and_fwd_flag), TS=pickup_datetime)") {
		t.Errorf("a deployment needing a new index on a stored table: %v\n%s", err, log)
	}
}

// sqlRow writes a row as a row of SQL literals: (v1, v2, ...).
func sqlRow(row []types.Value) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, v := range row {
		if i > 0 {
			b.WriteString(", ")
		}
		switch {
		case v.Null:
			b.WriteString("NULL")
		case v.Type == types.String:
			b.WriteString(strconv.Quote(v.S))
		case v.Type == types.Timestamp:
			fmt.Fprintf(&b, "timestamp(%d)", v.I)
		case v.Type == types.Double:
			b.WriteString(strconv.FormatFloat(v.F, 'f', -1, 64))
		default:
			b.WriteString(v.String())
		}
	}
	b.WriteByte(')')
	return b.String()
}

// between returns the text of s from the first from to the next to
// after it (not included).
func between(t *testing.T, s, from, to string) string {
	t.Helper()
	i := strings.Index(s, from)
	if i < 0 {
		t.Fatalf("no %q", from)
	}
	j := strings.Index(s[i:], to)
	if j < 0 {
		t.Fatalf("no %q after %q", to, from)
	}
	return s[i : i+j]
}
