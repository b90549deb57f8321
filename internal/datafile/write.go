package datafile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// AppendHeader appends the header of a file of schema's rows to dst: for
// CSV the column names and a newline, for JSONL nothing. It panics if f is
// not a Format.
func AppendHeader(dst []byte, f Format, schema types.Schema) []byte {
	switch f {
	case JSONL:
		return dst
	case CSV:
		return defaultCSV.appendHeader(dst, schema)
	}
	panic(fmt.Sprintf("datafile: AppendHeader of unknown format %v", f))
}

// AppendRow appends row i of b, and a newline, to dst in format f (JSONL
// keys are the names in b.Schema). It panics if f is not a Format or row i
// does not exist.
func AppendRow(dst []byte, f Format, b *types.Block, i int) []byte {
	switch f {
	case CSV:
		return defaultCSV.appendRow(dst, b, i)
	case JSONL:
		return appendJSONRow(dst, b, i, nil)
	}
	panic(fmt.Sprintf("datafile: AppendRow of unknown format %v", f))
}

// RowEncoder writes rows as the lines of a text file: CSV of a dialect,
// or JSON Lines. AppendHeader and AppendRow are the encoder of the zero
// CSVOptions. A RowEncoder is immutable and safe for concurrent use.
type RowEncoder struct {
	f   Format
	csv *csvCodec
}

// NewRowEncoder returns the encoder of format f, CSV or JSONL, with the
// CSV dialect opts (which JSON Lines ignores). It returns an error for
// another format, or a dialect that is not one (CSVOptions.Check).
func NewRowEncoder(f Format, opts CSVOptions) (*RowEncoder, error) {
	switch f {
	case CSV:
		if err := opts.Check(); err != nil {
			return nil, err
		}
		return &RowEncoder{f: f, csv: newCSVCodec(opts)}, nil
	case JSONL:
		return &RowEncoder{f: f}, nil
	}
	return nil, fmt.Errorf("datafile: a row encoder of format %v (want CSV or JSONL)", f)
}

// AppendStart appends to dst what a file of schema's rows starts with,
// before its first row, whose text (AppendRow's) is first, or nil when
// the file has no rows: for CSV its header row if it has one, preceded by
// a UTF-8 byte order mark when the header, or the first row of a file
// without one, starts with the bytes of one (a reader skips a mark at the
// start of a file: this one, so the line after it reads back whole); for
// JSON Lines nothing. With the zero CSVOptions, it is AppendHeader.
func (e *RowEncoder) AppendStart(dst []byte, schema types.Schema, first []byte) []byte {
	if e.f == JSONL {
		return dst
	}
	return e.csv.appendStart(dst, schema, first)
}

// AppendRow appends row i of b, and a newline, to dst (JSONL keys are the
// names in b.Schema). It panics if row i does not exist.
func (e *RowEncoder) AppendRow(dst []byte, b *types.Block, i int) []byte {
	if e.f == JSONL {
		return appendJSONRow(dst, b, i, nil)
	}
	return e.csv.appendRow(dst, b, i)
}

// bom is the UTF-8 byte order mark a reader skips at the start of a file.
const bom = "\xef\xbb\xbf"

// appendStart is RowEncoder.AppendStart for CSV.
func (c *csvCodec) appendStart(dst []byte, schema types.Schema, first []byte) []byte {
	start := len(dst)
	if c.header {
		dst = c.appendHeader(dst, schema)
		first = dst[start:]
	}
	if bytes.HasPrefix(first, []byte(bom)) {
		dst = slices.Insert(dst, start, []byte(bom)...)
	}
	return dst
}

// appendHeader appends the header row: the column names and a newline.
func (c *csvCodec) appendHeader(dst []byte, schema types.Schema) []byte {
	for i, fld := range schema {
		if i > 0 {
			dst = append(dst, c.delim)
		}
		if strings.HasPrefix(fld.Name, bom) {
			dst = c.appendQuoted(dst, fld.Name) // not to be taken for a byte order mark
		} else {
			dst = c.appendString(dst, fld.Name)
		}
	}
	return append(dst, '\n')
}

