package datafile

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/format"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// readBufferSize is the buffer a ParquetReader reads each column's pages
// through.
const readBufferSize = 256 << 10

// ParquetReader reads the rows of a table from a Parquet file into blocks.
// It reads one row group at a time and, within it, one page of each column
// at a time, so its memory is a page per column (and a column's
// dictionary), whatever the file's size. A ParquetReader is not safe for
// concurrent use.
//
// A row's number (the "line" that Next reports and RowErrors name, with
// ByRow set) is its position in the file, 1 for the first row.
type ParquetReader struct {
	name   string
	schema types.Schema
	groups []parquet.RowGroup
	cols   []pqColumn // one per schema column
	group  int        // the next row group to open
	left   int64      // rows of the open row group not yet read
	row    int64      // rows read so far, bad ones included
	err    error      // sticky: io.EOF at the end, or the file's error
}

// pqColumn is the read state of one column: its file column, how its
// values become fenestra values, and the current page.
type pqColumn struct {
	file   string     // the file column's name
	leaf   int        // its index among the file's leaf columns
	from   source     // how its values convert
	check  bool       // values may not fit the block column (int16, int32)
	typ    types.Type // the block column's type
	maxDef byte       // the definition level of a non-NULL value (0: required)

	pages  parquet.Pages
	page   parquet.Page // the current page, released when done
	levels []byte       // its definition levels (nil if required)
	n      int          // its rows
	pos    int          // the next row to read
	vpos   int          // the next (non-NULL) value to read
	pos0   int          // pos and vpos before the last append
	vpos0  int
	// The current page's non-NULL values, converted.
	vi []int64
	vf []float64
	vs []string
	// The column chunk's dictionary, converted.
	dict parquet.Dictionary
	di   []int64
	df   []float64
	ds   []string
}

// source is how a file column's values become a block column's values.
type source uint8

const (
	fromBool   source = iota // BOOLEAN
	fromInt32                // INT32, signed
	fromUint32               // INT32 holding an unsigned integer
	fromInt64                // INT64: integers, timestamps in milliseconds
	fromMicros               // INT64 TIMESTAMP(MICROS)
	fromNanos                // INT64 TIMESTAMP(NANOS)
	fromInt96                // INT96 timestamps: Julian day and nanosecond of the day
	fromFloat                // FLOAT
	fromDouble               // DOUBLE
	fromBytes                // BYTE_ARRAY
)

// NewParquetReader returns a reader of schema's rows from the Parquet file
// r of size bytes. name labels errors (usually the file's path). It reads
// the file's footer and returns an error naming the column if a column of
// schema is missing from the file or of a type that cannot be read as the
// column's. Columns are matched by name, exactly, else case-insensitively;
// the file's other columns are ignored. schema must hold scalar types
// only, with distinct names.
func NewParquetReader(r io.ReaderAt, size int64, name string, schema types.Schema) (pr *ParquetReader, err error) {
	if err := checkSchema(name, Parquet, schema); err != nil {
		return nil, err
	}
	defer func() {
		if p := recover(); p != nil { // parquet-go panics on some malformed files
			pr, err = nil, fmt.Errorf("datafile: %s: not a readable Parquet file: %v", name, p)
		}
	}()
	f, err := parquet.OpenFile(r, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true),
		parquet.ReadBufferSize(readBufferSize))
	if err != nil {
		return nil, fmt.Errorf("datafile: %s: %w", name, err)
	}
	pr = &ParquetReader{name: name, schema: schema, groups: f.RowGroups(), cols: make([]pqColumn, len(schema))}
	for i, fld := range schema {
		if pr.cols[i], err = pr.column(f.Root(), fld); err != nil {
			return nil, err
		}
	}
	return pr, nil
}

