package verify

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/datafile"
)

// TestReadTableFormats reads the same rows, split over two files, as CSV,
// JSON Lines and Parquet: the same rows, and sequence numbers that order
// them the same way (file position, then line or row number).
func TestReadTableFormats(t *testing.T) {
	t.Parallel()
	schema := types.Schema{{Name: "card", Type: types.String}, {Name: "amount", Type: types.Double}, {Name: "ts", Type: types.Timestamp}}
	b := types.NewBlock(schema, 10)
	for i := range 10 {
		amount := types.DoubleValue(float64(i) / 4)
		if i == 3 {
			amount = types.NullOf(types.Double)
		}
		b.AppendRow([]types.Value{types.StringValue(fmt.Sprintf("c%d", i%3)), amount, types.TimestampValue(int64(1000 * i))})
	}
	dir := t.TempDir()
	var want *Table
	for _, ext := range []string{"csv", "jsonl", "parquet"} {
		var paths []string
		for k, part := range []*types.Block{b.Gather([]int{0, 1, 2, 3}), b.Gather([]int{4, 5, 6, 7, 8, 9})} {
			path := filepath.Join(dir, fmt.Sprintf("t%d.%s", k, ext))
			if err := datafile.WriteFile(path, part); err != nil {
				t.Fatal(err)
			}
			paths = append(paths, path)
		}
		got, err := ReadTable(schema, paths)
		if err != nil {
			t.Fatalf("%s: %v", ext, err)
		}
		if !slices.IsSorted(got.Seqs) || len(got.Seqs) != got.Rows.Len {
			t.Errorf("%s: sequence numbers %v", ext, got.Seqs)
		}
		for i, s := range got.Seqs {
			file, row := uint64(0), uint64(i+1)
			if i >= 4 {
				file, row = 1, uint64(i-3)
			}
			if s>>40 != file || (ext == "parquet" && s&(1<<40-1) != row) {
				t.Errorf("%s: row %d has sequence number %#x, want file %d (row %d)", ext, i, s, file, row)
			}
		}
		if want == nil {
			want = got
			continue
		}
		if fmt.Sprint(got.Rows.Rows()) != fmt.Sprint(want.Rows.Rows()) {
			t.Errorf("%s: rows\n%v\nwant\n%v", ext, got.Rows.Rows(), want.Rows.Rows())
		}
	}
	if _, err := ReadTable(schema, []string{filepath.Join(dir, "t0.parquet"), filepath.Join(dir, "nope.parquet")}); err == nil ||
		!strings.Contains(err.Error(), "nope.parquet") {
		t.Errorf("a missing file: %v", err)
	}
}

// TestReadFilesCSVOptions reads a table from two CSV files of other
// dialects (no header, another delimiter, a null value): the same rows as
// from files of the default dialect.
func TestReadFilesCSVOptions(t *testing.T) {
	t.Parallel()
	schema := types.Schema{{Name: "card", Type: types.String}, {Name: "amount", Type: types.Double}}
	b := types.BlockOf(schema, [][]types.Value{
		{types.StringValue("null"), types.DoubleValue(1.5)},
		{types.NullOf(types.String), types.NullOf(types.Double)},
		{types.StringValue("a;b"), types.DoubleValue(-2)},
	})
	dir := t.TempDir()
	dialects := []datafile.CSVOptions{{Delimiter: ';', NoHeader: true, NullValue: "null"}, {Delimiter: '\t', Quote: '\''}}
	var files []File
	var paths []string
	for k, part := range []*types.Block{b.Gather([]int{0}), b.Gather([]int{1, 2})} {
		for _, d := range []datafile.CSVOptions{{}, dialects[k]} {
			path := filepath.Join(dir, fmt.Sprintf("t%d-%v.csv", k, d != datafile.CSVOptions{}))
			writeCSV(t, path, part, d)
			if d == (datafile.CSVOptions{}) {
				paths = append(paths, path)
			} else {
				files = append(files, File{Path: path, CSV: d})
			}
		}
	}
	want, err := ReadTable(schema, paths)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadFiles(schema, files)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got.Rows.Rows()) != fmt.Sprint(want.Rows.Rows()) || want.Rows.Len != 3 {
		t.Errorf("rows\n%v\nwant\n%v", got.Rows.Rows(), want.Rows.Rows())
	}
	if _, err := ReadFiles(schema, []File{{Path: files[0].Path}}); err == nil {
		t.Error("a headerless file read with a header: no error")
	}
}

// writeCSV writes b to path as CSV of the dialect opts.
func writeCSV(t *testing.T, path string, b *types.Block, opts datafile.CSVOptions) {
	t.Helper()
	var buf bytes.Buffer
	w, err := datafile.NewBlockWriterOptions(&buf, datafile.CSV, b.Schema, opts)
	if err == nil {
		err = errors.Join(w.Write(b), w.Close(), os.WriteFile(path, buf.Bytes(), 0o644))
	}
	if err != nil {
		t.Fatal(err)
	}
}
