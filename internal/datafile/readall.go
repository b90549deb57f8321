package datafile

import (
	"errors"
	"io"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// ReadAll appends every row of the local data file at path (in the format
// its name says, FormatOf; a CSV file in the dialect opts) to b, whose
// schema the file's rows must fit, and, when lines is not nil, the line
// each row starts on (a Parquet row's row number) to *lines. A malformed
// row stops it with a *RowError naming the file and line; the rows before
// it are in b.
func ReadAll(path string, opts CSVOptions, b *types.Block, lines *[]int64) error {
	f, err := OpenFileOptions(path, b.Schema, opts)
	if err != nil {
		return err
	}
	defer f.Close()
	var ls []int64
	for {
		ls = ls[:0]
		_, err := f.Next(b, &ls, 1<<16)
		if lines != nil {
			*lines = append(*lines, ls...)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
