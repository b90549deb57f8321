package verify

import (
	"errors"
	"fmt"
	"io"

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
		if err := readFile(t, schema, f, uint64(k)<<40, &lines); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func readFile(t *Table, schema types.Schema, file File, base uint64, lines *[]int64) error {
	path := file.Path
	r, err := datafile.OpenFileOptions(path, schema, file.CSV)
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		*lines = (*lines)[:0]
		_, err := r.Next(t.Rows, lines, 1<<16)
		for _, l := range *lines {
			t.Seqs = append(t.Seqs, base|uint64(l))
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(t.Seqs) != t.Rows.Len {
			return fmt.Errorf("verify: %s: %d rows but %d line numbers", path, t.Rows.Len, len(t.Seqs))
		}
	}
}