// column finds the file column of fld and how its values convert.
func (r *ParquetReader) column(root *parquet.Column, fld types.Field) (pqColumn, error) {
	var match *parquet.Column
	var names []string
	for _, c := range root.Columns() {
		names = append(names, c.Name())
		if c.Name() == fld.Name {
			match = c
		}
	}
	if match == nil {
		for _, c := range root.Columns() {
			if !strings.EqualFold(c.Name(), fld.Name) {
				continue
			}
			if match != nil {
				return pqColumn{}, fmt.Errorf("datafile: %s: column %s: the file has columns %s and %s, which differ only in case", r.name, fld.Name, match.Name(), c.Name())
			}
			match = c
		}
	}
	bad := func(msg string, args ...any) (pqColumn, error) {
		return pqColumn{}, fmt.Errorf("datafile: %s: column %s: %s", r.name, fld.Name, fmt.Sprintf(msg, args...))
	}
	switch {
	case match == nil:
		return bad("missing from the file (its columns: %s)", strings.Join(names, ", "))
	case !match.Leaf():
		return bad("a nested Parquet group (%s), which cannot be read as %s", match.Name(), fld.Type)
	case match.Repeated():
		return bad("a repeated Parquet column (%s), which cannot be read as %s", match.Name(), fld.Type)
	}
	from, ok := sourceOf(match.Type(), fld.Type)
	if !ok {
		return bad("cannot read Parquet %s as %s", describe(match.Type()), fld.Type)
	}
	return pqColumn{
		file: match.Name(), leaf: match.Index(), from: from, typ: fld.Type,
		check:  fld.Type == types.Int16 || fld.Type == types.Int32,
		maxDef: byte(match.MaxDefinitionLevel()),
	}, nil
}

// describe renders a Parquet type for messages: its physical type and its
// logical type, if any, such as "INT64 TIMESTAMP(isAdjustedToUTC=true,unit=MICROS)".
// (parquet-go reports plain INT32 and INT64 as INT(32,true) and
// INT(64,true), which say nothing more: they are left out.)
func describe(t parquet.Type) string {
	s := t.Kind().String()
	lt := t.LogicalType()
	if lt == nil || lt.Value == nil {
		return s
	}
	if it, ok := lt.Value.(*format.IntType); ok && it.IsSigned &&
		(t.Kind() == parquet.Int32 && it.BitWidth == 32 || t.Kind() == parquet.Int64 && it.BitWidth == 64) {
		return s
	}
	return s + " " + lt.String()
}

// sourceOf returns how values of Parquet type t are read as values of
// type col, or false if they cannot be. Integers widen losslessly, never
// narrow; see the package comment for the rules.
func sourceOf(t parquet.Type, col types.Type) (source, bool) {
	var lt format.LogicalTypeValue
	if l := t.LogicalType(); l != nil {
		lt = l.Value
	}
	switch t.Kind() {
	case parquet.Boolean:
		return fromBool, lt == nil && col == types.Bool
	case parquet.Int32:
		return int32Source(lt, col)
	case parquet.Int64:
		return int64Source(lt, col)
	case parquet.Int96:
		return fromInt96, lt == nil && col == types.Timestamp
	case parquet.Float:
		return fromFloat, lt == nil && col.IsFloat()
	case parquet.Double:
		return fromDouble, lt == nil && col == types.Double
	case parquet.ByteArray:
		switch lt.(type) {
		case nil, *format.StringType, *format.EnumType, *format.JsonType:
			return fromBytes, col == types.String
		}
	}
	return 0, false
}

// int32Source is sourceOf for INT32 columns: integers of up to 32 bits
// (signed or not) into integer columns wide enough, dates into dates.
func int32Source(lt format.LogicalTypeValue, col types.Type) (source, bool) {
	bits, signed := 32, true
	switch lt := lt.(type) {
	case nil:
	case *format.IntType:
		bits, signed = int(lt.BitWidth), lt.IsSigned
	case *format.DateType:
		return fromInt32, col == types.Date
	default:
		return 0, false
	}
	from, need := fromInt32, bits // need: the bits of a signed integer holding every value
	if !signed {
		from, need = fromUint32, bits+1
	}
	switch col {
	case types.Int16:
		return from, need <= 16
	case types.Int32:
		return from, need <= 32
	case types.Int64:
		return from, true
	}
	return 0, false
}

