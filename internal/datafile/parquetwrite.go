package datafile

import (
	"fmt"
	"io"
	"math"
	"slices"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Compression is the codec of a Parquet file's column chunks.
type Compression int

// The codecs a ParquetWriter writes. The zero Compression is Snappy.
const (
	Snappy       Compression = iota // the default, as Spark writes
	Zstd                            // smaller files, a little slower to write
	Gzip                            // the most widely read after Snappy
	Uncompressed                    // no compression
)

// codec returns parquet-go's codec of c, or nil if c is not a Compression.
func (c Compression) codec() compress.Codec {
	switch c {
	case Snappy:
		return &parquet.Snappy
	case Zstd:
		return &parquet.Zstd
	case Gzip:
		return &parquet.Gzip
	case Uncompressed:
		return &parquet.Uncompressed
	}
	return nil
}

// The default bounds of a row group: it is cut at whichever comes first.
const (
	DefaultRowGroupRows  = 128 << 10
	DefaultRowGroupBytes = 64 << 20
)

// ParquetOptions tune a ParquetWriter. The zero value gives the defaults.
type ParquetOptions struct {
	Compression Compression
	// RowGroupRows and RowGroupBytes bound a row group, which the writer
	// holds in memory (encoded and compressed) until it is complete: a row
	// group ends after RowGroupRows rows or once its values take
	// RowGroupBytes bytes before encoding, whichever comes first. Zero
	// means DefaultRowGroupRows and DefaultRowGroupBytes.
	RowGroupRows  int
	RowGroupBytes int64
}

// writeBatch is how many rows a ParquetWriter hands parquet-go per column
// at a time: pages end between batches, so this bounds how far a page
// overshoots its target size.
const writeBatch = 1024

// ParquetWriter writes blocks of a schema's rows as a Parquet file. Every
// column is optional (NULLs are kept) and has these physical and logical
// types:
//
//	bool       BOOLEAN
//	int16      INT32, INT(16, signed)
//	int32      INT32
//	int64      INT64
//	float      FLOAT
//	double     DOUBLE
//	string     BYTE_ARRAY, STRING (dictionary encoded)
//	date       INT32, DATE (days since 1970-01-01)
//	timestamp  INT64, TIMESTAMP(MILLIS, isAdjustedToUTC=true)
//	array, map BYTE_ARRAY, STRING: their JSON text, as CSV holds them (outputs only)
//
// Floats and doubles are written bit for bit (NaN payloads, -0). Pages are
// data page version 1, as Spark writes them, so every Parquet reader reads
// them. A ParquetWriter is not safe for concurrent use; after an error,
// every call returns that error.
type ParquetWriter struct {
	pw     *parquet.Writer
	schema types.Schema
	opts   ParquetOptions
	vals   []parquet.Value // one column's values of a batch
	text   []byte          // JSON text of containers
	rows   int             // rows in the current row group
	bytes  int64           // their values' size before encoding
	err    error
	closed bool
}

// NewParquetWriter returns a writer of schema's rows to w. It writes the
// file's first bytes with the first row group; Close writes the rest.
// Column names must be distinct.
func NewParquetWriter(w io.Writer, schema types.Schema, opts ParquetOptions) (*ParquetWriter, error) {
	codec := opts.Compression.codec()
	if codec == nil {
		return nil, fmt.Errorf("datafile: unknown Parquet compression %d", opts.Compression)
	}
	if opts.RowGroupRows <= 0 {
		opts.RowGroupRows = DefaultRowGroupRows
	}
	if opts.RowGroupBytes <= 0 {
		opts.RowGroupBytes = DefaultRowGroupBytes
	}
	root, err := parquetSchema(schema)
	if err != nil {
		return nil, err
	}
	config, err := parquet.NewWriterConfig(
		parquet.NewSchema("fenestra", root),
		parquet.Compression(codec),
		parquet.DataPageVersion(1),
		parquet.CreatedBy("fenestra", "", ""),
	)
	if err != nil {
		return nil, fmt.Errorf("datafile: Parquet writer: %w", err)
	}
	return &ParquetWriter{
		pw: parquet.NewWriter(w, config), schema: schema, opts: opts,
		vals: make([]parquet.Value, 0, writeBatch),
	}, nil
}

// parquetSchema returns the Parquet schema of a table: a group of one
// optional leaf per column, in the schema's order.
func parquetSchema(schema types.Schema) (parquet.Node, error) {
	g := orderedGroup{Group: parquet.Group{}}
	for _, f := range schema {
		if _, dup := g.Group[f.Name]; dup {
			return nil, fmt.Errorf("datafile: the schema names column %s twice", f.Name)
		}
		var leaf parquet.Node
		switch f.Type.Kind() {
		case types.KindBool:
			leaf = parquet.Leaf(parquet.BooleanType)
		case types.KindInt16:
			leaf = parquet.Int(16)
		case types.KindInt32:
			leaf = parquet.Leaf(parquet.Int32Type)
		case types.KindInt64:
			leaf = parquet.Leaf(parquet.Int64Type)
		case types.KindFloat:
			leaf = parquet.Leaf(parquet.FloatType)
		case types.KindDouble:
			leaf = parquet.Leaf(parquet.DoubleType)
		case types.KindString:
			leaf = parquet.Encoded(parquet.String(), &parquet.RLEDictionary)
		case types.KindDate:
			leaf = parquet.Date()
		case types.KindTimestamp:
			leaf = parquet.Timestamp(parquet.Millisecond)
		case types.KindArray, types.KindMap:
			leaf = parquet.String()
		default:
			return nil, fmt.Errorf("datafile: column %s: cannot write values of type %s", f.Name, f.Type)
		}
		g.Group[f.Name] = parquet.Optional(leaf)
		g.order = append(g.order, f.Name)
	}
	return g, nil
}

// orderedGroup is a Parquet group whose fields come in the table's order
// (a parquet.Group orders them by name).
type orderedGroup struct {
	parquet.Group
	order []string
}

// Fields returns the group's fields in the table's order.
func (g orderedGroup) Fields() []parquet.Field {
	fields := slices.Clone(g.Group.Fields())
	rank := make(map[string]int, len(g.order))
	for i, name := range g.order {
		rank[name] = i
	}
	slices.SortFunc(fields, func(a, b parquet.Field) int { return rank[a.Name()] - rank[b.Name()] })
	return fields
}

// Write appends b's rows. b must have the writer's column types (its
// column names do not matter). A date outside what Parquet's DATE holds
// (32 bits of days) is an error, and then nothing of b is written.
func (w *ParquetWriter) Write(b *types.Block) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return fmt.Errorf("datafile: Write on a closed ParquetWriter")
	}
	if err := checkBlockTypes(b, w.schema); err != nil {
		return err
	}
	if err := checkDates(b, w.schema); err != nil {
		return err
	}
	for lo := 0; lo < b.Len; {
		n := min(b.Len-lo, writeBatch, w.opts.RowGroupRows-w.rows)
		cols := w.pw.ColumnWriters()
		for c := range b.Cols {
			w.vals = w.values(w.vals[:0], &b.Cols[c], c, lo, lo+n)
			if _, err := cols[c].WriteRowValues(w.vals); err != nil {
				return w.fail(err)
			}
		}
		clear(w.vals) // drop references to b's strings
		lo += n
		w.rows += n
		if w.rows >= w.opts.RowGroupRows || w.bytes >= w.opts.RowGroupBytes {
			if err := w.pw.Flush(); err != nil {
				return w.fail(err)
			}
			w.rows, w.bytes = 0, 0
		}
	}
	return nil
}

