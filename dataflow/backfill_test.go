package dataflow_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	beamlog "github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/fenestra-dev/fenestra/conformance"
	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/datafile"
)

func TestMain(m *testing.M) {
	beamlog.LogLevel = "warn" // the runner's progress messages are noise here
	ptest.Main(m)
}

// view is a backfill to check: a view, its tables and the output the
// in-process batch evaluator gives for them, encoded.
type view struct {
	name   string
	p      *plan.Plan
	tables map[string]*types.Block
}

// scriptViews returns the views of the project's feature scripts.
func scriptViews(t *testing.T) []view {
	t.Helper()
	scripts, err := filepath.Glob("../testdata/features/*.txt")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no feature scripts: %v", err)
	}
	var out []view
	for _, path := range scripts {
		mod, tables, err := conformance.LoadScript(path)
		if err != nil {
			continue // scripts of expected errors
		}
		for _, v := range mod.Views {
			out = append(out, view{filepath.Base(path) + ":" + v.Name, v, tables})
		}
	}
	return out
}

// caseViews returns the batch cases of the window, window_union and
// last_join categories of the OpenMLDB suite (none when it is absent).
func caseViews(t *testing.T) []view {
	t.Helper()
	path, err := conformance.SharedCases()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Logf("conformance cases not found at %s: checking the feature scripts only", path)
		return nil
	}
	cases, err := conformance.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []view
	for _, c := range cases {
		switch c.Category {
		case "window", "window_union", "last_join":
		default:
			continue
		}
		if !c.Runnable(conformance.Batch) {
			continue
		}
		p, tables, err := c.BatchInput()
		if err != nil {
			continue // the conformance suite reports cases that do not compile
		}
		out = append(out, view{c.ID, p, tables})
	}
	return out
}

// Other CSV dialects than the default, as OpenMLDB's LOAD DATA and INTO
// OUTFILE options give them: every third job reads and writes its CSV
// files in these.
var (
	inDialect  = datafile.CSVOptions{Delimiter: ';', Quote: '\'', NoHeader: true, NullValue: "null"}
	outDialect = datafile.CSVOptions{Delimiter: '|', NoHeader: true, NullValue: "NA"}
)

// job writes v's tables under dir — alternately as CSV and JSON Lines,
// the FROM table in two files, every third job's CSV files in other
// dialects — and returns the backfill of v into dir.
func job(t *testing.T, dir string, i int, v view, buckets int) dataflow.BackfillJob {
	t.Helper()
	j := dataflow.BackfillJob{View: v.p, Buckets: buckets, Out: filepath.Join(dir, fmt.Sprintf("out%d.csv", i))}
	if i%2 == 1 {
		j.Out = filepath.Join(dir, fmt.Sprintf("out%d.jsonl", i))
	}
	var in datafile.CSVOptions
	if i%3 == 2 {
		in, j.OutCSV = inDialect, outDialect
	}
	for k, tb := range v.p.Tables {
		blk := v.tables[tb.Name]
		ext := []string{".csv", ".jsonl"}[(i+k)%2]
		parts := []*types.Block{blk}
		if tb.Name == v.p.RequestTable && blk.Len > 1 {
			parts = []*types.Block{blk.Gather(seq(0, blk.Len/2)), blk.Gather(seq(blk.Len/2, blk.Len))}
		}
		for f, part := range parts {
			path := filepath.Join(dir, fmt.Sprintf("in%d_%d_%d%s", i, k, f, ext))
			if err := os.WriteFile(path, encodeOptions(t, path, part, in), 0o644); err != nil {
				t.Fatal(err)
			}
			j.Inputs = append(j.Inputs, dataflow.Input{Table: tb.Name, Path: path, CSV: in})
		}
	}
	return j
}

func seq(lo, hi int) []int {
	out := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}

func writeFile(t *testing.T, path string, b *types.Block) {
	t.Helper()
	if err := os.WriteFile(path, encode(t, path, b), 0o644); err != nil {
		t.Fatal(err)
	}
}

// encode renders b as the file path names would hold it.
func encode(t *testing.T, path string, b *types.Block) []byte {
	t.Helper()
	return encodeOptions(t, path, b, datafile.CSVOptions{})
}

// encodeOptions is encode with the CSV dialect opts.
func encodeOptions(t *testing.T, path string, b *types.Block, opts datafile.CSVOptions) []byte {
	t.Helper()
	f, err := datafile.FormatOf(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := datafile.NewBlockWriterOptions(&buf, f, b.Schema, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBackfillEqualsBatch runs the backfill of every feature-script view
// and every window, window_union and last_join batch case through one Beam
// pipeline on prism, in three buckets, and requires each output file to be
// byte for byte the in-process batch evaluator's rows, encoded (in the
// job's CSV dialect).
func TestBackfillEqualsBatch(t *testing.T) {
	scripts := scriptViews(t)
	views := append(scripts, caseViews(t)...)
	dir := t.TempDir()
	ctx := context.Background()
	p, s := beam.NewPipelineWithRoot()
	var jobs []dataflow.BackfillJob
	var want [][]byte
	var names []string
	for i, v := range views {
		ev, err := eval.New(v.p)
		if err != nil {
			t.Fatal(err)
		}
		out, err := ev.Batch(ctx, v.tables)
		if err != nil || v.p.RequestTable == "" {
			continue // inputs the evaluator rejects are the conformance suite's business
		}
		j := job(t, dir, i, v, 3)
		if v.p.Requests != nil { // CONFIG (execute_mode = 'request'): answers requests, is no backfill
			if _, err := dataflow.Backfill(s, j); !errors.Is(err, dataflow.ErrJob) || !strings.Contains(err.Error(), "not evaluated in pieces") {
				t.Errorf("%s: the backfill of a request query: %v", v.name, err)
			}
			continue
		}
		if _, err := dataflow.Backfill(s, j); err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
		jobs = append(jobs, j)
		want = append(want, encodeOptions(t, j.Out, out, j.OutCSV))
		names = append(names, v.name)
	}
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}
	for i, j := range jobs {
		got, err := os.ReadFile(j.Out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want[i]) {
			t.Errorf("%s: backfill output differs from batch mode\n--- batch\n%s--- backfill\n%s", names[i], want[i], got)
		}
	}
	// The part files and the files of tables read whole are gone.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("a backfill left %s behind", e.Name())
		}
	}
	fromScripts := 0
	for _, n := range names {
		if strings.Contains(n, ".txt:") {
			fromScripts++
		}
	}
	t.Logf("%d backfills identical to batch mode (%d feature-script views, %d conformance cases)", len(jobs), fromScripts, len(jobs)-fromScripts)
	if len(jobs) < 8 {
		t.Errorf("only %d backfills ran", len(jobs))
	}
}
