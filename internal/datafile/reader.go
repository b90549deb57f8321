package datafile

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

const (
	// bufSize is the initial size of a Reader's buffer. The buffer grows
	// (doubling) while one record does not fit, up to maxRecord.
	bufSize = 256 << 10
	// maxRecord bounds the size of one record (one CSV row, one JSON
	// line), so that an unclosed quote cannot read a whole file into memory.
	maxRecord = 64 << 20
)

// Reader reads the rows of a table from a CSV or JSON Lines file into
// blocks. It reads its source in large chunks, calling Read until its
// buffer (256 KiB, more for longer rows) is full or the source ends. A
// Reader is not safe for concurrent use.
type Reader struct {
	src    io.Reader
	name   string
	format Format
	schema types.Schema
	index  map[string]int // column name -> position in schema

	buf      []byte
	pos, end int   // the unread data is buf[pos:end]
	eof      bool  // src has returned io.EOF
	line     int64 // the line number of buf[pos]
	maxRec   int   // the longest record read (maxRecord, smaller in tests)
	err      error // sticky: io.EOF at the end, or an error of src or of the buffer
	fresh    []int // columns whose Nulls slice the current row created

	csv  csvState
	json jsonState
}

// NewReader returns a reader of schema's rows from r, in format f. name
// labels errors (usually the file's path). For CSV it reads the header
// row, and returns a *RowError at the header's line if the header does not
// name every column of schema exactly once. schema must hold scalar types
// only, with distinct names.
func NewReader(r io.Reader, name string, f Format, schema types.Schema) (*Reader, error) {
	return newReader(r, name, f, schema, CSVOptions{}, bufSize, maxRecord)
}

// NewReaderOptions is NewReader for a CSV file of the dialect opts (which
// other formats ignore): without a header row (opts.NoHeader), it reads
// none, and the fields of a row are the schema's columns in order. It
// returns opts.Check's error for a dialect that is not one.
func NewReaderOptions(r io.Reader, name string, f Format, schema types.Schema, opts CSVOptions) (*Reader, error) {
	return newReader(r, name, f, schema, opts, bufSize, maxRecord)
}

// newReader is NewReaderOptions with the buffer's initial and largest size
// (tests use small ones).
func newReader(r io.Reader, name string, f Format, schema types.Schema, opts CSVOptions, size, maxRec int) (*Reader, error) {
	if f == Parquet {
		return nil, fmt.Errorf("datafile: %s: a Parquet file is read with Open or NewParquetReader", name)
	}
	if err := checkSchema(name, f, schema); err != nil {
		return nil, err
	}
	rd := &Reader{
		src: r, name: name, format: f, schema: schema,
		index: make(map[string]int, len(schema)),
		buf:   make([]byte, max(size, 4)), line: 1, maxRec: maxRec,
	}
	if f == CSV {
		if msg := opts.problem(); msg != "" {
			return nil, fmt.Errorf("datafile: %s: %s", name, msg)
		}
		rd.csv.csvCodec = *newCSVCodec(opts)
	}
	for i, fld := range schema {
		rd.index[fld.Name] = i
	}
	if err := rd.fill(); err != nil {
		return nil, err
	}
	if bytes.HasPrefix(rd.buf[:rd.end], []byte("\xef\xbb\xbf")) { // a UTF-8 byte order mark
		rd.pos = 3
	}
	if f == JSONL {
		rd.json.seen = make([]uint64, len(schema))
		for _, fld := range schema {
			rd.json.plain = append(rd.json.plain, string(appendJSONString(nil, fld.Name)) == `"`+fld.Name+`"`)
		}
		return rd, nil
	}
	if err := rd.readHeader(); err != nil {
		return nil, err
	}
	return rd, nil
}

// checkSchema checks that the reader can read schema in format f.
func checkSchema(name string, f Format, schema types.Schema) error {
	if f != CSV && f != JSONL && f != Parquet {
		return fmt.Errorf("datafile: %s: unknown format %v", name, f)
	}
	if f == CSV && len(schema) == 0 {
		return fmt.Errorf("datafile: %s: a CSV file needs at least one column", name)
	}
	seen := make(map[string]bool, len(schema))
	for _, fld := range schema {
		if !fld.Type.IsScalar() || fld.Type == types.Null {
			return fmt.Errorf("datafile: %s: column %s: cannot read values of type %s", name, fld.Name, fld.Type)
		}
		if seen[fld.Name] {
			return fmt.Errorf("datafile: %s: the schema names column %s twice", name, fld.Name)
		}
		seen[fld.Name] = true
	}
	return nil
}

