package datafile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// RowReader reads a table's rows from a data file into blocks, whatever the
// file's format: *Reader (CSV, JSON Lines) and *ParquetReader implement it.
//
// Next appends up to max rows to b, which must have the table's column
// types and consistent column lengths, and appends to *lines (unless lines
// is nil) each row's line: the line it starts on in a text file, its
// number (1 for the first row) in a Parquet file. It returns 0 rows and
// io.EOF at the end of the file; on a bad row, the rows before it and a
// *RowError, b holding no part of the bad row, the next call resuming after
// it; on an error of the source, the rows before it and that error, which
// every later call returns too.
type RowReader interface {
	Next(b *types.Block, lines *[]int64, max int) (int, error)
}

var (
	_ RowReader = (*Reader)(nil)
	_ RowReader = (*ParquetReader)(nil)
)

// Open returns a reader of schema's rows from r in format f; name labels
// errors (usually the file's path). CSV and JSON Lines are read
// sequentially (NewReader). Parquet needs random access: r must be an
// io.ReaderAt whose size ReaderAt can learn (an *os.File, a bytes.Reader,
// an io.SectionReader); any other source is an error, and the caller
// should copy it to a temporary file first.
func Open(r io.Reader, name string, f Format, schema types.Schema) (RowReader, error) {
	return OpenOptions(r, name, f, schema, CSVOptions{})
}

// OpenOptions is Open for a CSV file of the dialect opts (which other
// formats ignore): see NewReaderOptions.
func OpenOptions(r io.Reader, name string, f Format, schema types.Schema, opts CSVOptions) (RowReader, error) {
	if f != Parquet {
		return NewReaderOptions(r, name, f, schema, opts)
	}
	ra, size, ok := ReaderAt(r)
	if !ok {
		return nil, fmt.Errorf("datafile: %s: reading a Parquet file needs random access (an io.ReaderAt of known size), not a stream", name)
	}
	return NewParquetReader(ra, size, name, schema)
}

// ReaderAt returns r as an io.ReaderAt with the size of its data, if it
// is one and its size can be learned: from a Size method (bytes.Reader,
// strings.Reader, io.SectionReader) or from Stat when it is a regular file
// (os.File).
func ReaderAt(r io.Reader) (io.ReaderAt, int64, bool) {
	ra, ok := r.(io.ReaderAt)
	if !ok {
		return nil, 0, false
	}
	switch s := r.(type) {
	case interface{ Size() int64 }:
		return ra, s.Size(), true
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := s.Stat(); err == nil && fi.Mode().IsRegular() {
			return ra, fi.Size(), true
		}
	}
	return nil, 0, false
}

// File is a local data file open for reading.
type File struct {
	RowReader
	f *os.File
}

// OpenFile opens the local data file at path for reading schema's rows, in
// the format its name says (FormatOf). The caller closes it.
func OpenFile(path string, schema types.Schema) (*File, error) {
	return OpenFileOptions(path, schema, CSVOptions{})
}

// OpenFileOptions is OpenFile for a CSV file of the dialect opts (which
// other formats ignore): see NewReaderOptions.
func OpenFileOptions(path string, schema types.Schema, opts CSVOptions) (*File, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var src io.Reader = f
	if format != Parquet {
		src = bufio.NewReaderSize(f, 1<<20)
	}
	r, err := OpenOptions(src, path, format, schema, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &File{RowReader: r, f: f}, nil
}

// Close closes the file.
func (f *File) Close() error {
	var err error
	if c, ok := f.RowReader.(io.Closer); ok {
		err = c.Close()
	}
	return errors.Join(err, f.f.Close())
}