// appendRow appends row i of b as a CSV record.
func (c *csvCodec) appendRow(dst []byte, b *types.Block, i int) []byte {
	for k := range b.Cols {
		if k > 0 {
			dst = append(dst, c.delim)
		}
		col := &b.Cols[k]
		if col.Nulls != nil && col.Nulls[i] {
			dst = append(dst, c.null...)
			continue
		}
		switch col.Type.Kind() {
		case types.KindString:
			dst = c.appendString(dst, col.S[i])
		case types.KindArray, types.KindMap:
			dst = c.appendString(dst, string(appendJSON(nil, col.Value(i))))
		default:
			if c.plain {
				dst = appendScalar(dst, col, i)
			} else {
				dst = c.appendScalar(dst, col, i)
			}
		}
	}
	return append(dst, '\n')
}

// appendScalar appends value i of a column that is neither a string nor a
// container, quoted when its text needs quotes in this dialect.
func (c *csvCodec) appendScalar(dst []byte, col *types.Column, i int) []byte {
	start := len(dst)
	dst = appendScalar(dst, col, i)
	if c.needsQuotes(dst[start:]) {
		dst = c.appendQuoted(dst[:start], string(dst[start:]))
	}
	return dst
}

// needsQuotes reports whether the text of a number, date or bool must be
// quoted in this dialect: it holds a byte that is special, or is the null
// value. (No such text is empty or starts or ends with a blank.)
func (c *csvCodec) needsQuotes(v []byte) bool {
	if c.null != "" && string(v) == c.null {
		return true
	}
	for _, b := range v {
		if c.special[b] {
			return true
		}
	}
	return false
}

// appendScalar appends value i of a column that is neither a string nor a
// container, in the encoding CSV and JSON share (JSON quotes non-finite
// floats and dates around it).
func appendScalar(dst []byte, col *types.Column, i int) []byte {
	switch col.Type.Kind() {
	case types.KindFloat:
		return appendFloat(dst, col.F[i], 32)
	case types.KindDouble:
		return appendFloat(dst, col.F[i], 64)
	case types.KindBool:
		return strconv.AppendBool(dst, col.I[i] != 0)
	case types.KindDate:
		return appendDate(dst, col.I[i])
	}
	return appendInt(dst, col.I[i])
}

// appendFloat appends f as types.FormatFloat(f, bits) renders it.
func appendFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-Inf"...)
	}
	if bits == 64 {
		return appendDouble(dst, f)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, bits)
}

// appendString appends s as a CSV field: quoted if it is empty or the
// null value, holds the delimiter, the quote, CR or LF, or starts or ends
// with a space or a tab.
func (c *csvCodec) appendString(dst []byte, s string) []byte {
	if s == "" || s == c.null || isBlank(s[0]) || isBlank(s[len(s)-1]) {
		return c.appendQuoted(dst, s)
	}
	for i := 0; i < len(s); i++ {
		if c.special[s[i]] {
			return c.appendQuoted(dst, s)
		}
	}
	return append(dst, s...)
}

// appendQuoted appends s in quotes, its quotes doubled.
func (c *csvCodec) appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, c.quote)
	for i := 0; i < len(s); i++ {
		if s[i] == c.quote {
			dst = append(dst, c.quote)
		}
		dst = append(dst, s[i])
	}
	return append(dst, c.quote)
}

// appendJSONRow appends row i of b as a JSON object and a newline. keys,
// if not nil, holds the encoded `{"name":` / `,"name":` of each column;
// otherwise the names come from b.Schema.
func appendJSONRow(dst []byte, b *types.Block, i int, keys [][]byte) []byte {
	if len(b.Cols) == 0 {
		return append(dst, "{}\n"...)
	}
	for c := range b.Cols {
		if keys != nil {
			dst = append(dst, keys[c]...)
		} else {
			dst = appendKey(dst, c, b.Schema[c].Name)
		}
		col := &b.Cols[c]
		switch {
		case col.Nulls != nil && col.Nulls[i]:
			dst = append(dst, "null"...)
		case col.Type == types.String:
			dst = appendJSONString(dst, col.S[i])
		case col.Type == types.Date || (col.Type.IsFloat() && !isFinite(col.F[i])):
			dst = append(dst, '"')
			dst = appendScalar(dst, col, i)
			dst = append(dst, '"')
		case col.Type.IsScalar():
			dst = appendScalar(dst, col, i)
		default:
			dst = appendJSON(dst, col.Value(i))
		}
	}
	return append(dst, "}\n"...)
}