// int64Source is sourceOf for INT64 columns: signed integers into int64
// and timestamp (as milliseconds) columns, timestamps into timestamps. A
// TIMESTAMP not adjusted to UTC (a local time) is read as if it were: its
// number, as pyarrow, pandas and DuckDB take it.
func int64Source(lt format.LogicalTypeValue, col types.Type) (source, bool) {
	switch lt := lt.(type) {
	case nil:
		return fromInt64, col == types.Int64 || col == types.Timestamp
	case *format.IntType:
		return fromInt64, lt.IsSigned && (col == types.Int64 || col == types.Timestamp)
	case *format.TimestampType:
		switch lt.Unit.Value.(type) {
		case *format.MilliSeconds:
			return fromInt64, col == types.Timestamp
		case *format.MicroSeconds:
			return fromMicros, col == types.Timestamp
		case *format.NanoSeconds:
			return fromNanos, col == types.Timestamp
		}
	}
	return 0, false
}

// Next appends up to max rows to b, which must have the reader's column
// types and consistent column lengths, and appends each row's number (1
// for the file's first row) to *lines unless lines is nil. It returns the
// number of rows appended:
//
//   - at the end of the file it returns 0 rows and io.EOF (a call that
//     reads the last rows returns them with a nil error);
//   - on a value that does not fit its column (an integer out of the
//     column's range) it returns the rows appended before it and a
//     *RowError with ByRow set; b holds no part of the bad row, and the
//     next call resumes with the following row;
//   - on an error of the source or of the file's data it returns the rows
//     appended before it and the error, naming the file; the reader then
//     keeps returning that error.
func (r *ParquetReader) Next(b *types.Block, lines *[]int64, max int) (n int, err error) {
	if err := checkBlock(r.name, r.schema, b); err != nil {
		return 0, err
	}
	defer func() {
		if p := recover(); p != nil { // parquet-go panics on some malformed pages
			for i := range b.Cols { // drop the values of rows not complete
				c := &b.Cols[i]
				c.I, c.F, c.S, c.Nulls = trunc(c.I, b.Len), trunc(c.F, b.Len), trunc(c.S, b.Len), trunc(c.Nulls, b.Len)
			}
			err = r.fail(fmt.Errorf("datafile: %s: row %d: malformed Parquet data: %v", r.name, r.row+1, p))
		}
	}()
	for n < max {
		k, err := r.chunk(b, lines, max-n)
		n += k
		switch {
		case err == io.EOF && n > 0:
			return n, nil
		case err != nil:
			return n, err
		}
	}
	return n, nil
}

// chunk appends up to max rows to b: as many as the open row group and
// every column's current page hold.
func (r *ParquetReader) chunk(b *types.Block, lines *[]int64, max int) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	for r.left == 0 {
		if err := r.nextGroup(); err != nil {
			return 0, r.fail(err)
		}
	}
	k := int(min(int64(max), r.left))
	for i := range r.cols {
		c := &r.cols[i]
		for c.pos == c.n {
			if err := c.nextPage(); err != nil {
				return 0, r.fail(fmt.Errorf("datafile: %s: row %d: column %s: %w", r.name, r.row+1, r.schema[i].Name, err))
			}
		}
		k = min(k, c.n-c.pos)
	}
	base := b.Len
	bad, badCol := k, -1
	for i := range r.cols {
		if j := r.cols[i].appendTo(&b.Cols[i], base, k); j < bad {
			bad, badCol = j, i
		}
	}
	if lines != nil {
		for j := range bad {
			*lines = append(*lines, r.row+int64(j)+1)
		}
	}
	if badCol < 0 {
		b.Len += k
		r.row += int64(k)
		r.left -= int64(k)
		return k, nil
	}
	// Keep the rows before the bad one, and resume after it.
	c := &r.cols[badCol]
	msg := cannotRead(strconv.FormatInt(c.valueAt(bad), 10), c.typ, numRange)
	for i := range r.cols {
		col := &b.Cols[i]
		col.I, col.F, col.S = trunc(col.I, base+bad), trunc(col.F, base+bad), trunc(col.S, base+bad)
		col.Nulls = trunc(col.Nulls, base+bad)
		r.cols[i].rewind(bad + 1)
	}
	b.Len += bad
	line := r.row + int64(bad) + 1
	r.row += int64(bad) + 1
	r.left -= int64(bad) + 1
	return bad, &RowError{File: r.name, Line: line, ByRow: true, Column: r.schema[badCol].Name, Msg: msg}
}

