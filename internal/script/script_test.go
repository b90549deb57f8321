package script_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	beamlog "github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/fenestra-dev/fenestra/examples"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/datafile"
	"github.com/fenestra-dev/fenestra/internal/script"
)

func TestMain(m *testing.M) {
	beamlog.LogLevel = "warn"
	ptest.Main(m)
}

// taxiTable and taxiQuery are the taxi trip duration demo's table and
// feature query, as written in its script (OpenMLDB's
// demo/predict-taxi-trip-duration/script/taxi.sql).
var taxiTable, taxiQuery = func() (string, string) {
	b, err := os.ReadFile("../../featurelang/parser/testdata/openmldb/taxi.sql")
	if err != nil {
		panic(err)
	}
	text := string(b)
	_, table, _ := strings.Cut(text, "CREATE TABLE")
	table, _, _ = strings.Cut(table, ";")
	_, query, _ := strings.Cut(text, "SELECT trip_duration")
	query, _, _ = strings.Cut(query, " INTO OUTFILE")
	return "CREATE TABLE" + table, "SELECT trip_duration" + query
}()

// taxiRows generates n rows of the demo's data shape.
func taxiRows(t *testing.T, n int) *types.Block {
	t.Helper()
	m, err := featurelang.Compile("t.sql", taxiTable, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := examples.GenerateTaxi(m.Tables[0].Schema, n, 13, time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runScript runs text with a fresh state in dir, returning its output
// and error.
func runScript(t *testing.T, dir, text string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cfg := script.Config{StateDir: filepath.Join(dir, "state"), Stdout: &out, Stderr: &out}
	err := script.Run(context.Background(), cfg, "script.sql", text)
	return out.String(), err
}

// TestTaxiOffline runs the offline half of the taxi demo script as
// written (paths edited): LOAD DATA of a snappy Parquet file, SELECT ...
// INTO OUTFILE a directory. The part file must equal the batch
// evaluation of the loaded rows, byte for byte; the same from CSV; and a
// second run that only selects finds the table loaded by the first.
func TestTaxiOffline(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rows := taxiRows(t, 3000)
	pq, csv := filepath.Join(dir, "taxi.snappy.parquet"), filepath.Join(dir, "taxi.csv")
	for _, p := range []string{pq, csv} {
		if err := datafile.WriteFile(p, rows); err != nil {
			t.Fatal(err)
		}
	}
	m, err := featurelang.Compile("q.sql", taxiTable+";\n"+taxiQuery+";", featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := eval.New(m.Views[0])
	if err != nil {
		t.Fatal(err)
	}
	want, err := ev.Batch(context.Background(), map[string]*types.Block{"t1": rows})
	if err != nil {
		t.Fatal(err)
	}
	wantFile := filepath.Join(dir, "want.csv")
	if err := datafile.WriteFile(wantFile, want); err != nil {
		t.Fatal(err)
	}
	wantText, _ := os.ReadFile(wantFile)

	for _, tc := range []struct{ name, load string }{
		{"parquet", `LOAD DATA INFILE '` + pq + `' INTO TABLE t1 options(format='parquet', mode='overwrite')`},
		{"csv", `LOAD DATA INFILE 'file://` + csv + `' INTO TABLE t1 options(format='csv', header=true, mode='overwrite')`},
	} {
		out := filepath.Join(dir, "feature_data_"+tc.name)
		text := "CREATE DATABASE demo_db;\nUSE demo_db;\n" + taxiTable + ";\nSET @@sync_job=true;\nSET @@execute_mode='offline';\n" +
			tc.load + ";\n\n" + taxiQuery + " INTO OUTFILE '" + out + "'\nOPTIONS(mode='overwrite');\n"
		log, err := runScript(t, filepath.Join(dir, tc.name), text)
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.name, err, log)
		}
		got, err := os.ReadFile(filepath.Join(out, "part-00000.csv"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, wantText) {
			t.Errorf("%s: INTO OUTFILE wrote %d bytes that differ from the batch evaluation's %d", tc.name, len(got), len(wantText))
		}
	}

	// A second run that only selects finds the table the first loaded.
	out := filepath.Join(dir, "again.csv")
	if log, err := runScript(t, filepath.Join(dir, "parquet"), "USE demo_db;\n"+taxiQuery+" INTO OUTFILE '"+out+"';"); err != nil {
		t.Fatalf("second run: %v\n%s", err, log)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, wantText) {
		t.Errorf("the second run wrote %d bytes that differ from the batch evaluation's %d", len(got), len(wantText))
	}
}

// TestBadScripts checks that a bad script stops with an error naming the
// statement's line, and that nothing runs: no statement before the bad
// one has an effect (the state and the outputs are untouched).
func TestBadScripts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rows := taxiRows(t, 50)
	pq := filepath.Join(dir, "taxi.parquet")
	if err := datafile.WriteFile(pq, rows); err != nil {
		t.Fatal(err)
	}
	// A Parquet file whose trip_duration is a string.
	bad := types.NewBlock(append(types.Schema{}, rows.Schema...), 1)
	bad.Schema[10].Type = types.String
	bad.Cols[10].Type = types.String
	row := rows.Row(0, nil)
	row[10] = types.StringValue("856")
	bad.AppendRow(row)
	badPq := filepath.Join(dir, "bad.parquet")
	if err := datafile.WriteFile(badPq, bad); err != nil {
		t.Fatal(err)
	}
	existing := filepath.Join(dir, "existing.csv")
	if err := os.WriteFile(existing, []byte("keep me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	head := "CREATE DATABASE d;\nUSE d;\n" + taxiTable + ";\n"
	load := "LOAD DATA INFILE '" + pq + "' INTO TABLE t1 OPTIONS(format='parquet');\n"
	tests := []struct{ name, text, want string }{
		{"unknown statement", head + "CREATE INDEX i ON t1 (id);\n", "script.sql:4:1: unsupported statement"},
		{"missing file", head + "LOAD DATA INFILE '" + dir + "/nope.parquet' INTO TABLE t1 OPTIONS(format='parquet');\n", "script.sql:4:1: " + dir + "/nope.parquet does not exist"},
		{"wrong Parquet type", head + "LOAD DATA INFILE '" + badPq + "' INTO TABLE t1 OPTIONS(format='parquet');\n", "script.sql:4:1: datafile: " + badPq + ": column trip_duration: cannot read Parquet BYTE_ARRAY STRING as int32"},
		{"existing outfile", head + load + "SELECT id FROM t1 INTO OUTFILE '" + existing + "';\n", "script.sql:5:1: " + existing + " exists: use OPTIONS(mode='overwrite')"},
		{"unknown column", head + load + "SELECT nope FROM t1 INTO OUTFILE '" + dir + "/x.csv';\n", "script.sql:5:8: unknown column"},
		{"unknown option", head + "LOAD DATA INFILE '" + pq + "' INTO TABLE t1 OPTIONS(fromat='parquet');\n", `unknown option "fromat"; the options are format, mode`},
		{"online without a store", head + "SET @@execute_mode='online';\n" + load, "script.sql:5:1: LOAD DATA in online mode writes to the online store"},
	}
	for _, tc := range tests {
		state := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
		log, err := runScript(t, state, tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q\n%s", tc.name, err, tc.want, log)
			continue
		}
		if _, serr := os.Stat(filepath.Join(state, "state")); serr == nil {
			t.Errorf("%s: the failed script left a state", tc.name)
		}
		if log != "" {
			t.Errorf("%s: statements ran before the error:\n%s", tc.name, log)
		}
	}
	if got, _ := os.ReadFile(existing); string(got) != "keep me\n" {
		t.Errorf("the existing output was changed: %q", got)
	}
}

// TestShow checks what SHOW and DESC print: tables drawn as OpenMLDB's
// client draws them, from the catalog the script built, across runs.
func TestShow(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := runScript(t, dir, "CREATE DATABASE d; CREATE DATABASE e; USE d;\n"+
		"CREATE TABLE tx (id bigint, card string, amount double, ts timestamp, INDEX(KEY=card, TS=ts, TTL=10d, TTL_TYPE=absolute));\n"+
		"CREATE TABLE e.other (x int);\n"+
		"DEPLOY spend SELECT id, sum(amount) OVER w AS s FROM tx WINDOW w AS (PARTITION BY card ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW);\n"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ sql, want string }{
		{"SHOW DATABASES", " -----------\n  Databases\n -----------\n  d\n  e\n -----------\n2 rows in set\n"},
		{"USE d; SHOW TABLES", " --------\n  Tables\n --------\n  tx\n --------\n1 rows in set\n"},
		{"USE e; SHOW TABLES", " --------\n  Tables\n --------\n  other\n --------\n1 rows in set\n"},
		{"USE d; SHOW DEPLOYMENTS", " ---- ------------\n  DB   Deployment\n ---- ------------\n  d    spend\n ---- ------------\n1 rows in set\n"},
		{"DESC d.tx", "  1   INDEX_0   card   ts   14400min   kAbsoluteTime\n"},
		{"SHOW DEPLOYMENT d.spend", "DEPLOY spend SELECT id, sum(amount) OVER w AS s FROM tx WINDOW w AS (PARTITION BY card ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)\n"},
		{"SHOW CREATE TABLE d.tx", "            INDEX(KEY=(card), TS=ts, TTL=14400m, TTL_TYPE=absolute)\n"},
	} {
		out, err := runScript(t, dir, tc.sql+";")
		if err != nil || !strings.Contains(out, tc.want) {
			t.Errorf("%s: %v\n%s\nwant it to hold\n%s", tc.sql, err, out, tc.want)
		}
	}
}

// TestCSVOptions loads a headerless file delimited by ';' whose NULL is
// null (LOAD DATA's header, delimiter and null_value options) and writes
// a query over it INTO OUTFILE delimited by '|' whose NULL is NA, without
// a header; a second run finds the file's options in the state. Options
// that describe no dialect stop the script with a clear error.
func TestCSVOptions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "tx.csv")
	if err := os.WriteFile(in, []byte("1;a;1.5;1000\n2;null;2;2000\n3;a;null;3000\n4;\"NA\";4;4000\n5;b; 8 ;86401000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const table = "CREATE DATABASE d;\nUSE d;\nCREATE TABLE tx (id bigint, card string, amount double, ts timestamp);\n"
	load := "LOAD DATA INFILE '" + in + "' INTO TABLE tx OPTIONS(format='csv', header=false, delimiter=';', null_value='null');\n"
	query := "SELECT id, card, sum(amount) OVER w AS s FROM tx\n" +
		"WINDOW w AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 1d PRECEDING AND CURRENT ROW)\n"
	const want = "1|a|1.5\n2|NA|2\n3|a|1.5\n4|\"NA\"|4\n5|b|8\n"
	out := filepath.Join(dir, "out.csv")
	state := filepath.Join(dir, "run")
	if log, err := runScript(t, state, table+load+query+"INTO OUTFILE '"+out+"' OPTIONS(delimiter='|', null_value='NA', header=false);\n"); err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if got, _ := os.ReadFile(out); string(got) != want {
		t.Errorf("INTO OUTFILE wrote\n%s\nwant\n%s", got, want)
	}
	again := filepath.Join(dir, "again")
	if log, err := runScript(t, state, "USE d;\n"+query+"INTO OUTFILE '"+again+"' OPTIONS(delimiter='|', null_value='NA', header=false);\n"); err != nil {
		t.Fatalf("second run: %v\n%s", err, log)
	}
	if got, _ := os.ReadFile(filepath.Join(again, "part-00000.csv")); string(got) != want {
		t.Errorf("the second run wrote\n%s\nwant\n%s", got, want)
	}

	loadWith := func(opts string) string {
		return table + "LOAD DATA INFILE '" + in + "' INTO TABLE tx OPTIONS(" + opts + ");\n"
	}
	outWith := func(opts string) string {
		return table + load + query + "INTO OUTFILE '" + filepath.Join(dir, "bad.csv") + "' OPTIONS(" + opts + ");\n"
	}
	bad := []struct{ text, want string }{
		{loadWith("header='maybe'"), "script.sql:4:1: header=maybe: header is true or false"},
		{loadWith("delimiter=';;'"), "script.sql:4:1: delimiter=';;': fenestra takes a delimiter of one ASCII character"},
		{loadWith("delimiter=''"), "script.sql:4:1: delimiter='': fenestra takes a delimiter of one ASCII character"},
		{loadWith("quote=''"), "script.sql:4:1: quote='': fenestra takes a quote of one ASCII character"},
		{loadWith("delimiter='é'"), "script.sql:4:1: delimiter='é': fenestra takes a delimiter of one ASCII character"},
		{loadWith("delimiter=';', quote=';'"), "script.sql:4:1: datafile: the CSV delimiter and quote are both ';'"},
		{loadWith("delimiter='\\n'"), "script.sql:4:1: datafile: the CSV delimiter cannot be LF"},
		{loadWith("delimiter=';', null_value='a;b'"), `script.sql:4:1: datafile: the CSV null value "a;b" holds the delimiter ';'`},
		{loadWith("header=true, delimiter=';'"), "script.sql:4:1: " + in + ":1: column 1: not in the table (id int64, card string, amount double, ts timestamp)"},
		{loadWith("header=false"), "script.sql:4:1: " + in + ":1: 1 fields, the table has 4 columns: id int64, card string, amount double, ts timestamp"},
		{outWith("header=0"), "script.sql:5:1: header=0: header is true or false"},
		{outWith("delimiter='|', quote='|'"), "script.sql:5:1: datafile: the CSV delimiter and quote are both '|'"},
		{outWith("null_value=' NA'"), `script.sql:5:1: datafile: the CSV null value " NA" starts or ends with a space or a tab, which are trimmed around unquoted fields`},
	}
	for i, tc := range bad {
		log, err := runScript(t, filepath.Join(dir, fmt.Sprint("bad", i)), tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q\n%s", tc.text, err, tc.want, log)
		}
	}
}

// TestRequestConfig: SELECT ... CONFIG (execute_mode = 'request', values =
// ...) answers its request rows; without an online store, over the
// tables' offline data. CONFIG's execute_mode overrides @@execute_mode
// for its query alone.
func TestRequestConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "tx.csv")
	if err := os.WriteFile(data, []byte("id,card,amount,ts\n1,a,1.5,1000\n2,a,2,3000\n3,b,7,3000\n4,a,4,9000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const query = "SELECT id, sum(amount) OVER w AS s FROM tx WINDOW w AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 3s PRECEDING AND CURRENT ROW)"
	text := "CREATE TABLE tx (id int, card string, amount double, ts timestamp, INDEX(KEY=card, TS=ts));\n" +
		"LOAD DATA INFILE '" + data + "' INTO TABLE tx OPTIONS(format='csv');\n" +
		"SET @@execute_mode='online';\n" +
		query + " CONFIG (execute_mode = 'request', values = [(10, 'a', 1, timestamp(4000)), (11, 'c', 5, 4000)]);\n" +
		query + " CONFIG (execute_mode = 'offline');\n"
	out, err := runScript(t, dir, text)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{
		"id,s\n10,4.5\n11,5\n",
		"ORD...: 2 request rows answered over the offline data (no online store: give --bigtable to ask it)\n",
		"id,s\n1,1.5\n2,3.5\n3,7\n4,4\n", // the offline query, despite @@execute_mode
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	_, err = runScript(t, filepath.Join(dir, "into"), text[:strings.Index(text, "SET")]+query+
		" CONFIG (execute_mode = 'request', values = (10, 'a', 1, 4000)) INTO OUTFILE '"+filepath.Join(dir, "o.csv")+"';\n")
	if err == nil || !strings.Contains(err.Error(), "script.sql:3:1: INTO OUTFILE writes a query's offline result") {
		t.Errorf("INTO OUTFILE of a request query: %v", err)
	}
}