// appendKey appends the separator before column c (`{` or `,`) and its key.
func appendKey(dst []byte, c int, name string) []byte {
	if c == 0 {
		dst = append(dst, '{')
	} else {
		dst = append(dst, ',')
	}
	dst = appendJSONString(dst, name)
	return append(dst, ':')
}

// isFinite reports whether f is neither NaN nor infinite.
func isFinite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// appendJSON appends v as JSON Lines encodes values: containers as JSON
// arrays and objects (map keys as strings, in insertion order).
func appendJSON(dst []byte, v types.Value) []byte {
	if v.Null {
		return append(dst, "null"...)
	}
	switch v.Type.Kind() {
	case types.KindString:
		return appendJSONString(dst, v.S)
	case types.KindDate:
		return appendJSONString(dst, types.FormatDate(v.I))
	case types.KindFloat, types.KindDouble:
		bits := 64
		if v.Type == types.Float {
			bits = 32
		}
		if !isFinite(v.F) {
			return appendJSONString(dst, types.FormatFloat(v.F, bits))
		}
		return appendFloat(dst, v.F, bits)
	case types.KindBool:
		return strconv.AppendBool(dst, v.I != 0)
	case types.KindArray:
		return appendJSONArray(dst, v)
	case types.KindMap:
		return appendJSONMap(dst, v)
	}
	return strconv.AppendInt(dst, v.I, 10)
}

// TextSchema returns schema with its array and map columns made string
// columns: the columns of a file that holds them as JSON text, as CSV
// files and a ParquetWriter's do. It returns schema itself when it has
// none.
func TextSchema(schema types.Schema) types.Schema {
	if !slices.ContainsFunc(schema, func(f types.Field) bool { return !f.Type.IsScalar() }) {
		return schema
	}
	text := slices.Clone(schema)
	for i := range text {
		if !text[i].Type.IsScalar() {
			text[i].Type = types.String
		}
	}
	return text
}

// AsText returns b with its array and map columns replaced by string
// columns of their JSON text (a NULL stays NULL): a block of
// TextSchema(b.Schema). It returns b itself when it has none; otherwise
// the result shares b's other columns.
func AsText(b *types.Block) *types.Block {
	if !slices.ContainsFunc(b.Cols, func(c types.Column) bool { return !c.Type.IsScalar() }) {
		return b
	}
	out := &types.Block{Schema: TextSchema(b.Schema), Cols: slices.Clone(b.Cols), Len: b.Len}
	for c := range out.Cols {
		col := &out.Cols[c]
		if col.Type.IsScalar() {
			continue
		}
		text := types.Column{Type: types.String, Nulls: col.Nulls, S: make([]string, b.Len)}
		for i := range b.Len {
			if !col.IsNull(i) {
				text.S[i] = string(appendJSON(nil, col.Value(i)))
			}
		}
		*col = text
	}
	return out
}

// appendJSONArray appends an array value as a JSON array.
func appendJSONArray(dst []byte, v types.Value) []byte {
	elems, _ := v.X.([]types.Value)
	dst = append(dst, '[')
	for i, e := range elems {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSON(dst, e)
	}
	return append(dst, ']')
}

// appendJSONMap appends a map value as a JSON object whose keys are the
// text of the map's keys (a NULL key as "null").
func appendJSONMap(dst []byte, v types.Value) []byte {
	m, _ := v.X.(*types.Map)
	dst = append(dst, '{')
	if m != nil {
		for i, k := range m.Keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			key := k.String() // strings as they are, other scalars as CAST to string renders them
			switch {
			case k.Null:
				key = "null"
			case k.Type == types.Timestamp:
				key = strconv.FormatInt(k.I, 10)
			}
			dst = appendJSONString(dst, key)
			dst = append(dst, ':')
			dst = appendJSON(dst, m.Vals[i])
		}
	}
	return append(dst, '}')
}

