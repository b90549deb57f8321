package dataflow_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/internal/datafile"
)

const badRowsSQL = `CREATE TABLE tx (card string, amount double, ts timestamp, INDEX(KEY=card, TS=ts));
DEPLOY spend SELECT card, sum(amount) OVER w AS s FROM tx
WINDOW w AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW);`

// counter returns the value of a fenestra counter of a pipeline result.
func counter(r beam.PipelineResult, name string) int64 {
	for _, c := range r.Metrics().AllMetrics().Counters() {
		if c.Namespace() == "fenestra" && c.Name() == name {
			return c.Result()
		}
	}
	return -1
}

// TestConcurrentFailures runs backfills of different bad files at once
// in this process: each Run reports its own pipeline's DoFn error.
func TestConcurrentFailures(t *testing.T) {
	mod, err := featurelang.Compile("spend.sql", badRowsSQL, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 4
	errs := make([]error, n)
	ins := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		ins[i] = filepath.Join(t.TempDir(), "tx.csv")
		data := "card,amount,ts\n" + strings.Repeat("a,1,1000\n", i+1) + "a,2\n"
		if err := os.WriteFile(ins[i], []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		p, s := beam.NewPipelineWithRoot()
		if _, err := dataflow.Backfill(s, dataflow.BackfillJob{View: mod.Views[0], Out: filepath.Join(t.TempDir(), "out.csv"),
			Inputs: []dataflow.Input{{Table: "tx", Path: ins[i]}}}); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { _, errs[i] = dataflow.Run(context.Background(), p) })
	}
	wg.Wait()
	for i, err := range errs {
		want := fmt.Sprintf("%s:%d: 2 fields, the header has 3", ins[i], i+3)
		var pe *dataflow.PipelineError
		if !errors.As(err, &pe) || err.Error() != want {
			t.Errorf("backfill %d: %v; want a PipelineError %q", i, err, want)
		}
	}
}

// TestBackfillBadRows checks both policies on a file with two bad rows: a
// wrong field count and an unparsable value. Failing names the file and
// line; skipping writes the other rows and counts the bad ones.
func TestBackfillBadRows(t *testing.T) {
	mod, err := featurelang.Compile("spend.sql", badRowsSQL, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "tx.csv")
	data := "card,amount,ts\na,1,1000\na,2\nb,x,3000\nb,4,4000\n"
	if err := os.WriteFile(in, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(policy dataflow.BadRows) (beam.PipelineResult, string, error) {
		out := filepath.Join(t.TempDir(), "out.csv")
		p, s := beam.NewPipelineWithRoot()
		if _, err := dataflow.Backfill(s, dataflow.BackfillJob{View: mod.Views[0], Out: out, BadRows: policy,
			Inputs: []dataflow.Input{{Table: "tx", Path: in}}}); err != nil {
			t.Fatal(err)
		}
		r, err := dataflow.Run(context.Background(), p)
		got, _ := os.ReadFile(out)
		return r, string(got), err
	}

	_, got, err := run(dataflow.FailOnBadRows)
	if want := in + ":3: 2 fields, the header has 3"; err == nil || err.Error() != want {
		t.Errorf("failing on bad rows: error %v, want one naming %s:3", err, in)
	}
	if got != "" {
		t.Errorf("a failed backfill left an output file:\n%s", got)
	}

	bad, read := dataflow.Progress.Bad.Load(), dataflow.Progress.Read.Load()
	r, got, err := run(dataflow.SkipBadRows)
	if err != nil {
		t.Fatal(err)
	}
	if want := "card,s\na,1\nb,4\n"; got != want {
		t.Errorf("skipping bad rows: output\n%s\nwant\n%s", got, want)
	}
	// Prism now and then reports no counters of a pipeline (on a busy
	// host); the counts of this process's workers stand in, as they do
	// for the commands' summaries (resultCount).
	if n := counterOr(r, "bad_rows", dataflow.Progress.Bad.Load()-bad); n != 2 {
		t.Errorf("bad_rows counter %d, want 2", n)
	}
	if n := counterOr(r, "rows_read", dataflow.Progress.Read.Load()-read); n != 2 {
		t.Errorf("rows_read counter %d, want 2", n)
	}
}

// counterOr is counter, or local when the runner reports no counters.
func counterOr(r beam.PipelineResult, name string, local int64) int64 {
	if n := counter(r, name); n >= 0 {
		return n
	}
	return local
}

// TestBackfillCSVOptions reads a headerless file delimited by ';' whose
// NULL is null, and writes a headerless output delimited by '|' whose NULL
// is NA: a string that reads NA is quoted, one that reads null is not.
// A dialect that is not one is refused before the pipeline runs.
func TestBackfillCSVOptions(t *testing.T) {
	mod, err := featurelang.Compile("spend.sql", badRowsSQL, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "tx.csv"), filepath.Join(dir, "out.csv")
	data := "a;1.5;1000\nnull;2;2000\na;null;3000\n\"null\";4;4000\nNA; 8 ;5000\nc;null;6000\n\"x;y\";16;7000\n"
	if err := os.WriteFile(in, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	job := dataflow.BackfillJob{View: mod.Views[0], Out: out,
		Inputs: []dataflow.Input{{Table: "tx", Path: in, CSV: datafile.CSVOptions{Delimiter: ';', NoHeader: true, NullValue: "null"}}},
		OutCSV: datafile.CSVOptions{Delimiter: '|', NoHeader: true, NullValue: "NA"}}
	p, s := beam.NewPipelineWithRoot()
	if _, err := dataflow.Backfill(s, job); err != nil {
		t.Fatal(err)
	}
	if _, err := dataflow.Run(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	if want := "a|1.5\nNA|2\na|1.5\nnull|4\n\"NA\"|8\nc|NA\nx;y|16\n"; string(got) != want {
		t.Errorf("output\n%s\nwant\n%s", got, want)
	}

	bad := job
	bad.OutCSV = datafile.CSVOptions{Delimiter: '"'}
	_, s = beam.NewPipelineWithRoot()
	if _, err := dataflow.Backfill(s, bad); !errors.Is(err, dataflow.ErrJob) || !strings.Contains(err.Error(), `the CSV delimiter and quote are both '"'`) {
		t.Errorf("a bad output dialect: %v", err)
	}
	bad = job
	bad.Inputs = []dataflow.Input{{Table: "tx", Path: in, CSV: datafile.CSVOptions{NullValue: "a;b", Delimiter: ';'}}}
	_, s = beam.NewPipelineWithRoot()
	if _, err := dataflow.Backfill(s, bad); !errors.Is(err, dataflow.ErrJob) || !strings.Contains(err.Error(), in+`: datafile: the CSV null value "a;b" holds the delimiter ';'`) {
		t.Errorf("a bad input dialect: %v", err)
	}
}