// nextGroup opens the next row group, or returns io.EOF after the last.
func (r *ParquetReader) nextGroup() error {
	r.closePages()
	if r.group == len(r.groups) {
		return io.EOF
	}
	g := r.groups[r.group]
	r.group++
	if g.NumRows() < 0 {
		return fmt.Errorf("datafile: %s: row group %d has %d rows", r.name, r.group, g.NumRows())
	}
	chunks := g.ColumnChunks()
	for i := range r.cols {
		c := &r.cols[i]
		if c.leaf >= len(chunks) {
			return fmt.Errorf("datafile: %s: row group %d has no column %s", r.name, r.group, c.file)
		}
		c.pages = chunks[c.leaf].Pages()
		c.n, c.pos, c.vpos, c.dict = 0, 0, 0, nil
	}
	r.left = g.NumRows()
	return nil
}

// closePages releases the pages of the open row group.
func (r *ParquetReader) closePages() {
	for i := range r.cols {
		c := &r.cols[i]
		if c.page != nil {
			parquet.Release(c.page)
			c.page = nil
		}
		if c.pages != nil {
			c.pages.Close()
			c.pages = nil
		}
	}
}

// fail records a sticky error, releasing the pages, and returns it.
func (r *ParquetReader) fail(err error) error {
	r.closePages()
	r.err = err
	return err
}

// Close releases the reader's pages. The reader returns io.EOF after it.
// Reading to the end releases them too, so Close is needed only to stop
// early. It does not close the underlying file.
func (r *ParquetReader) Close() error {
	if r.err == nil {
		r.fail(io.EOF)
	}
	return nil
}

// errShortChunk reports a column chunk with fewer rows than its row group.
var errShortChunk = errors.New("the column chunk ends before its row group")

// nextPage reads the column's next page and converts its values.
func (c *pqColumn) nextPage() error {
	if c.page != nil {
		parquet.Release(c.page)
		c.page = nil
	}
	p, err := c.pages.ReadPage()
	switch {
	case err == io.EOF:
		return errShortChunk
	case err != nil:
		return err
	}
	c.page = p
	c.pos, c.vpos = 0, 0
	defined := int(p.NumValues())
	c.levels = nil
	if c.maxDef > 0 {
		c.levels = p.DefinitionLevels()
		c.n, defined = len(c.levels), 0
		for _, l := range c.levels {
			if l == c.maxDef {
				defined++
			}
		}
	} else {
		c.n = defined
	}
	if d := p.Dictionary(); d != nil {
		return c.gather(d, p.Data(), defined)
	}
	c.vi, c.vf, c.vs = c.vi[:0], c.vf[:0], c.vs[:0]
	return c.convert(p.Data(), defined, &c.vi, &c.vf, &c.vs)
}

// errShortPage reports a page with fewer values than its levels say.
var errShortPage = errors.New("a page holds fewer values than its definition levels say")

