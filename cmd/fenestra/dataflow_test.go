package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

// writeFiles writes name → content files into dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBackfillCommand runs fenestra backfill on prism. Its expected
// outputs were checked by hand: spend_1d sums card's amounts of the last
// day, both ends included (row 4 is exactly one day after row 1). (Not parallel: pipelines in one process
// share their failure record and progress counts.)
func TestBackfillCommand(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.csv":    "id,card,amount,ts\n1,x,1.5,1000\n2,y,2,2000\n",
		"b.jsonl":  `{"id":3,"card":"x","amount":4,"ts":3000}` + "\n" + `{"id":4,"card":"x","amount":8,"ts":86401000}` + "\n",
		"bad.csv":  "id,card,amount,ts\n1,x,1.5,1000\n2,y,2\n3,x,zz,3000\n4,x,4,4000\n",
		"two.sql":  "CREATE TABLE tx (id bigint, ts timestamp);\nDEPLOY a SELECT id FROM tx;\nDEPLOY b SELECT ts FROM tx;\n",
		"cols.csv": "id,card,amount,ts,extra\n1,x,1,1000,0\n",
	})
	p := func(name string) string { return filepath.Join(dir, name) }
	tests := []struct {
		name   string
		args   []string
		code   int
		out    string // the output file's content, when code is 0
		stdout []string
		stderr []string
	}{
		{name: "csv", args: []string{"--table", "tx=" + p("a.csv"), "--table", "tx=" + p("b.jsonl"), "--out", p("o1.csv")},
			out:    "id,spend_1d\n1,1.5\n2,2\n3,5.5\n4,13.5\n",
			stdout: []string{"backfill: 4 rows read, 0 bad rows skipped, 4 rows written to " + p("o1.csv")}},
		{name: "glob jsonl", args: []string{"--table", "tx=" + p("[ab].*"), "--out", p("o2.jsonl"), "--view", "spend"},
			out: `{"id":1,"spend_1d":1.5}` + "\n" + `{"id":2,"spend_1d":2}` + "\n" + `{"id":3,"spend_1d":5.5}` + "\n" + `{"id":4,"spend_1d":13.5}` + "\n"},
		{name: "bad rows fail", args: []string{"--table", "tx=" + p("bad.csv"), "--out", p("o3.csv")}, code: 1,
			stderr: []string{"fenestra backfill: " + p("bad.csv") + ":3: 3 fields, the header has 4"}},
		{name: "bad rows skip", args: []string{"--table", "tx=" + p("bad.csv"), "--out", p("o4.csv"), "--bad-rows", "skip"},
			out:    "id,spend_1d\n1,1.5\n4,5.5\n",
			stdout: []string{"2 rows read, 2 bad rows skipped, 2 rows written"},
			stderr: []string{"warning: skipping bad row: " + p("bad.csv") + ":4: column amount: "}},
		{name: "unknown column", args: []string{"--table", "tx=" + p("cols.csv"), "--out", p("o5.csv")}, code: 1,
			stderr: []string{p("cols.csv") + ":1: ", "extra"}},
		{name: "no out", args: []string{"--table", "tx=" + p("a.csv")}, code: 2, stderr: []string{"--out is needed"}},
		{name: "bad policy", args: []string{"--table", "tx=" + p("a.csv"), "--out", p("o.csv"), "--bad-rows", "ignore"}, code: 2,
			stderr: []string{"--bad-rows: want fail or skip"}},
		{name: "unknown table", args: []string{"--table", "users=" + p("a.csv"), "--out", p("o.csv")}, code: 2,
			stderr: []string{"has no CREATE TABLE users"}},
		{name: "missing file", args: []string{"--table", "tx=" + p("nope.csv"), "--out", p("o.csv")}, code: 2,
			stderr: []string{"nope.csv", "no such file"}},
		{name: "no glob match", args: []string{"--table", "tx=" + p("*.parquet"), "--out", p("o.csv")}, code: 2,
			stderr: []string{"no file matches"}},
		{name: "bad table flag", args: []string{"--table", "tx", "--out", p("o.csv")}, code: 2,
			stderr: []string{`want NAME=PATH, got "tx"`}},
		{name: "unknown view", args: []string{"--table", "tx=" + p("a.csv"), "--out", p("o.csv"), "--view", "nope"}, code: 2,
			stderr: []string{"has no view nope (it has spend)"}},
		{name: "unknown output format", args: []string{"--table", "tx=" + p("a.csv"), "--out", p("o.txt")}, code: 2,
			stderr: []string{"unknown file format"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"backfill", "--sql", "testdata/ok.sql"}, tt.args...)
			checkRun(t, args, tt.code, tt.stdout, tt.stderr)
			if tt.code != 0 {
				return
			}
			got, err := os.ReadFile(tt.args[indexOf(tt.args, "--out")+1])
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.out {
				t.Errorf("output:\n%s\nwant:\n%s", got, tt.out)
			}
		})
	}
	t.Run("waves", func(t *testing.T) {
		tmp := t.TempDir()
		args := []string{"backfill", "--sql", "testdata/ok.sql", "--table", "tx=" + p("a.csv"), "--table", "tx=" + p("b.jsonl"),
			"--out", p("o6.csv"), "--buckets", "3", "--memory", "1KB", "--tmp-dir", tmp}
		checkRun(t, args, 0, []string{"backfill: 4 rows read, 0 bad rows skipped, 4 rows written to " + p("o6.csv"), "3 waves)"},
			[]string{"backfill: wave 1 of 3: ", "backfill: wave 3 of 3: ", " of runs in " + tmp + "/fenestra-backfill-"})
		if got, _ := os.ReadFile(p("o6.csv")); string(got) != "id,spend_1d\n1,1.5\n2,2\n3,5.5\n4,13.5\n" {
			t.Errorf("output of the waves:\n%s", got)
		}
		if entries, _ := os.ReadDir(tmp); len(entries) > 0 {
			t.Errorf("the waves left %s in --tmp-dir", entries[0].Name())
		}
		checkRun(t, append(args[:len(args)-4], "--memory", "lots"), 2, nil, []string{"fenestra backfill: --memory: want a size such as 512MB or 4GB"})
	})
	t.Run("several views", func(t *testing.T) {
		checkRun(t, []string{"backfill", "--sql", p("two.sql"), "--table", "tx=" + p("a.csv"), "--out", p("o.csv")}, 2, nil,
			[]string{"has 2 views: pick one with --view (a, b)"})
	})
	t.Run("usage", func(t *testing.T) {
		checkRun(t, []string{"backfill", "-h"}, 2, nil, []string{"usage: fenestra backfill", "--runner", "--environment_type", "--bad-rows"})
	})
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// checkRun runs the CLI and checks its exit code and output substrings.
func checkRun(t *testing.T, args []string, code int, stdout, stderr []string) {
	t.Helper()
	c, out, errOut := runCmd(args...)
	if c != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", c, code, out, errOut)
	}
	for _, s := range stdout {
		if !strings.Contains(out, s) {
			t.Errorf("stdout lacks %q:\n%s", s, out)
		}
	}
	for _, s := range stderr {
		if !strings.Contains(errOut, s) {
			t.Errorf("stderr lacks %q:\n%s", s, errOut)
		}
	}
}

