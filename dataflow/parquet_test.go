package dataflow_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/memfs" // memfs://: a file system without random access
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/datafile"
)

// TestBackfillParquet runs the backfill of every feature-script view
// three times in one pipeline on prism: from CSV inputs to CSV, from the
// same rows as Parquet inputs to CSV, and from the Parquet inputs to a
// Parquet output. The two CSV outputs must be identical byte for byte,
// and the Parquet output must read back as the same rows (encoded as CSV,
// byte for byte). One file of each FROM table is on memfs://, which has
// no random access, so the reader copies it to a temporary file first.
func TestBackfillParquet(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p, s := beam.NewPipelineWithRoot()
	type run struct {
		name                 string
		fromCSV, fromParquet string // CSV outputs
		parquet              string // the Parquet output
		schema               types.Schema
	}
	var runs []run
	for i, v := range scriptViews(t) {
		ev, err := eval.New(v.p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ev.Batch(ctx, v.tables); err != nil || v.p.RequestTable == "" {
			continue
		}
		r := run{name: v.name, schema: datafile.TextSchema(v.p.Output),
			fromCSV:     filepath.Join(dir, fmt.Sprintf("v%d_from_csv.csv", i)),
			fromParquet: filepath.Join(dir, fmt.Sprintf("v%d_from_parquet.csv", i)),
			parquet:     filepath.Join(dir, fmt.Sprintf("v%d.parquet", i)),
		}
		csvJob := dataflow.BackfillJob{View: v.p, Buckets: 3, Out: r.fromCSV}
		pqJob := dataflow.BackfillJob{View: v.p, Buckets: 3, Out: r.fromParquet}
		for k, tb := range v.p.Tables {
			blk := v.tables[tb.Name]
			parts := []*types.Block{blk}
			if tb.Name == v.p.RequestTable && blk.Len > 1 {
				parts = []*types.Block{blk.Gather(seq(0, blk.Len/2)), blk.Gather(seq(blk.Len/2, blk.Len))}
			}
			for f, part := range parts {
				csvPath := filepath.Join(dir, fmt.Sprintf("in%d_%d_%d.csv", i, k, f))
				writeFile(t, csvPath, part)
				csvJob.Inputs = append(csvJob.Inputs, dataflow.Input{Table: tb.Name, Path: csvPath})
				pqPath := filepath.Join(dir, fmt.Sprintf("in%d_%d_%d.parquet", i, k, f))
				if f == 0 && len(parts) == 2 {
					pqPath = fmt.Sprintf("memfs://parquet-test/in%d_%d_%d.parquet", i, k, f)
					writeMemfs(t, pqPath, encode(t, pqPath, part))
				} else {
					writeFile(t, pqPath, part)
				}
				pqJob.Inputs = append(pqJob.Inputs, dataflow.Input{Table: tb.Name, Path: pqPath})
			}
		}
		toParquet := pqJob
		toParquet.Out = r.parquet
		for _, j := range []dataflow.BackfillJob{csvJob, pqJob, toParquet} {
			if _, err := dataflow.Backfill(s, j); err != nil {
				t.Fatalf("%s: %v", v.name, err)
			}
		}
		runs = append(runs, r)
	}
	if len(runs) < 8 {
		t.Fatalf("only %d views to backfill", len(runs))
	}
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		want, err := os.ReadFile(r.fromCSV)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(r.fromParquet)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: from Parquet inputs\n%s\nwant (from CSV inputs)\n%s", r.name, got, want)
		}
		if head, err := os.ReadFile(r.parquet); err != nil || !bytes.HasPrefix(head, []byte("PAR1")) {
			t.Fatalf("%s: %s is not a Parquet file (%v)", r.name, r.parquet, err)
		}
		back := readBack(t, r.parquet, r.schema)
		if got := encode(t, "back.csv", back); !bytes.Equal(got, want) {
			t.Errorf("%s: the Parquet output reads back as\n%s\nwant\n%s", r.name, got, want)
		}
	}
	t.Logf("%d views backfilled from CSV and from Parquet, to CSV and to Parquet, identically", len(runs))
}

// writeMemfs writes data to a memfs:// file.
func writeMemfs(t *testing.T, path string, data []byte) {
	t.Helper()
	ctx := context.Background()
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	w, err := fs.OpenWrite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// readBack reads every row of a local data file.
func readBack(t *testing.T, path string, schema types.Schema) *types.Block {
	t.Helper()
	f, err := datafile.OpenFile(path, schema)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := types.NewBlock(schema, 0)
	for {
		_, err := f.Next(b, nil, 1000)
		if err == io.EOF {
			return b
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
