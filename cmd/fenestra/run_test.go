package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunCommand runs a script through fenestra run twice (the second run
// finds the table the first loaded, in the state directory), then a bad
// one, which fails with the statement's position and runs nothing. (Not
// parallel: pipelines in one process share their progress counts.)
func TestRunCommand(t *testing.T) {
	t.Setenv("BIGTABLE_EMULATOR_HOST", "")
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	writeFiles(t, dir, map[string]string{
		"tx.csv": "id,card,amount,ts\n1,x,1.5,1000\n2,y,2,2000\n3,x,4,3000\n4,x,8,86401000\n",
		"load.sql": "CREATE DATABASE IF NOT EXISTS fraud;\nUSE fraud;\n" +
			"CREATE TABLE tx (id bigint, card string, amount double, ts timestamp);\n" +
			"SET @@execute_mode='offline';\nSET @@spark_config='x';\n" +
			"LOAD DATA INFILE 'file://" + p("tx.csv") + "' INTO TABLE tx OPTIONS(format='csv', header=true);\n" +
			"SHOW TABLES;\n",
		"select.sql": "USE fraud;\nSELECT id, sum(amount) OVER w AS spend_1d FROM tx\n" +
			"WINDOW w AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 1d PRECEDING AND CURRENT ROW)\n" +
			"INTO OUTFILE '" + p("out.csv") + "' OPTIONS(mode='overwrite');\n",
		"deploy.sql": "USE fraud;\nDEPLOY spend SELECT id, sum(amount) OVER w AS spend_1d FROM tx\n" +
			"WINDOW w AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 1d PRECEDING AND CURRENT ROW);\n",
		"bad.sql": "USE fraud;\nSELECT id FROM tx INTO OUTFILE '" + p("other.csv") + "';\nSELECT nope FROM tx;\n",
	})
	run1 := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append([]string{"run"}, args...), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	state := "--state=" + p("state")
	if code, out, errs := run1(p("load.sql"), state); code != 0 || !strings.Contains(out, "1 files registered as the offline data of fraud.tx") ||
		!strings.Contains(out, "\n  tx\n") || !strings.Contains(errs, "load.sql:5: warning: SET @@spark_config has no effect in fenestra: ignored") {
		t.Fatalf("load: exit %d\n%s\n%s", code, out, errs)
	}
	if code, out, errs := run1(p("select.sql"), state); code != 0 || !strings.Contains(out, "backfill: 4 rows read, 0 bad rows skipped, 4 rows written to "+p("out.csv")) {
		t.Fatalf("select: exit %d\n%s\n%s", code, out, errs)
	}
	if got, _ := os.ReadFile(p("out.csv")); string(got) != "id,spend_1d\n1,1.5\n2,2\n3,5.5\n4,13.5\n" { // row 4 is a day after row 1: both ends are in the frame
		t.Errorf("out.csv: %q", got)
	}
	// Deployed without an online store: recorded, and verified from the
	// state (its view over its tables' offline data).
	if code, out, errs := run1(p("deploy.sql"), state); code != 0 || !strings.Contains(errs, "warning: no online store (--bigtable): deployment spend is recorded") {
		t.Fatalf("deploy: exit %d\n%s\n%s", code, out, errs)
	}
	var vout, verr bytes.Buffer
	if code := run(context.Background(), []string{"verify", "--state", p("state"), "--view", "fraud.spend"}, &vout, &verr); code != 0 ||
		!strings.Contains(vout.String(), "online == offline: 4 of 4 rows identical") {
		t.Fatalf("verify --state: exit %d\n%s\n%s", code, vout.String(), verr.String())
	}
	code, out, errs := run1(p("bad.sql"), state)
	if code != 1 || out != "" || !strings.Contains(errs, "bad.sql:3:8: unknown column") {
		t.Errorf("bad: exit %d\n%s\n%s", code, out, errs)
	}
	if _, err := os.Stat(p("other.csv")); err == nil {
		t.Errorf("the bad script ran its first SELECT")
	}
}

// TestRunCSVOptions loads a headerless file delimited by ';' whose NULL
// is null (LOAD DATA's options), writes a query over it INTO OUTFILE
// delimited by '|' whose NULL is NA, deploys the query and verifies the
// deployment from the state: verify reads the file as the script loaded
// it. (Not parallel: pipelines in one process share their progress
// counts.)
func TestRunCSVOptions(t *testing.T) {
	t.Setenv("BIGTABLE_EMULATOR_HOST", "")
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	const features = "SELECT id, card, sum(amount) OVER w AS spend_1d FROM tx\n" +
		"WINDOW w AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 1d PRECEDING AND CURRENT ROW)"
	writeFiles(t, dir, map[string]string{
		"tx.csv": "1;x;1.5;1000\n2;null;2;2000\n3;x;null;3000\n4;\"NA\";8;86401000\n",
		"load.sql": "CREATE DATABASE fraud;\nUSE fraud;\n" +
			"CREATE TABLE tx (id bigint, card string, amount double, ts timestamp);\n" +
			"SET @@execute_mode='offline';\n" +
			"LOAD DATA INFILE '" + p("tx.csv") + "' INTO TABLE tx OPTIONS(format='csv', header=false, delimiter=';', null_value='null');\n" +
			features + "\nINTO OUTFILE '" + p("out.csv") + "' OPTIONS(delimiter='|', null_value='NA', header=false);\n" +
			"DEPLOY spend " + features + ";\n",
	})
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"run", p("load.sql"), "--state=" + p("state")}, &stdout, &stderr); code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	if got, _ := os.ReadFile(p("out.csv")); string(got) != "1|x|1.5\n2|NA|2\n3|x|1.5\n4|\"NA\"|8\n" {
		t.Errorf("out.csv: %q", got)
	}
	var vout, verr bytes.Buffer
	if code := run(context.Background(), []string{"verify", "--state", p("state"), "--view", "fraud.spend"}, &vout, &verr); code != 0 ||
		!strings.Contains(vout.String(), "online == offline: 4 of 4 rows identical") {
		t.Fatalf("verify --state: exit %d\n%s\n%s", code, vout.String(), verr.String())
	}
}
