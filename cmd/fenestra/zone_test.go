package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// TestTimeZone backfills timestamp text and date functions in three
// zones: the text is read as wall-clock time in the zone, and hour() and
// date() answer in it. A view compiled in one zone is refused by an
// evaluator in another. (Not parallel: the zone is the process's; it is
// restored at the end.)
func TestTimeZone(t *testing.T) {
	defer types.SetZone(types.DefaultZone)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"t.sql": "CREATE TABLE t (id bigint, ts timestamp);\nDEPLOY v SELECT id, ts, hour(ts) AS h, date(ts) AS d FROM t;\n",
		"t.csv": "id,ts\n1,2024-01-02 03:00:00\n2,2024-07-01 23:30:00\n3,1700000000000\n",
	})
	for _, tc := range []struct{ zone, want string }{
		{"", "id,ts,h,d\n1,1704135600000,3,2024-01-02\n2,1719847800000,23,2024-07-01\n3,1700000000000,6,2023-11-15\n"},
		{"UTC", "id,ts,h,d\n1,1704164400000,3,2024-01-02\n2,1719876600000,23,2024-07-01\n3,1700000000000,22,2023-11-14\n"},
		{"Europe/Paris", "id,ts,h,d\n1,1704160800000,3,2024-01-02\n2,1719869400000,23,2024-07-01\n3,1700000000000,23,2023-11-14\n"},
	} {
		out := filepath.Join(dir, "out"+strings.ReplaceAll(tc.zone, "/", "_")+".csv")
		args := []string{"backfill", "--sql", filepath.Join(dir, "t.sql"), "--table", "t=" + filepath.Join(dir, "t.csv"), "--out", out}
		if tc.zone != "" {
			args = append([]string{"--time-zone", tc.zone}, args...)
		}
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
			t.Fatalf("zone %q: exit %d\n%s", tc.zone, code, stderr.String())
		}
		if got, _ := os.ReadFile(out); string(got) != tc.want {
			t.Errorf("zone %q:\n%s\nwant\n%s", tc.zone, got, tc.want)
		}
	}
	// A view compiled in UTC is refused in the default zone.
	if err := types.SetZone("UTC"); err != nil {
		t.Fatal(err)
	}
	m, err := featurelang.Compile("t.sql", "CREATE TABLE t (ts timestamp);\nDEPLOY v SELECT hour(ts) AS h FROM t;", featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := types.SetZone(types.DefaultZone); err != nil {
		t.Fatal(err)
	}
	if _, err := eval.New(m.Views[0]); err == nil || !strings.Contains(err.Error(),
		"eval: view v was compiled in time zone UTC, and this process evaluates in Asia/Shanghai: run it with --time-zone UTC") {
		t.Errorf("a view of another zone: %v", err)
	}

	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"check", "--time-zone=Mars/Olympus", filepath.Join(dir, "t.sql")}, &stdout, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), `fenestra: --time-zone: time zone "Mars/Olympus": want an IANA name`) {
		t.Errorf("an unknown zone: exit %d\n%s", code, stderr.String())
	}
}