// checkBlockTypes checks that b's columns have schema's types.
func checkBlockTypes(b *types.Block, schema types.Schema) error {
	if len(b.Cols) != len(schema) {
		return fmt.Errorf("datafile: writing a block of %d columns to a file of %d", len(b.Cols), len(schema))
	}
	for i := range b.Cols {
		if b.Cols[i].Type != schema[i].Type {
			return fmt.Errorf("datafile: writing a %s column as column %s (%s)", b.Cols[i].Type, schema[i].Name, schema[i].Type)
		}
	}
	return nil
}

// checkDates checks that b's dates fit Parquet's DATE.
func checkDates(b *types.Block, schema types.Schema) error {
	for c := range b.Cols {
		col := &b.Cols[c]
		if col.Type != types.Date {
			continue
		}
		for i, d := range col.I {
			if d != int64(int32(d)) && !col.IsNull(i) {
				return fmt.Errorf("datafile: column %s: date %s is outside what a Parquet DATE holds", schema[c].Name, types.FormatDate(d))
			}
		}
	}
	return nil
}

// values appends the Parquet values of rows [lo, hi) of column c, which
// is leaf c of the file.
func (w *ParquetWriter) values(dst []parquet.Value, col *types.Column, c, lo, hi int) []parquet.Value {
	for i := lo; i < hi; i++ {
		if col.IsNull(i) {
			dst = append(dst, parquet.NullValue().Level(0, 0, c))
			w.bytes++
			continue
		}
		var v parquet.Value
		switch col.Type.Kind() {
		case types.KindBool:
			v = parquet.BooleanValue(col.I[i] != 0)
		case types.KindInt16, types.KindInt32, types.KindDate:
			v = parquet.Int32Value(int32(col.I[i]))
		case types.KindInt64, types.KindTimestamp:
			v = parquet.Int64Value(col.I[i])
		case types.KindFloat:
			v = parquet.FloatValue(math.Float32frombits(float32Bits(col.F[i])))
		case types.KindDouble:
			v = parquet.DoubleValue(col.F[i])
		case types.KindString:
			v = parquet.ByteArrayValue(stringBytes(col.S[i]))
			w.bytes += int64(len(col.S[i]))
		default: // array, map: a string of JSON text, copied (w.text is reused)
			w.text = appendJSON(w.text[:0], col.Value(i))
			v = parquet.ByteArrayValue(slices.Clone(w.text))
			w.bytes += int64(len(w.text))
		}
		dst = append(dst, v.Level(0, 1, c))
		w.bytes += 8
	}
	return dst
}

