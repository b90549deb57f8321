package verify

import (
	"fmt"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/datafile"
)

// ReadTable reads a table's files (CSV with a header, JSON Lines or
// Parquet, local paths), in the order given, which is the rows' arrival
// order. A row's sequence number is its file's position times 2^40 plus
// the line it starts on (for Parquet, its row number), as fenestra
// materialize numbers rows, so equal times order as in the backfill. A
// malformed row is an error naming file and line (or row).
func ReadTable(schema types.Schema, paths []string) (*Table, error) {
	files := make([]File, len(paths))
	for i, p := range paths {
		files[i] = File{Path: p}
	}
	return ReadFiles(schema, files)
}

// File is a data file of a table: its local path and, for a CSV file, its
// dialect.
type File struct {
	Path string
	CSV  datafile.CSVOptions
}

// ReadFiles is ReadTable for files whose CSV files may have other
// dialects than the default one.
func ReadFiles(schema types.Schema, files []File) (*Table, error) {
	t := &Table{Rows: types.NewBlock(schema, 0)}
	var lines []int64
	for k, f := range files {
		lines = lines[:0]
		if err := datafile.ReadAll(f.Path, f.CSV, t.Rows, &lines); err != nil {
			return nil, err
		}
		for _, l := range lines {
			t.Seqs = append(t.Seqs, uint64(k)<<40|uint64(l))
		}
		if len(t.Seqs) != t.Rows.Len {
			return nil, fmt.Errorf("verify: %s: %d rows but %d line numbers", f.Path, t.Rows.Len, len(t.Seqs))
		}
	}
	return t, nil
}
