package dataflow

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/datafile"
)

// TestWriterOfAFailedRun: once a DoFn of a run failed in this process,
// its writer (which prism may still run, on what reached it) publishes
// no output; the writer of another run does.
func TestWriterOfAFailedRun(t *testing.T) {
	dir := t.TempDir()
	f := &writeFn{Out: filepath.Join(dir, "failed.csv"), Format: datafile.CSV, Schema: types.Schema{{Name: "a", Type: types.Int64}}, Limit: -1, Run: newRunID()}
	if err := failRun(f.Run, errors.New("a bad row")); err == nil {
		t.Fatal("failRun returned no error")
	}
	if _, err := f.write(context.Background(), nil, nil); !errors.Is(err, errRunFailed) {
		t.Errorf("the writer of a failed run: %v, want errRunFailed", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("the writer of a failed run left %s", entries[0].Name())
	}

	f.Out, f.Run = filepath.Join(dir, "ok.csv"), newRunID()
	if _, err := f.write(context.Background(), nil, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(f.Out); err != nil || string(got) != "a\n" {
		t.Errorf("the writer of a run that did not fail wrote %q (%v), want the header", got, err)
	}
}