// stringBytes returns the bytes of s without copying them; parquet-go
// only reads a value's bytes (copying them into its buffers).
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// float32Bits returns the bits of the float32 that float column value f
// holds. A Go conversion would set the quiet bit of a signaling NaN; this
// keeps every NaN's payload (the float64's top 23 mantissa bits, where
// float32Of put them). A NaN with no payload in those bits (not a float32
// value) becomes a quiet NaN, as the conversion makes it.
func float32Bits(f float64) uint32 {
	if f == f {
		return math.Float32bits(float32(f))
	}
	b := math.Float64bits(f)
	payload := uint32(b>>29) & 0x7fffff
	if payload == 0 {
		payload = 0x400000
	}
	return uint32(b>>63)<<31 | 0x7f800000 | payload
}

// float32Of returns the float column value of the float32 with bits b,
// keeping a NaN's payload (see float32Bits).
func float32Of(b uint32) float64 {
	f := math.Float32frombits(b)
	if f == f {
		return float64(f)
	}
	return math.Float64frombits(uint64(b>>31)<<63 | 0x7ff<<52 | uint64(b&0x7fffff)<<29)
}

// fail records a sticky error and returns it.
func (w *ParquetWriter) fail(err error) error {
	w.err = fmt.Errorf("datafile: %w", err)
	return w.err
}

// Close writes the last row group and the file's footer. It does not close
// the underlying writer. A file without rows is a valid Parquet file of the
// schema. Close after Close does nothing.
func (w *ParquetWriter) Close() error {
	if w.err != nil || w.closed {
		return w.err
	}
	w.closed = true
	if err := w.pw.Close(); err != nil {
		return w.fail(err)
	}
	return nil
}