// convert appends the first n values of data, converted, to *vi, *vf or
// *vs (by the block column's storage).
func (c *pqColumn) convert(data encoding.Values, n int, vi *[]int64, vf *[]float64, vs *[]string) error {
	switch c.from {
	case fromBool:
		bits := data.Boolean()
		if len(bits)*8 < n {
			return errShortPage
		}
		for j := range n {
			*vi = append(*vi, int64(bits[j>>3]>>(j&7)&1))
		}
		return nil
	case fromInt32, fromUint32:
		v := data.Int32()
		if len(v) < n {
			return errShortPage
		}
		for _, x := range v[:n] {
			if c.from == fromUint32 {
				*vi = append(*vi, int64(uint32(x)))
			} else {
				*vi = append(*vi, int64(x))
			}
		}
		return nil
	case fromInt64, fromMicros, fromNanos:
		v := data.Int64()
		if len(v) < n {
			return errShortPage
		}
		per := int64(1)
		switch c.from {
		case fromMicros:
			per = 1000
		case fromNanos:
			per = 1000000
		}
		for _, x := range v[:n] {
			*vi = append(*vi, floorDiv(x, per))
		}
		return nil
	case fromInt96:
		v := data.Int96()
		if len(v) < n {
			return errShortPage
		}
		for _, x := range v[:n] {
			*vi = append(*vi, int96Millis(x))
		}
		return nil
	case fromFloat:
		v := data.Float()
		if len(v) < n {
			return errShortPage
		}
		for _, x := range v[:n] {
			*vf = append(*vf, float32Of(math.Float32bits(x)))
		}
		return nil
	case fromDouble:
		v := data.Double()
		if len(v) < n {
			return errShortPage
		}
		*vf = append(*vf, v[:n]...)
		return nil
	}
	return c.strings(data, n, vs)
}

// strings appends the first n byte arrays of data to *vs, as strings
// sharing one allocation.
func (c *pqColumn) strings(data encoding.Values, n int, vs *[]string) error {
	bytes, offsets := data.ByteArray()
	if len(offsets) < n+1 {
		return errShortPage
	}
	lo, hi := offsets[0], offsets[n]
	if lo > hi || int(hi) > len(bytes) {
		return errShortPage
	}
	all := string(bytes[lo:hi])
	for j := range n {
		s, e := offsets[j], offsets[j+1]
		if s > e || e > hi {
			return errShortPage
		}
		*vs = append(*vs, all[s-lo:e-lo])
	}
	return nil
}

// gather sets the page's values from its dictionary indexes.
func (c *pqColumn) gather(d parquet.Dictionary, data encoding.Values, n int) error {
	if c.dict != d {
		c.di, c.df, c.ds = c.di[:0], c.df[:0], c.ds[:0]
		if err := c.convert(d.Page().Data(), d.Len(), &c.di, &c.df, &c.ds); err != nil {
			return fmt.Errorf("dictionary: %w", err)
		}
		c.dict = d
	}
	idx := data.Int32()
	if len(idx) < n {
		return errShortPage
	}
	size := d.Len()
	c.vi, c.vf, c.vs = c.vi[:0], c.vf[:0], c.vs[:0]
	for _, x := range idx[:n] {
		if x < 0 || int(x) >= size {
			return fmt.Errorf("a dictionary index %d out of range (the dictionary has %d values)", x, size)
		}
	}
	switch c.typ.Kind() {
	case types.KindFloat, types.KindDouble:
		for _, x := range idx[:n] {
			c.vf = append(c.vf, c.df[x])
		}
	case types.KindString:
		for _, x := range idx[:n] {
			c.vs = append(c.vs, c.ds[x])
		}
	default:
		for _, x := range idx[:n] {
			c.vi = append(c.vi, c.di[x])
		}
	}
	return nil
}

// appendTo appends the next k rows of the current page to col, which
// holds have values. It returns the position (among the k) of the first
// value that does not fit col, or k.
func (c *pqColumn) appendTo(col *types.Column, have, k int) int {
	c.pos0, c.vpos0 = c.pos, c.vpos
	lv := c.levels
	if lv != nil {
		lv = lv[c.pos : c.pos+k]
	}
	c.pos += k
	appendNulls(col, have, k, lv, c.maxDef)
	switch col.Type.Kind() {
	case types.KindFloat, types.KindDouble:
		col.F, c.vpos = interleave(col.F, c.vf, c.vpos, lv, c.maxDef, k)
	case types.KindString:
		col.S, c.vpos = interleave(col.S, c.vs, c.vpos, lv, c.maxDef, k)
	default:
		col.I, c.vpos = interleave(col.I, c.vi, c.vpos, lv, c.maxDef, k)
		if c.check {
			for j, v := range col.I[have:] {
				if types.Wrap(c.typ, v) != v {
					return j
				}
			}
		}
	}
	return k
}