// jsonEscape marks the bytes a JSON string escapes.
var jsonEscape = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// appendJSONString appends s as a JSON string. Bytes that are not UTF-8
// are kept as they are (so the string reads back unchanged).
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !jsonEscape[c] {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// flushAt is the size at which a Writer writes its buffer out.
const flushAt = 64 << 10

// Writer writes blocks of a schema's rows to an io.Writer: the header
// first (CSV), then the rows, in buffered writes. A Writer is not safe for
// concurrent use. After an error of the underlying writer, every call
// returns that error.
type Writer struct {
	w      io.Writer
	f      Format
	schema types.Schema
	keys   [][]byte  // JSONL: each column's encoded separator and key
	csv    *csvCodec // CSV: the dialect
	first  bool      // CSV without a header: the first row is still to come
	buf    []byte
	err    error
}

// NewWriter returns a writer of schema's rows in format f to w. It writes
// nothing until Write fills its buffer or Flush is called; the header is
// written even if no rows are.
func NewWriter(w io.Writer, f Format, schema types.Schema) *Writer {
	return NewWriterOptions(w, f, schema, CSVOptions{})
}

// NewWriterOptions is NewWriter for a CSV file of the dialect opts (which
// JSON Lines ignores): without a header (opts.NoHeader) the file starts
// with its first row, or with a byte order mark when that row starts with
// the bytes of one (RowEncoder.AppendStart). The writer returns
// opts.Check's error for a dialect that is not one.
func NewWriterOptions(w io.Writer, f Format, schema types.Schema, opts CSVOptions) *Writer {
	wr := &Writer{w: w, f: f, schema: schema, buf: make([]byte, 0, flushAt+4096)}
	switch {
	case f == JSONL:
		for c, fld := range schema {
			wr.keys = append(wr.keys, appendKey(nil, c, fld.Name))
		}
	case f != CSV:
		wr.err = fmt.Errorf("datafile: a writer of unknown format %v", f)
	case len(schema) == 0:
		wr.err = fmt.Errorf("datafile: a CSV file needs at least one column")
	default:
		if wr.err = opts.Check(); wr.err != nil {
			break
		}
		wr.csv = newCSVCodec(opts)
		wr.first = !wr.csv.header
		wr.buf = wr.csv.appendStart(wr.buf, schema, nil)
	}
	return wr
}

// Write appends b's rows. b must have the writer's column types (its
// column names do not matter).
func (w *Writer) Write(b *types.Block) error {
	if w.err != nil {
		return w.err
	}
	if err := w.check(b); err != nil {
		return err
	}
	for i := 0; i < b.Len; i++ {
		if w.f == CSV {
			start := len(w.buf)
			w.buf = w.csv.appendRow(w.buf, b, i)
			if w.first {
				w.first = false
				w.buf = slices.Insert(w.buf, start, w.csv.appendStart(nil, w.schema, w.buf[start:])...)
			}
		} else {
			w.buf = appendJSONRow(w.buf, b, i, w.keys)
		}
		if len(w.buf) >= flushAt {
			if err := w.Flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// check checks that b's columns have the writer's types.
func (w *Writer) check(b *types.Block) error {
	if len(b.Cols) != len(w.schema) {
		return fmt.Errorf("datafile: writing a block of %d columns to a file of %d", len(b.Cols), len(w.schema))
	}
	for i := range b.Cols {
		if b.Cols[i].Type != w.schema[i].Type {
			return fmt.Errorf("datafile: writing a %s column as column %s (%s)", b.Cols[i].Type, w.schema[i].Name, w.schema[i].Type)
		}
	}
	return nil
}

// Close flushes the writer (a text file has nothing else to finish). It
// does not flush or close the underlying writer; it makes a Writer a
// BlockWriter.
func (w *Writer) Close() error { return w.Flush() }

// Flush writes the buffered data to the underlying writer. It does not
// flush or close that writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if len(w.buf) > 0 {
		if _, err := w.w.Write(w.buf); err != nil {
			w.err = fmt.Errorf("datafile: %w", err)
			return w.err
		}
	}
	w.buf = w.buf[:0]
	return nil
}

// BlockWriter writes blocks of a schema's rows as a file, whatever its
// format: *Writer (CSV, JSON Lines) and *ParquetWriter implement it. Write
// appends a block's rows (the block must have the schema's column types);
// Close finishes the file (flushes a text file; writes a Parquet file's
// last row group and footer) but does not close the underlying
// io.Writer.
type BlockWriter interface {
	Write(b *types.Block) error
	Close() error
}

var (
	_ BlockWriter = (*Writer)(nil)
	_ BlockWriter = (*ParquetWriter)(nil)
)

// NewBlockWriter returns a writer of schema's rows to w in format f:
// NewWriter's for CSV and JSON Lines, NewParquetWriter's (with the default
// options) for Parquet.
func NewBlockWriter(w io.Writer, f Format, schema types.Schema) (BlockWriter, error) {
	return NewBlockWriterOptions(w, f, schema, CSVOptions{})
}

// NewBlockWriterOptions is NewBlockWriter for a CSV file of the dialect
// opts (which other formats ignore): see NewWriterOptions.
func NewBlockWriterOptions(w io.Writer, f Format, schema types.Schema, opts CSVOptions) (BlockWriter, error) {
	switch f {
	case CSV, JSONL:
		wr := NewWriterOptions(w, f, schema, opts)
		if wr.err != nil {
			return nil, wr.err
		}
		return wr, nil
	case Parquet:
		pw, err := NewParquetWriter(w, schema, ParquetOptions{})
		if err != nil {
			return nil, err
		}
		return pw, nil
	}
	return nil, fmt.Errorf("datafile: a writer of unknown format %v", f)
}

// WriteFile writes b to a local file at path, in the format its name
// says (.csv with a header, JSON Lines, or Parquet), through a temporary
// file renamed into place, so a failed write leaves no file that looks
// whole. It is CreateFile, one Write and Close.
func WriteFile(path string, b *types.Block) error {
	w, err := CreateFile(path, b.Schema)
	if err != nil {
		return err
	}
	err = w.Write(b)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return err
}

// FileWriter is a local data file being written (CreateFile): a
// BlockWriter whose rows go to a temporary file beside the path, renamed
// to the path by Close once the file is whole. A FileWriter is not safe
// for concurrent use; after an error, every call returns that error.
type FileWriter struct {
	path string
	f    *os.File
	buf  *bufio.Writer
	w    BlockWriter
	err  error
	done bool
}

var _ BlockWriter = (*FileWriter)(nil)

// CreateFile starts a local data file of schema's rows at path, in the
// format its name says (FormatOf): it creates path+".tmp", which Close
// renames to path. The caller writes the rows in as many blocks as it
// likes (a block's rows are encoded before Write returns, so the block can
// be reused) and must call Close, even after an error.
func CreateFile(path string, schema types.Schema) (*FileWriter, error) {
	f, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	out, err := os.Create(path + ".tmp")
	if err != nil {
		return nil, err
	}
	fw := &FileWriter{path: path, f: out, buf: bufio.NewWriterSize(out, 1<<20)}
	if fw.w, err = NewBlockWriter(fw.buf, f, schema); err != nil {
		fw.discard()
		return nil, fw.fail(err)
	}
	return fw, nil
}

// Write appends b's rows. b must have the file's column types.
func (w *FileWriter) Write(b *types.Block) error {
	if w.err != nil {
		return w.err
	}
	if w.done {
		return fmt.Errorf("datafile: Write on a closed FileWriter of %s", w.path)
	}
	if err := w.w.Write(b); err != nil {
		return w.fail(err)
	}
	return nil
}

// Close finishes the file and renames it to its path. After an error (of
// Write or of finishing the file) it removes the temporary file instead,
// and returns the error. Close after Close returns what the first did.
func (w *FileWriter) Close() error {
	if w.done {
		return w.err
	}
	w.done = true
	if w.err == nil {
		if err := errors.Join(w.w.Close(), w.buf.Flush()); err != nil {
			w.fail(err)
		}
	}
	if w.err != nil {
		w.discard()
		return w.err
	}
	if w.err = w.f.Close(); w.err != nil {
		os.Remove(w.f.Name())
		return w.err
	}
	w.err = os.Rename(w.f.Name(), w.path)
	return w.err
}

// fail records err, naming the file, as the writer's sticky error.
func (w *FileWriter) fail(err error) error {
	w.err = fmt.Errorf("datafile: writing %s: %w", w.path, err)
	return w.err
}

// discard closes and removes the temporary file (a file that failed:
// errors doing so add nothing).
func (w *FileWriter) discard() {
	w.f.Close()
	os.Remove(w.f.Name())
}
