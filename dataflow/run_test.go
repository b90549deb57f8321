package dataflow_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/featurelang"
)

// TestFirstRunsAtOnce runs, in a fresh process, four backfills at once as
// the process's first pipelines: prism starts its job server on its first
// run, and the runs must neither race on where it is (the test binary
// under -race fails on a data race) nor fail.
func TestFirstRunsAtOnce(t *testing.T) {
	if os.Getenv("FENESTRA_FIRST_RUNS") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFirstRunsAtOnce$", "-test.count=1")
		cmd.Env = append(os.Environ(), "FENESTRA_FIRST_RUNS=1")
		out, err := cmd.CombinedOutput()
		if err != nil || bytes.Contains(out, []byte("DATA RACE")) {
			t.Fatalf("four first runs at once in a fresh process: %v\n%s", err, out)
		}
		return
	}
	mod, err := featurelang.Compile("spend.sql", badRowsSQL, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "tx.csv")
	if err := os.WriteFile(in, []byte("card,amount,ts\na,1,1000\na,2,2000\nb,4,1500\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const n = 4
	outs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		outs[i] = filepath.Join(t.TempDir(), "out.csv")
		p, s := beam.NewPipelineWithRoot()
		if _, err := dataflow.Backfill(s, dataflow.BackfillJob{View: mod.Views[0], Out: outs[i],
			Inputs: []dataflow.Input{{Table: "tx", Path: in}}}); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { _, errs[i] = dataflow.Run(context.Background(), p) })
	}
	wg.Wait()
	var first []byte
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("backfill %d: %v", i, errs[i])
		}
		got, err := os.ReadFile(outs[i])
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = got
		}
		if lines := bytes.Count(got, []byte("\n")); lines != 4 || !bytes.Equal(got, first) {
			t.Errorf("backfill %d wrote %d lines:\n%s\nwant the header and 3 rows, as backfill 0:\n%s", i, lines, got, first)
		}
	}
}