// Next appends up to max rows to b, which must have the reader's column
// types and consistent column lengths, and appends each row's line number
// (the line the row starts on) to *lines unless lines is nil. It returns
// the number of rows appended:
//
//   - at the end of the file it returns 0 rows and io.EOF (a call that
//     reads the last rows returns them with a nil error);
//   - on a bad row it returns the rows appended before it and a *RowError;
//     b holds no part of the bad row, and the next call resumes with the
//     following row;
//   - on an error of the source it returns the rows appended before it and
//     the error, wrapped with the file and line; the reader then keeps
//     returning that error.
func (r *Reader) Next(b *types.Block, lines *[]int64, max int) (int, error) {
	if err := r.checkBlock(b); err != nil {
		return 0, err
	}
	n := 0
	for n < max {
		line, err := r.row(b)
		if err == io.EOF && n > 0 {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
		if lines != nil {
			*lines = append(*lines, line)
		}
	}
	return n, nil
}

// checkBlock checks that b can take the reader's rows.
func (r *Reader) checkBlock(b *types.Block) error { return checkBlock(r.name, r.schema, b) }

// row reads one row into b and returns its line number, a *RowError, or
// the reader's sticky error.
func (r *Reader) row(b *types.Block) (int64, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.format == JSONL {
		return r.jsonRow(b)
	}
	return r.csvRow(b)
}

// fail records a sticky error and returns it.
func (r *Reader) fail(err error) error {
	r.err = err
	return err
}

// errNoProgress is returned when the source keeps returning no data and no
// error.
var errNoProgress = errors.New("datafile: the source returns no data (io.ErrNoProgress)")

// fill moves the unread data to the front of the buffer (growing it when
// the unread data fills it: one record does not fit) and reads from the
// source until the buffer is full or the source ends. The caller is
// re-scanning a record from r.pos, which fill sets to 0.
func (r *Reader) fill() error {
	if r.eof {
		return nil
	}
	if r.pos > 0 {
		r.end = copy(r.buf, r.buf[r.pos:r.end])
		r.pos = 0
	}
	if r.end == len(r.buf) {
		if len(r.buf) >= r.maxRec {
			hint := ""
			if r.format == CSV {
				hint = " (an unclosed quote?)"
			}
			return r.fail(fmt.Errorf("%s:%d: a row longer than %d bytes%s", r.name, r.line, r.maxRec, hint))
		}
		buf := make([]byte, min(2*len(r.buf), r.maxRec))
		copy(buf, r.buf[:r.end])
		r.buf = buf
	}
	for empty := 0; r.end < len(r.buf); {
		n, err := r.src.Read(r.buf[r.end:])
		r.end += n
		switch {
		case err == io.EOF:
			r.eof = true
			return nil
		case err != nil:
			return r.fail(fmt.Errorf("%s:%d: %w", r.name, r.line, err))
		case n > 0:
			empty = 0
		case empty > 100:
			return r.fail(fmt.Errorf("%s:%d: %w", r.name, r.line, errNoProgress))
		default:
			empty++
		}
	}
	return nil
}

// Appending values to block columns. A row's values are appended column
// by column; if one turns out bad, rollback removes the row's values.

// appendNull appends a NULL to column col of b.
func (r *Reader) appendNull(b *types.Block, col int) {
	c := &b.Cols[col]
	if c.Nulls == nil {
		c.Nulls = make([]bool, b.Len, max(2*b.Len, 64))
		r.fresh = append(r.fresh, col)
	}
	c.Nulls = append(c.Nulls, true)
	switch c.Type {
	case types.Float, types.Double:
		c.F = append(c.F, 0)
	case types.String:
		c.S = append(c.S, "")
	default:
		c.I = append(c.I, 0)
	}
}

// appendI appends a value stored in I (integers, bool, timestamp, date).
func appendI(c *types.Column, v int64) {
	c.I = append(c.I, v)
	if c.Nulls != nil {
		c.Nulls = append(c.Nulls, false)
	}
}

// appendF appends a float or double value.
func appendF(c *types.Column, v float64) {
	c.F = append(c.F, v)
	if c.Nulls != nil {
		c.Nulls = append(c.Nulls, false)
	}
}

// appendS appends a string value, copying v.
func appendS(c *types.Column, v []byte) {
	c.S = append(c.S, string(v))
	if c.Nulls != nil {
		c.Nulls = append(c.Nulls, false)
	}
}

// rollback removes the values of a partly appended row from b's columns.
func (r *Reader) rollback(b *types.Block) {
	n := b.Len
	for i := range b.Cols {
		c := &b.Cols[i]
		c.I, c.F, c.S = trunc(c.I, n), trunc(c.F, n), trunc(c.S, n)
		c.Nulls = trunc(c.Nulls, n)
	}
	for _, col := range r.fresh {
		b.Cols[col].Nulls = nil
	}
}

// trunc cuts s to n elements if it is longer.
func trunc[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// appendValue appends the value that text v denotes to c, or returns why
// it cannot (a message for a RowError).
func appendValue(c *types.Column, v []byte) string {
	var st numStatus
	switch c.Type {
	case types.String:
		appendS(c, v)
		return ""
	case types.Int16, types.Int32, types.Int64:
		var i int64
		if i, st = parseIntOf(c.Type, v); st == numOK {
			appendI(c, i)
		}
	case types.Float, types.Double:
		var f float64
		if f, st = parseFloat(c.Type, v); st == numOK {
			appendF(c, f)
		}
	case types.Timestamp:
		var ms int64
		if ms, st = parseTimestamp(v); st == numOK {
			appendI(c, ms)
		}
	case types.Date:
		days, ok := parseDate(v)
		if !ok {
			return cannotRead(quote(v), c.Type, numSyntax)
		}
		appendI(c, days)
	case types.Bool:
		t, ok := parseBool(v)
		if !ok {
			return cannotRead(quote(v), c.Type, numSyntax)
		}
		appendI(c, btoi(t))
	}
	if st != numOK {
		return cannotRead(quote(v), c.Type, st)
	}
	return ""
}

// btoi returns 1 for true and 0 for false.
func btoi(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// cannotRead is the message for a value (as shown) that does not fit t.
func cannotRead(shown string, t types.Type, st numStatus) string {
	if st == numRange {
		return fmt.Sprintf("cannot read %s as %s: out of range", shown, t)
	}
	return fmt.Sprintf("cannot read %s as %s", shown, t)
}