// appendNulls appends the NULL flags of k rows with definition levels lv
// (nil: none is NULL) to col, which holds have values, creating its Nulls
// at the first NULL.
func appendNulls(col *types.Column, have, k int, lv []byte, maxDef byte) {
	if col.Nulls == nil {
		if !slices.ContainsFunc(lv, func(l byte) bool { return l != maxDef }) {
			return
		}
		col.Nulls = make([]bool, have, max(2*have, have+k, 64))
	}
	if lv == nil {
		n := len(col.Nulls)
		col.Nulls = slices.Grow(col.Nulls, k)[:n+k]
		clear(col.Nulls[n:])
		return
	}
	for _, l := range lv {
		col.Nulls = append(col.Nulls, l != maxDef)
	}
}

// interleave appends k rows to dst: values from src (from position v on)
// where the definition level is maxDef, zeros elsewhere (lv nil: all
// values). It returns dst and the next position in src.
func interleave[T any](dst, src []T, v int, lv []byte, maxDef byte, k int) ([]T, int) {
	if lv == nil {
		return append(dst, src[v:v+k]...), v + k
	}
	var zero T
	for _, l := range lv {
		if l == maxDef {
			dst = append(dst, src[v])
			v++
		} else {
			dst = append(dst, zero)
		}
	}
	return dst, v
}

// rewind moves the column back to row m of its last append.
func (c *pqColumn) rewind(m int) {
	c.pos, c.vpos = c.pos0+m, c.vpos0+c.defined(c.pos0, c.pos0+m)
}

// valueAt returns the value of row m of the last append (an integer
// column's, not NULL).
func (c *pqColumn) valueAt(m int) int64 {
	return c.vi[c.vpos0+c.defined(c.pos0, c.pos0+m)]
}

// defined returns how many of the page's rows [lo, hi) are not NULL.
func (c *pqColumn) defined(lo, hi int) int {
	if c.levels == nil {
		return hi - lo
	}
	n := 0
	for _, l := range c.levels[lo:hi] {
		if l == c.maxDef {
			n++
		}
	}
	return n
}

// floorDiv returns x/d rounded toward negative infinity.
func floorDiv(x, d int64) int64 {
	q := x / d
	if x%d < 0 {
		q--
	}
	return q
}

// julianEpoch is the Julian day number of 1970-01-01.
const julianEpoch = 2440588

// int96Millis returns the epoch milliseconds of an INT96 timestamp as
// Spark and Impala write them: the nanosecond of the day in the low 64
// bits, the Julian day in the high 32 (sub-millisecond digits truncated
// toward negative infinity).
func int96Millis(x [3]uint32) int64 {
	nanos := int64(uint64(x[1])<<32 | uint64(x[0]))
	days := int64(x[2]) - julianEpoch
	return days*86400000 + floorDiv(nanos, 1000000)
}

// checkBlock checks that b can take rows of schema (for errors naming the
// file name).
func checkBlock(name string, schema types.Schema, b *types.Block) error {
	if len(b.Cols) != len(schema) {
		return fmt.Errorf("datafile: %s: a block of %d columns for a table of %d", name, len(b.Cols), len(schema))
	}
	for i := range b.Cols {
		c := &b.Cols[i]
		if c.Type != schema[i].Type {
			return fmt.Errorf("datafile: %s: block column %d is %s, the table's column %s is %s", name, i, c.Type, schema[i].Name, schema[i].Type)
		}
		if c.Len() != b.Len || (c.Nulls != nil && len(c.Nulls) != b.Len) {
			return fmt.Errorf("datafile: %s: block column %d has %d values in a block of %d rows", name, i, c.Len(), b.Len)
		}
	}
	return nil
}
