package dataflow_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/dataflow/bucket"
	"github.com/fenestra-dev/fenestra/examples"
	"github.com/fenestra-dev/fenestra/featurelang"
)

// cardsJob writes rows generated rows of the cards example as CSV files
// in dir and returns the backfill of its view into dir/out, and the
// input's size in bytes.
func cardsJob(t *testing.T, dir string, rows int) (dataflow.BackfillJob, int64) {
	t.Helper()
	ex, err := examples.Lookup("cards")
	if err != nil {
		t.Fatal(err)
	}
	tables, err := ex.Generate(examples.Config{Rows: rows, Seed: 7, Start: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	job := dataflow.BackfillJob{Buckets: 6}
	for _, v := range ex.Module.Views {
		if v.Name == ex.View {
			job.View = v
		}
	}
	var size int64
	for _, tb := range ex.Module.Tables {
		path := filepath.Join(dir, tb.Name+".csv")
		writeFile(t, path, tables[tb.Name])
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		size += info.Size()
		job.Inputs = append(job.Inputs, dataflow.Input{Table: tb.Name, Path: path})
	}
	return job, size
}

// backfillOnce runs job in one pipeline and returns its output.
func backfillOnce(t *testing.T, job dataflow.BackfillJob) []byte {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	if _, err := dataflow.Backfill(s, job); err != nil {
		t.Fatal(err)
	}
	if _, err := dataflow.Run(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(job.Out)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkEmpty fails the test if dir holds anything.
func checkEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("%s was left in the temporary directory", e.Name())
	}
}

// TestWavesEqualOneWave backfills generated cards rows (its view reads
// the merchants whole) in one pipeline, then in the waves a tiny memory
// budget asks for, to CSV and to Parquet: the outputs must be the same
// bytes, the waves must read every row once, and leave nothing behind.
func TestWavesEqualOneWave(t *testing.T) {
	dir := t.TempDir()
	job, size := cardsJob(t, dir, 3000)
	waves := dataflow.WavesFor(job, size, 1)
	if waves != job.Buckets {
		t.Fatalf("WavesFor a tiny budget: %d waves, want one per bucket, %d", waves, job.Buckets)
	}
	if n := dataflow.WavesFor(job, size, 1<<30); n != 1 {
		t.Errorf("WavesFor 1 GiB: %d waves for %d bytes, want 1", n, size)
	}
	for _, ext := range []string{".csv", ".parquet"} {
		t.Run(ext, func(t *testing.T) {
			one := job
			one.Out = filepath.Join(dir, "one"+ext)
			before := dataflow.Progress.Read.Load()
			want := backfillOnce(t, one)
			read := dataflow.Progress.Read.Load() - before

			tmp := t.TempDir()
			job.Out = filepath.Join(dir, "waves"+ext)
			var stats []dataflow.WaveStats
			n, err := dataflow.RunWaves(context.Background(), job, waves, tmp, func(s dataflow.WaveStats) { stats = append(stats, s) })
			if err != nil {
				t.Fatal(err)
			}
			if n != 3000 {
				t.Errorf("%d rows written, want 3000", n)
			}
			got, err := os.ReadFile(job.Out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("the output of %d waves differs from one pipeline's (%d bytes, want %d)", waves, len(got), len(want))
			}
			if len(stats) != waves {
				t.Fatalf("%d waves reported, want %d", len(stats), waves)
			}
			var sum int64
			for i, s := range stats {
				if s.N != i || s.Of != waves || s.Read == 0 || s.Runs == 0 {
					t.Errorf("wave %d: %+v", i, s)
				}
				sum += s.Read
			}
			if sum != read {
				t.Errorf("the waves read %d rows, one pipeline %d", sum, read)
			}
			checkEmpty(t, tmp)
		})
	}
}

// TestWavesNoSplit checks that a view whose windows share no partition
// column, which bucket.Plan does not split, runs as one pipeline whatever
// the budget.
func TestWavesNoSplit(t *testing.T) {
	mod, err := featurelang.Compile("nosplit.sql", `CREATE TABLE tx (card string, merchant string, amount double, ts timestamp);
DEPLOY both SELECT card, sum(amount) OVER wc AS by_card, sum(amount) OVER wm AS by_merchant FROM tx
WINDOW wc AS (PARTITION BY card ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW),
       wm AS (PARTITION BY merchant ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW);`, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	view := mod.Views[0]
	if bucket.Plan(view).Split {
		t.Fatal("the view splits")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "tx.csv")
	if err := os.WriteFile(in, []byte("card,merchant,amount,ts\na,m,1,1000\nb,m,2,2000\na,n,4,3000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	job := dataflow.BackfillJob{View: view, Buckets: 8, Out: filepath.Join(dir, "out.csv"), Inputs: []dataflow.Input{{Table: "tx", Path: in}}}
	if n := dataflow.WavesFor(job, 1<<40, 1); n != 1 {
		t.Errorf("WavesFor: %d waves, want 1", n)
	}
	tmp := t.TempDir()
	reported := 0
	if _, err := dataflow.RunWaves(context.Background(), job, 5, tmp, func(dataflow.WaveStats) { reported++ }); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(job.Out)
	if want := "card,by_card,by_merchant\na,1,1\nb,2,3\na,5,4\n"; string(got) != want {
		t.Errorf("output\n%s\nwant\n%s", got, want)
	}
	if reported != 0 {
		t.Errorf("%d waves reported, want none (one pipeline)", reported)
	}
	checkEmpty(t, tmp)
}

// TestWavesFailure checks that a backfill in waves that fails (a bad row,
// or an interrupt) fails as one pipeline does and leaves nothing behind,
// and that skipped bad rows are counted once, not once a wave.
func TestWavesFailure(t *testing.T) {
	mod, err := featurelang.Compile("spend.sql", badRowsSQL, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "tx.csv")
	if err := os.WriteFile(in, []byte("card,amount,ts\na,1,1000\na,2\nb,x,3000\nb,4,4000\nc,8,5000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	job := func(policy dataflow.BadRows) dataflow.BackfillJob {
		return dataflow.BackfillJob{View: mod.Views[0], Buckets: 4, BadRows: policy, Out: filepath.Join(t.TempDir(), "out.csv"),
			Inputs: []dataflow.Input{{Table: "tx", Path: in}}}
	}

	tmp := t.TempDir()
	j := job(dataflow.FailOnBadRows)
	_, err = dataflow.RunWaves(context.Background(), j, 3, tmp, nil)
	if want := in + ":3: 2 fields, the header has 3"; err == nil || err.Error() != want {
		t.Errorf("failing on bad rows: error %v, want %s", err, want)
	}
	if _, err := os.Stat(j.Out); err == nil {
		t.Error("a failed backfill left an output file")
	}
	checkEmpty(t, tmp)

	// Interrupted after the first wave, whose runs are in tmp by then.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runs := int64(0)
	j = job(dataflow.SkipBadRows)
	if _, err := dataflow.RunWaves(ctx, j, 3, tmp, func(s dataflow.WaveStats) { runs = s.Runs; cancel() }); err == nil {
		t.Error("an interrupted backfill did not fail")
	}
	if runs == 0 {
		t.Error("the first wave wrote no runs")
	}
	if _, err := os.Stat(j.Out); err == nil {
		t.Error("an interrupted backfill left an output file")
	}
	checkEmpty(t, tmp)

	j = job(dataflow.SkipBadRows)
	var read, bad int64
	if _, err := dataflow.RunWaves(context.Background(), j, 3, tmp, func(s dataflow.WaveStats) { read, bad = read+s.Read, bad+s.Bad }); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(j.Out)
	if want := "card,s\na,1\nb,4\nc,8\n"; string(got) != want {
		t.Errorf("skipping bad rows: output\n%s\nwant\n%s", got, want)
	}
	if read != 3 || bad != 2 {
		t.Errorf("the waves read %d rows and skipped %d, want 3 and 2", read, bad)
	}
	checkEmpty(t, tmp)
}