// TestMaterializeCommand loads files into an emulator named by
// BIGTABLE_EMULATOR_HOST twice and reads a key back: the second load
// rewrites the same rows. (Not parallel: it sets the environment.)
func TestMaterializeCommand(t *testing.T) {
	addr, stop, err := emulators.StartBigtable("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	t.Setenv("BIGTABLE_EMULATOR_HOST", addr)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.csv":   "id,card,amount,ts\n1,x,1.5,1000\n2,y,2,2000\n",
		"b.jsonl": `{"id":3,"card":"x","amount":4,"ts":1000}` + "\n",
	})
	args := []string{"materialize", "--sql", "testdata/ok.sql", "--table", "tx=" + filepath.Join(dir, "a.csv"), "--table", "tx=" + filepath.Join(dir, "b.jsonl")}
	for range 2 {
		checkRun(t, args, 0, []string{"materialize: 3 rows read, 0 bad rows skipped, 3 rows written to Bigtable local/local"}, nil)
	}
	s, err := bigtable.Open(context.Background(), bigtable.Config{Project: "local", Instance: "local"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Read(context.Background(), storage.Range{Table: "tx", Keys: []string{"card"}, Values: []types.Value{types.StringValue("x")}, From: 0, To: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	// Equal times keep arrival order: a.csv before b.jsonl.
	if want := "[[1 x 1.5 1970-01-01 08:00:01] [3 x 4 1970-01-01 08:00:01]]"; rowsText(got) != want {
		t.Errorf("read back %s, want %s", rowsText(got), want)
	}

	// In waves: the least --memory for which the model asks for 3.
	var size int64
	for _, name := range []string{"a.csv", "b.jsonl"} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		size += info.Size()
	}
	lo, hi := int64(1), int64(1)<<40
	for lo < hi {
		if m := (lo + hi) / 2; dataflow.MaterializeWavesFor(size, m) <= 3 {
			hi = m
		} else {
			lo = m + 1
		}
	}
	if w := dataflow.MaterializeWavesFor(size, lo); w != 3 {
		t.Fatalf("%d waves for --memory %d", w, lo)
	}
	wargs := append(slices.Clone(args), "--prefix", "waves_", "--memory", strconv.FormatInt(lo, 10))
	checkRun(t, wargs, 0, []string{"materialize: 3 rows read, 0 bad rows skipped, 3 rows written to Bigtable local/local", "3 waves)"},
		[]string{"materialize: wave 1 of 3: ", "materialize: wave 3 of 3: ", " rows written, in "})
	ws, err := bigtable.Open(context.Background(), bigtable.Config{Project: "local", Instance: "local", Prefix: "waves_"})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if wgot, err := ws.Read(context.Background(), storage.Range{Table: "tx", Keys: []string{"card"}, Values: []types.Value{types.StringValue("x")}, From: 0, To: 1 << 40}); err != nil || rowsText(wgot) != rowsText(got) {
		t.Errorf("read back after the waves %s (%v), want %s", rowsText(wgot), err, rowsText(got))
	}
	checkRun(t, append(slices.Clone(args), "--memory", "lots"), 2, nil, []string{"fenestra materialize: --memory: want a size such as 512MB or 4GB"})
}

// rowsText renders a block's rows compactly.
func rowsText(b *types.Block) string {
	var rows []string
	for _, r := range b.Rows() {
		var vs []string
		for _, v := range r {
			vs = append(vs, v.String())
		}
		rows = append(rows, "["+strings.Join(vs, " ")+"]")
	}
	return "[" + strings.Join(rows, " ") + "]"
}

// TestTiledViews picks the DEPLOY views materialize writes tiles for:
// those with long windows whose request table is loaded.
func TestTiledViews(t *testing.T) {
	t.Parallel()
	mod, err := featurelang.Compile("f.sql", `CREATE TABLE tx (id bigint, card string, amount double, ts timestamp, INDEX(KEY=card, TS=ts));
CREATE TABLE other (k string, ts timestamp, INDEX(KEY=k, TS=ts));
DEPLOY tiled OPTIONS(long_windows="w:1d") SELECT id, sum(amount) OVER w AS s FROM tx
  WINDOW w AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 30d PRECEDING AND CURRENT ROW);
DEPLOY plain SELECT id, sum(amount) OVER w AS s FROM tx
  WINDOW w AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 30d PRECEDING AND CURRENT ROW);`, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	names := func(vs []*plan.Plan) []string {
		var out []string
		for _, v := range vs {
			out = append(out, v.Name)
		}
		return out
	}
	if got := names(tiledViews(mod, mod.Tables)); !slices.Equal(got, []string{"tiled"}) {
		t.Errorf("with tx loaded: %v, want [tiled]", got)
	}
	if got := names(tiledViews(mod, mod.Tables[1:])); len(got) != 0 {
		t.Errorf("without tx loaded: %v, want none", got)
	}
}

// TestParseSize checks the sizes --memory takes, and its errors.
func TestParseSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
		err  string
	}{
		{in: "512MB", want: 512e6},
		{in: "4GB", want: 4e9},
		{in: "4gb", want: 4e9},
		{in: "1.5GiB", want: 3 << 29},
		{in: "256 MiB", want: 256 << 20},
		{in: "2048", want: 2048},
		{in: "1KB", want: 1000},
		{in: "", err: `want a size such as 512MB or 4GB, got ""`},
		{in: "GB", err: `want a size such as 512MB or 4GB, got "GB"`},
		{in: "lots", err: `want a size such as 512MB or 4GB, got "lots"`},
		{in: "1..5GB", err: `want a size such as 512MB or 4GB`},
		{in: "4G", err: `unknown unit "G" in "4G": want B, KB, MB, GB, TB, KiB, MiB, GiB or TiB`},
		{in: "4 PB", err: `unknown unit "PB"`},
		{in: "-1GB", err: `want a size such as 512MB or 4GB, got "-1GB"`},
		{in: "0", err: `"0" is less than a byte`},
		{in: "0.5B", err: "less than a byte"},
		{in: "9999999TB", err: "too large"},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		switch {
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("parseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("parseSize(%q) = %d, %v; want an error with %q", tt.in, got, err, tt.err)
		}
	}
	if m, err := memoryBudget(""); err != nil || m < 0 {
		t.Errorf("the default budget: %d, %v", m, err)
	}
}
