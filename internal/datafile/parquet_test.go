package datafile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// pqTypes is a table of every scalar type, named to need care now and
// then.
var pqTypes = types.Schema{
	{Name: "b", Type: types.Bool}, {Name: "i16", Type: types.Int16}, {Name: "i32", Type: types.Int32},
	{Name: "i64", Type: types.Int64}, {Name: "f", Type: types.Float}, {Name: "d", Type: types.Double},
	{Name: "s,\"日本\"", Type: types.String}, {Name: "dt", Type: types.Date}, {Name: "ts", Type: types.Timestamp},
}

// pqValue returns a random value of t for a Parquet round trip: NULL now
// and then, edge values often, every float bit pattern (NaN payloads,
// signaling NaNs, -0), dates of 32 bits of days and any timestamp.
func pqValue(rng *rand.Rand, t types.Type, text []byte) types.Value {
	if rng.IntN(6) == 0 {
		return types.NullOf(t)
	}
	switch t {
	case types.Bool:
		return types.BoolValue(rng.IntN(2) == 0)
	case types.Int16, types.Int32, types.Int64, types.Timestamp:
		edges := []int64{0, -1, 1, math.MinInt16, math.MaxInt16, math.MinInt32, math.MaxInt32, math.MinInt64, math.MaxInt64, -1700000000123}
		v := int64(rng.Uint64()) >> rng.IntN(64)
		if rng.IntN(3) == 0 {
			v = edges[rng.IntN(len(edges))]
		}
		return types.Value{Type: t, I: types.Wrap(t, v)}
	case types.Date:
		edges := []int64{0, -1, 1, math.MinInt32, math.MaxInt32, 19782, -719528}
		v := int64(int32(rng.Uint32()) >> rng.IntN(32))
		if rng.IntN(3) == 0 {
			v = edges[rng.IntN(len(edges))]
		}
		return types.DateValue(v)
	case types.Float:
		bits := rng.Uint32()
		if rng.IntN(3) == 0 {
			bits = []uint32{0, 1 << 31, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffbfffff, 0x7fc12345, 1, 0x7f7fffff}[rng.IntN(10)]
		}
		return types.Value{Type: types.Float, F: float32Of(bits)} // not FloatValue: its conversion quiets signaling NaNs
	case types.Double:
		bits := rng.Uint64()
		if rng.IntN(3) == 0 {
			bits = []uint64{0, 1 << 63, 0x7ff0000000000000, 0xfff0000000000000, 0x7ff8000000000000, 0x7ff0000000000001,
				0xfff7ffffffffffff, 0x7ff8dead0000beef, 1, math.Float64bits(math.MaxFloat64)}[rng.IntN(10)]
		}
		return types.DoubleValue(math.Float64frombits(bits))
	}
	var s strings.Builder
	for range rng.IntN(5) {
		s.WriteString(hardStrings[rng.IntN(len(hardStrings))])
	}
	if len(text) > 0 && rng.IntN(4) == 0 {
		lo := rng.IntN(len(text))
		s.Write(text[lo : lo+rng.IntN(len(text)-lo+1)])
	}
	if rng.IntN(50) == 0 {
		s.WriteString(strings.Repeat("long ", 2000))
	}
	return types.StringValue(s.String())
}

// pqBlock returns n random rows of schema; text adds arbitrary bytes to
// the strings.
func pqBlock(rng *rand.Rand, schema types.Schema, n int, text []byte) *types.Block {
	b := types.NewBlock(schema, n)
	row := make([]types.Value, len(schema))
	for range n {
		for c, f := range schema {
			row[c] = pqValue(rng, f.Type, text)
		}
		b.AppendRow(row)
	}
	return b
}

// sameBits compares two blocks bit for bit: NULLs, integers, float bits
// (NULL slots included), strings. It returns the first difference.
func sameBits(got, want *types.Block) string {
	if got.Len != want.Len || len(got.Cols) != len(want.Cols) {
		return fmt.Sprintf("%d rows of %d columns, want %d of %d", got.Len, len(got.Cols), want.Len, len(want.Cols))
	}
	for c := range want.Cols {
		g, w := &got.Cols[c], &want.Cols[c]
		if g.Len() != want.Len || (g.Nulls != nil && len(g.Nulls) != want.Len) {
			return fmt.Sprintf("column %d: %d values, %d NULL flags in %d rows", c, g.Len(), len(g.Nulls), want.Len)
		}
		for i := range want.Len {
			var same bool
			switch w.Type.Kind() {
			case types.KindFloat, types.KindDouble:
				same = math.Float64bits(g.F[i]) == math.Float64bits(w.F[i])
			case types.KindString:
				same = g.S[i] == w.S[i]
			default:
				same = g.I[i] == w.I[i]
			}
			if !same || g.IsNull(i) != w.IsNull(i) {
				gv, wv := g.Value(i), w.Value(i)
				return fmt.Sprintf("row %d, column %d (%s): %s %#v, want %s %#v", i, c, want.Schema[c].Name, render(gv), gv, render(wv), wv)
			}
		}
	}
	return ""
}

// writeParquet writes blocks with a ParquetWriter of opts.
func writeParquet(t testing.TB, schema types.Schema, opts ParquetOptions, blocks ...*types.Block) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewParquetWriter(&buf, schema, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks {
		if err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readParquet reads every row of a Parquet file, max rows per call,
// checking the row numbers; a bad row is an error.
func readParquet(data []byte, name string, schema types.Schema, max int) (*types.Block, error) {
	r, err := NewParquetReader(bytes.NewReader(data), int64(len(data)), name, schema)
	if err != nil {
		return nil, err
	}
	b := types.NewBlock(schema, 0)
	var lines []int64
	for {
		n, err := r.Next(b, &lines, max)
		if n > max || len(lines) != b.Len {
			return nil, fmt.Errorf("Next returned %d rows (max %d), %d row numbers for %d rows", n, max, len(lines), b.Len)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	for i, l := range lines {
		if l != int64(i)+1 {
			return nil, fmt.Errorf("row %d has number %d", i, l)
		}
	}
	return b, nil
}

// roundTrip writes b (in pieces) with opts, reads it back max rows at a
// time and compares bit for bit.
func roundTrip(t *testing.T, rng *rand.Rand, b *types.Block, opts ParquetOptions, max int) {
	t.Helper()
	var pieces []*types.Block
	for lo := 0; lo < b.Len; {
		hi := min(b.Len, lo+1+rng.IntN(b.Len-lo+1))
		pieces = append(pieces, b.Gather(seq(lo, hi)))
		lo = hi
	}
	data := writeParquet(t, b.Schema, opts, pieces...)
	got, err := readParquet(data, "t.parquet", b.Schema, max)
	if err != nil {
		t.Fatalf("%d rows, %+v, max %d: %v", b.Len, opts, max, err)
	}
	if msg := sameBits(got, b); msg != "" {
		t.Fatalf("%d rows, %+v, max %d: %s", b.Len, opts, max, msg)
	}
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if rows := opts.RowGroupRows; rows > 0 {
		if want := (b.Len + rows - 1) / rows; opts.RowGroupBytes == 0 && len(f.RowGroups()) != want {
			t.Errorf("%d rows in row groups of %d: %d row groups, want %d", b.Len, rows, len(f.RowGroups()), want)
		}
		for _, g := range f.RowGroups() {
			if g.NumRows() > int64(rows) {
				t.Errorf("a row group of %d rows, more than %d", g.NumRows(), rows)
			}
		}
	}
}

// TestParquetRoundTrip writes random blocks of every scalar type (NULLs,
// NaN payloads, -0, extreme integers, empty and unicode strings, negative
// dates and timestamps) in row groups of random sizes with every codec,
// and reads them back, in random batch sizes, bit for bit.
func TestParquetRoundTrip(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	for iter := range 60 {
		schema := pqTypes
		if iter%3 == 1 {
			schema = randomSchema(rng)
		}
		b := pqBlock(rng, schema, rng.IntN(3000), nil)
		opts := ParquetOptions{Compression: Compression(iter % 4), RowGroupRows: 1 + rng.IntN(700)}
		if iter%5 == 0 {
			opts.RowGroupBytes = int64(1 + rng.IntN(20000))
		}
		roundTrip(t, rng, b, opts, 1+rng.IntN(1000))
	}
	// NULL only, no NULL, no rows.
	nulls := types.NewBlock(pqTypes, 0)
	full := pqBlock(rng, pqTypes, 500, nil)
	for i := range 500 {
		row := make([]types.Value, len(pqTypes))
		for c, f := range pqTypes {
			row[c] = types.NullOf(f.Type)
		}
		nulls.AppendRow(row)
		for c := range full.Cols {
			full.Cols[c].Nulls = nil
			if full.Cols[c].Type.IsFloat() {
				full.Cols[c].F[i] = float64(i)
			}
		}
	}
	for _, b := range []*types.Block{nulls, full, types.NewBlock(pqTypes, 0)} {
		roundTrip(t, rng, b, ParquetOptions{RowGroupRows: 128}, 77)
	}
}

// FuzzParquetRoundTrip round-trips random blocks of every scalar type,
// made from the seed, with strings cut from text, in row groups of
// groupRows rows, read back maxRead rows at a time.
func FuzzParquetRoundTrip(f *testing.F) {
	f.Add(uint64(1), uint16(100), uint16(7), uint16(13), uint8(0), []byte("héllo"))
	f.Add(uint64(2), uint16(0), uint16(1), uint16(1), uint8(1), []byte(""))
	f.Add(uint64(3), uint16(5000), uint16(1024), uint16(4096), uint8(2), []byte("\x00\xff,\"\n"))
	f.Add(uint64(4), uint16(1), uint16(1), uint16(1), uint8(3), []byte("日本語"))
	f.Add(uint64(5), uint16(2049), uint16(2048), uint16(1025), uint8(0), []byte("NaN"))
	f.Fuzz(func(t *testing.T, seed uint64, rows, groupRows, maxRead uint16, codec uint8, text []byte) {
		rng := rand.New(rand.NewPCG(seed, 7))
		b := pqBlock(rng, pqTypes, int(rows%8192), text)
		opts := ParquetOptions{Compression: Compression(codec % 4), RowGroupRows: 1 + int(groupRows)}
		roundTrip(t, rng, b, opts, 1+int(maxRead))
	})
}

// TestParquetWriterSchema checks the physical and logical types, the
// optional columns, their order and the codec of a file a ParquetWriter
// writes.
func TestParquetWriterSchema(t *testing.T) {
	t.Parallel()
	schema := append(pqTypes[:len(pqTypes):len(pqTypes)], types.Field{Name: "arr", Type: types.ArrayOf(types.Int64)})
	b := types.NewBlock(schema, 1)
	row := []types.Value{types.BoolValue(true), types.IntValue(types.Int16, -2), types.IntValue(types.Int32, 3), types.IntValue(types.Int64, 4),
		types.FloatValue(1.5), types.DoubleValue(-0.25), types.StringValue("x"), types.DateValue(-1), types.TimestampValue(-1),
		{Type: schema[9].Type, X: []types.Value{types.IntValue(types.Int64, 1), types.NullOf(types.Int64)}}}
	b.AppendRow(row)
	data := writeParquet(t, schema, ParquetOptions{}, b)
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"BOOLEAN", "INT32 INT(16,true)", "INT32", "INT64", "FLOAT", "DOUBLE", "BYTE_ARRAY STRING", "INT32 DATE",
		"INT64 TIMESTAMP(isAdjustedToUTC=true,unit=MILLIS)", "BYTE_ARRAY STRING"}
	cols := f.Root().Columns()
	if len(cols) != len(want) {
		t.Fatalf("%d columns, want %d", len(cols), len(want))
	}
	for i, c := range cols {
		if c.Name() != schema[i].Name || describe(c.Type()) != want[i] || !c.Optional() {
			t.Errorf("column %d: %s %s optional=%v, want %s %s optional", i, c.Name(), describe(c.Type()), c.Optional(), schema[i].Name, want[i])
		}
	}
	for _, c := range f.Metadata().RowGroups[0].Columns {
		if got := c.MetaData.Codec.String(); got != "SNAPPY" {
			t.Errorf("column %v: codec %s, want SNAPPY", c.MetaData.PathInSchema, got)
		}
	}
	// The array reads back as its JSON text.
	textSchema := append(pqTypes[:len(pqTypes):len(pqTypes)], types.Field{Name: "arr", Type: types.String})
	got, err := readParquet(data, "t.parquet", textSchema, 10)
	if err != nil {
		t.Fatal(err)
	}
	if s := got.Cols[9].S[0]; s != "[1,null]" {
		t.Errorf("array column: %q, want [1,null]", s)
	}
	row[9] = types.StringValue("[1,null]")
	if msg := sameBits(got, types.BlockOf(textSchema, [][]types.Value{row})); msg != "" {
		t.Error(msg)
	}
}

// TestParquetWriterErrors checks what a ParquetWriter refuses.
func TestParquetWriterErrors(t *testing.T) {
	t.Parallel()
	if _, err := NewParquetWriter(io.Discard, mustSchema(t, "a int64, a string"), ParquetOptions{}); err == nil ||
		err.Error() != "datafile: the schema names column a twice" {
		t.Errorf("a repeated name: %v", err)
	}
	if _, err := NewParquetWriter(io.Discard, mustSchema(t, "a int64"), ParquetOptions{Compression: 9}); err == nil ||
		err.Error() != "datafile: unknown Parquet compression 9" {
		t.Errorf("an unknown codec: %v", err)
	}
	schema := mustSchema(t, "d date, n int64")
	var buf bytes.Buffer
	w, err := NewParquetWriter(&buf, schema, ParquetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(types.NewBlock(mustSchema(t, "d string, n int64"), 0)); err == nil ||
		err.Error() != "datafile: writing a string column as column d (date)" {
		t.Errorf("a block of other types: %v", err)
	}
	far := types.BlockOf(schema, [][]types.Value{{types.DateValue(1), types.IntValue(types.Int64, 1)}, {types.DateValue(1 << 40), types.IntValue(types.Int64, 2)}})
	if err := w.Write(far); err == nil || !strings.HasPrefix(err.Error(), "datafile: column d: date ") ||
		!strings.HasSuffix(err.Error(), " is outside what a Parquet DATE holds") {
		t.Errorf("a date beyond 32 bits: %v", err)
	}
	ok := types.BlockOf(schema, [][]types.Value{{types.DateValue(1), types.IntValue(types.Int64, 1)}})
	if err := errors.Join(w.Write(ok), w.Close(), w.Close()); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ok); err == nil {
		t.Error("Write after Close: no error")
	}
	got, err := readParquet(buf.Bytes(), "t.parquet", schema, 10)
	if err != nil {
		t.Fatal(err)
	}
	if msg := sameBits(got, ok); msg != "" {
		t.Errorf("after a refused block: %s", msg)
	}
	if _, err := NewBlockWriter(io.Discard, Format(9), schema); err == nil {
		t.Error("NewBlockWriter of an unknown format: no error")
	}
}

// goColumn is a column of a file written with parquet-go directly.
type goColumn struct {
	name string
	node parquet.Node
	vals []parquet.Value // parquet.NullValue() for NULL
}

// writeGo writes columns with parquet-go's own writer, options as given.
// parquet.Group orders the columns by name, so their order in the file
// is rarely the order of a fenestra schema.
func writeGo(t testing.TB, cols []goColumn, opts ...parquet.WriterOption) []byte {
	t.Helper()
	g := parquet.Group{}
	byName := map[string]goColumn{}
	for _, c := range cols {
		g[c.name] = c.node
		byName[c.name] = c
	}
	schema := parquet.NewSchema("t", g)
	var buf bytes.Buffer
	w := parquet.NewWriter(&buf, append([]parquet.WriterOption{schema}, opts...)...)
	leaves := schema.Columns()
	rows := make([]parquet.Row, len(cols[0].vals))
	for i := range rows {
		for leaf, path := range leaves {
			c := byName[path[0]]
			v, def := c.vals[i], 0
			if (c.node.Optional() || c.node.Repeated()) && !v.IsNull() {
				def = 1
			}
			rows[i] = append(rows[i], v.Level(0, def, leaf))
		}
	}
	if _, err := w.WriteRows(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// int96 returns the INT96 of a Julian day and a nanosecond of the day.
func int96(day uint32, nanos uint64) parquet.Value {
	return parquet.Int96Value(deprecated.Int96{uint32(nanos), uint32(nanos >> 32), day})
}

// TestParquetReadShapes reads files other writers make: Spark's INT96
// timestamps, TIMESTAMP in MICROS and NANOS, local timestamps (read as
// UTC, as pandas writes epoch times without a zone), plain
// INT64 timestamps, narrower integers, dates, floats into doubles,
// dictionary-encoded columns, required columns, extra columns and other
// column orders, with every codec and both data page versions.
func TestParquetReadShapes(t *testing.T) {
	t.Parallel()
	i64 := parquet.Int64Value
	i32 := parquet.Int32Value
	null := parquet.NullValue()
	opt := parquet.Optional
	str := func(s string) parquet.Value { return parquet.ByteArrayValue([]byte(s)) }
	// 2023-11-14 22:13:20.123456789 UTC is Julian day 2460263, 80000.123456789 s into the day.
	cols := []goColumn{
		{"spark_ts", opt(parquet.Leaf(parquet.Int96Type)), []parquet.Value{int96(2460263, 80000123456789), int96(2440588, 0), int96(2440587, 86399999999999), null}},
		{"micros", opt(parquet.Timestamp(parquet.Microsecond)), []parquet.Value{i64(1700000000123456), i64(-1), i64(-1000), i64(1999)}},
		{"nanos", parquet.Timestamp(parquet.Nanosecond), []parquet.Value{i64(1700000000123456789), i64(-1), i64(-1000001), i64(0)}},
		{"local", parquet.TimestampAdjusted(parquet.Millisecond, false), []parquet.Value{i64(0), i64(28800000), i64(-1), i64(1)}},
		{"plain_ts", opt(parquet.Leaf(parquet.Int64Type)), []parquet.Value{i64(1700000000123), null, i64(-5), i64(math.MaxInt64)}},
		{"i8", parquet.Int(8), []parquet.Value{i32(-128), i32(127), i32(0), i32(5)}},
		{"u8", parquet.Uint(8), []parquet.Value{i32(255), i32(0), i32(1), i32(2)}},
		{"u16", opt(parquet.Uint(16)), []parquet.Value{i32(65535), null, i32(1), i32(2)}},
		{"u32", parquet.Uint(32), []parquet.Value{i32(-1), i32(0), i32(1), i32(2)}},
		{"widened", parquet.Leaf(parquet.Int32Type), []parquet.Value{i32(math.MinInt32), i32(1), i32(2), i32(3)}},
		{"day", opt(parquet.Date()), []parquet.Value{parquet.Int32Value(-719528), null, parquet.Int32Value(19782), parquet.Int32Value(0)}},
		{"f2d", parquet.Leaf(parquet.FloatType), []parquet.Value{parquet.FloatValue(1.1), parquet.FloatValue(float32(math.Inf(-1))), parquet.FloatValue(0), parquet.FloatValue(-2)}},
		{"flag", parquet.Leaf(parquet.BooleanType), []parquet.Value{parquet.BooleanValue(true), parquet.BooleanValue(false), parquet.BooleanValue(true), parquet.BooleanValue(true)}},
		{"word", opt(parquet.Encoded(parquet.String(), &parquet.RLEDictionary)), []parquet.Value{str("b"), str("a"), null, str("b")}},
		{"bytes", parquet.Leaf(parquet.ByteArrayType), []parquet.Value{str(""), str("\xff"), str("x"), str("日本")}},
		{"dict_i64", opt(parquet.Encoded(parquet.Leaf(parquet.Int64Type), &parquet.RLEDictionary)), []parquet.Value{i64(7), i64(7), null, i64(-7)}},
		{"dict_d", parquet.Encoded(parquet.Leaf(parquet.DoubleType), &parquet.RLEDictionary), []parquet.Value{parquet.DoubleValue(0.5), parquet.DoubleValue(0.5), parquet.DoubleValue(math.Copysign(0, -1)), parquet.DoubleValue(0.5)}},
		{"extra", parquet.Leaf(parquet.Int32Type), []parquet.Value{i32(1), i32(2), i32(3), i32(4)}},
	}
	schema := mustSchema(t, "word string, spark_ts timestamp, micros timestamp, nanos timestamp, local timestamp, plain_ts timestamp, "+
		"i8 int16, u8 int16, u16 int32, u32 int64, widened int64, day date, f2d double, flag bool, bytes string, dict_i64 int64, dict_d double")
	ts, i := types.TimestampValue, func(t types.Type, v int64) types.Value { return types.IntValue(t, v) }
	nul := types.NullOf
	want := types.BlockOf(schema, [][]types.Value{
		{types.StringValue("b"), ts(1700000000123), ts(1700000000123), ts(1700000000123), ts(0), ts(1700000000123),
			i(types.Int16, -128), i(types.Int16, 255), i(types.Int32, 65535), i(types.Int64, 4294967295), i(types.Int64, math.MinInt32),
			types.DateValue(-719528), types.DoubleValue(float64(float32(1.1))), types.BoolValue(true), types.StringValue(""), i(types.Int64, 7), types.DoubleValue(0.5)},
		{types.StringValue("a"), ts(0), ts(-1), ts(-1), ts(28800000), nul(types.Timestamp),
			i(types.Int16, 127), i(types.Int16, 0), nul(types.Int32), i(types.Int64, 0), i(types.Int64, 1),
			nul(types.Date), types.DoubleValue(math.Inf(-1)), types.BoolValue(false), types.StringValue("\xff"), i(types.Int64, 7), types.DoubleValue(0.5)},
		{nul(types.String), ts(-1), ts(-1), ts(-2), ts(-1), ts(-5),
			i(types.Int16, 0), i(types.Int16, 1), i(types.Int32, 1), i(types.Int64, 1), i(types.Int64, 2),
			types.DateValue(19782), types.DoubleValue(0), types.BoolValue(true), types.StringValue("x"), nul(types.Int64), types.DoubleValue(math.Copysign(0, -1))},
		{types.StringValue("b"), nul(types.Timestamp), ts(1), ts(0), ts(1), ts(math.MaxInt64),
			i(types.Int16, 5), i(types.Int16, 2), i(types.Int32, 2), i(types.Int64, 2), i(types.Int64, 3),
			types.DateValue(0), types.DoubleValue(-2), types.BoolValue(true), types.StringValue("日本"), i(types.Int64, -7), types.DoubleValue(0.5)},
	})
	for _, codec := range []Compression{Snappy, Zstd, Gzip, Uncompressed} {
		for _, version := range []int{1, 2} {
			data := writeGo(t, cols, parquet.Compression(codec.codec()), parquet.DataPageVersion(version))
			for _, max := range []int{1, 3, 100} {
				got, err := readParquet(data, "t.parquet", schema, max)
				if err != nil {
					t.Fatalf("codec %d, pages v%d: %v", codec, version, err)
				}
				if msg := sameBits(got, want); msg != "" {
					t.Fatalf("codec %d, pages v%d, max %d: %s", codec, version, max, msg)
				}
			}
		}
	}
}

// TestParquetReadEncodings reads the other encodings and codecs
// parquet-go writes: delta binary packed integers, delta and delta-length
// byte arrays, byte stream split floats; lz4 and brotli.
func TestParquetReadEncodings(t *testing.T) {
	t.Parallel()
	const n = 3000
	var ints, strs, prefixed, doubles []parquet.Value
	want := types.NewBlock(mustSchema(t, "i int64, s string, p string, d double"), n)
	for k := range n {
		i, s, p, d := int64(k*k)-1000, fmt.Sprint(k%17), fmt.Sprintf("prefix/%06d", k), float64(k)/3
		row := []types.Value{types.Int64Value(i), types.StringValue(s), types.StringValue(p), types.DoubleValue(d)}
		iv := parquet.Int64Value(i)
		if k%4 == 0 {
			row[0], iv = types.NullOf(types.Int64), parquet.NullValue()
		}
		ints, strs = append(ints, iv), append(strs, parquet.ByteArrayValue([]byte(s)))
		prefixed, doubles = append(prefixed, parquet.ByteArrayValue([]byte(p))), append(doubles, parquet.DoubleValue(d))
		want.AppendRow(row)
	}
	cols := []goColumn{
		{"i", parquet.Optional(parquet.Encoded(parquet.Leaf(parquet.Int64Type), &parquet.DeltaBinaryPacked)), ints},
		{"s", parquet.Encoded(parquet.String(), &parquet.DeltaLengthByteArray), strs},
		{"p", parquet.Encoded(parquet.String(), &parquet.DeltaByteArray), prefixed},
		{"d", parquet.Encoded(parquet.Leaf(parquet.DoubleType), &parquet.ByteStreamSplit), doubles},
	}
	for _, codec := range []parquet.WriterOption{parquet.Compression(&parquet.Lz4Raw), parquet.Compression(&parquet.Brotli)} {
		for _, version := range []int{1, 2} {
			data := writeGo(t, cols, codec, parquet.DataPageVersion(version), parquet.PageBufferSize(1024))
			got, err := readParquet(data, "t.parquet", want.Schema, 700)
			if err != nil {
				t.Fatal(err)
			}
			if msg := sameBits(got, want); msg != "" {
				t.Fatalf("pages v%d: %s", version, msg)
			}
		}
	}
}

// TestParquetReadPagesAndGroups reads a file of many small pages and row
// groups, dictionary-encoded and plain, against what was written.
func TestParquetReadPagesAndGroups(t *testing.T) {
	t.Parallel()
	const n = 20000
	rng := rand.New(rand.NewPCG(8, 9))
	words := []string{"alpha", "beta", "", "日本", "x,y"}
	var ids, names, amounts, plain []parquet.Value
	want := types.NewBlock(mustSchema(t, "id int64, name string, amount double, note string"), n)
	for k := range n {
		id, name, amount := rng.Int64N(1000)-500, words[rng.IntN(len(words))], rng.NormFloat64()
		note := fmt.Sprintf("note %d", k)
		row := []types.Value{types.IntValue(types.Int64, id), types.StringValue(name), types.DoubleValue(amount), types.StringValue(note)}
		idv, namev := parquet.Int64Value(id), parquet.ByteArrayValue([]byte(name))
		if k%7 == 0 {
			row[0], idv = types.NullOf(types.Int64), parquet.NullValue()
		}
		if k%11 == 0 {
			row[1], namev = types.NullOf(types.String), parquet.NullValue()
		}
		ids, names = append(ids, idv), append(names, namev)
		amounts, plain = append(amounts, parquet.DoubleValue(amount)), append(plain, parquet.ByteArrayValue([]byte(note)))
		want.AppendRow(row)
	}
	data := writeGo(t, []goColumn{
		{"id", parquet.Optional(parquet.Encoded(parquet.Leaf(parquet.Int64Type), &parquet.RLEDictionary)), ids},
		{"name", parquet.Optional(parquet.Encoded(parquet.String(), &parquet.RLEDictionary)), names},
		{"amount", parquet.Leaf(parquet.DoubleType), amounts},
		{"note", parquet.String(), plain},
	}, parquet.PageBufferSize(512), parquet.MaxRowsPerRowGroup(3001), parquet.Compression(&parquet.Zstd))
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.RowGroups()) < 5 {
		t.Fatalf("%d row groups, want several", len(f.RowGroups()))
	}
	for _, max := range []int{1, 999, 4096, n} {
		got, err := readParquet(data, "t.parquet", want.Schema, max)
		if err != nil {
			t.Fatal(err)
		}
		if msg := sameBits(got, want); msg != "" {
			t.Fatalf("max %d: %s", max, msg)
		}
	}
}

// TestParquetColumnErrors checks the errors of columns that cannot be
// read, word for word, and the matching of names.
func TestParquetColumnErrors(t *testing.T) {
	t.Parallel()
	i64 := []parquet.Value{parquet.Int64Value(1)}
	data := writeGo(t, []goColumn{
		{"id", parquet.Leaf(parquet.Int64Type), i64},
		{"name", parquet.String(), []parquet.Value{parquet.ByteArrayValue([]byte("a"))}},
		{"at", parquet.Timestamp(parquet.Microsecond), i64},
		{"tags", parquet.Repeated(parquet.String()), []parquet.Value{parquet.ByteArrayValue([]byte("t"))}},
		{"Amount", parquet.Leaf(parquet.DoubleType), []parquet.Value{parquet.DoubleValue(2.5)}},
		{"AMOUNT", parquet.Leaf(parquet.DoubleType), []parquet.Value{parquet.DoubleValue(3.5)}},
		{"Price", parquet.Leaf(parquet.FloatType), []parquet.Value{parquet.FloatValue(4.5)}},
		{"day", parquet.Date(), []parquet.Value{parquet.Int32Value(3)}},
	})
	cases := []struct{ schema, want string }{
		{"id int64, qty int32", "datafile: t.parquet: column qty: missing from the file (its columns: AMOUNT, Amount, Price, at, day, id, name, tags)"},
		{"name double", "datafile: t.parquet: column name: cannot read Parquet BYTE_ARRAY STRING as double"},
		{"id int32", "datafile: t.parquet: column id: cannot read Parquet INT64 as int32"},
		{"at int64", "datafile: t.parquet: column at: cannot read Parquet INT64 TIMESTAMP(isAdjustedToUTC=true,unit=MICROS) as int64"},
		{"day timestamp", "datafile: t.parquet: column day: cannot read Parquet INT32 DATE as timestamp"},
		{"Price float, Amount float", "datafile: t.parquet: column Amount: cannot read Parquet DOUBLE as float"},
		{"tags string", "datafile: t.parquet: column tags: a repeated Parquet column (tags), which cannot be read as string"},
		{"amount double", "datafile: t.parquet: column amount: the file has columns AMOUNT and Amount, which differ only in case"},
	}
	for _, c := range cases {
		_, err := readParquet(data, "t.parquet", mustSchema(t, c.schema), 10)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: got %v\nwant %s", c.schema, err, c.want)
		}
	}
	// Exact names win over case-insensitive ones; case-insensitive ones match.
	schema := mustSchema(t, "AMOUNT double, price double, ID timestamp")
	got, err := readParquet(data, "t.parquet", schema, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := types.BlockOf(schema, [][]types.Value{{types.DoubleValue(3.5), types.DoubleValue(4.5), types.TimestampValue(1)}})
	if msg := sameBits(got, want); msg != "" {
		t.Error(msg)
	}

	nested := writeGo(t, []goColumn{{"point", parquet.Group{"x": parquet.Leaf(parquet.Int64Type)}, i64}})
	if _, err := readParquet(nested, "n.parquet", mustSchema(t, "point int64"), 10); err == nil ||
		err.Error() != "datafile: n.parquet: column point: a nested Parquet group (point), which cannot be read as int64" {
		t.Errorf("a group: %v", err)
	}
	if _, err := readParquet([]byte("PAR1 not really PAR1"), "x.parquet", schema, 10); err == nil ||
		!strings.HasPrefix(err.Error(), "datafile: x.parquet: ") {
		t.Errorf("not a Parquet file: %v", err)
	}
	if _, err := readParquet(data, "t.parquet", types.Schema{{Name: "a", Type: types.ArrayOf(types.Int64)}}, 10); err == nil ||
		err.Error() != "datafile: t.parquet: column a: cannot read values of type array<int64>" {
		t.Errorf("an array column: %v", err)
	}
}

// TestParquetRowErrors reads integers out of their column's range (a file
// whose INT(16) column holds 70000): each is a *RowError naming the row,
// and reading goes on with the next row, every column in step.
func TestParquetRowErrors(t *testing.T) {
	t.Parallel()
	i32, null := parquet.Int32Value, parquet.NullValue()
	var small, other []parquet.Value
	var wantRows [][]types.Value
	var wantLines []int64
	bad := map[int]int64{2: 70000, 700: -40000, 701: 32768, 2999: 1 << 20}
	for k := range 3000 {
		v, o := i32(int32(k%1000)), i32(int32(k))
		wv, wo := types.IntValue(types.Int16, int64(k%1000)), types.StringValue(fmt.Sprint(k))
		if k%3 == 0 {
			v, wv = null, types.NullOf(types.Int16)
		}
		if k%5 == 0 {
			o, wo = null, types.NullOf(types.String)
		}
		if x, ok := bad[k]; ok {
			v = i32(int32(x))
		} else {
			wantRows = append(wantRows, []types.Value{wv, wo})
			wantLines = append(wantLines, int64(k)+1)
		}
		small = append(small, v)
		other = append(other, o)
	}
	str := make([]parquet.Value, len(other))
	for k, o := range other {
		if !o.IsNull() {
			str[k] = parquet.ByteArrayValue([]byte(fmt.Sprint(o.Int32())))
		}
	}
	data := writeGo(t, []goColumn{
		{"small", parquet.Optional(parquet.Int(16)), small},
		{"other", parquet.Optional(parquet.String()), str},
	}, parquet.PageBufferSize(256), parquet.MaxRowsPerRowGroup(1000))
	schema := mustSchema(t, "small int16, other string")
	for _, max := range []int{1, 5, 4096} {
		r, err := NewParquetReader(bytes.NewReader(data), int64(len(data)), "t.parquet", schema)
		if err != nil {
			t.Fatal(err)
		}
		b := types.NewBlock(schema, 0)
		var lines []int64
		var errs []string
		for {
			before := b.Len
			n, err := r.Next(b, &lines, max)
			if n != b.Len-before || len(lines) != b.Len {
				t.Fatalf("Next returned %d, appended %d rows, %d row numbers", n, b.Len-before, len(lines))
			}
			if err == io.EOF {
				break
			}
			var rowErr *RowError
			if errors.As(err, &rowErr) {
				errs = append(errs, err.Error())
			} else if err != nil {
				t.Fatal(err)
			}
		}
		wantErrs := []string{
			"t.parquet: row 3: column small: cannot read 70000 as int16: out of range",
			"t.parquet: row 701: column small: cannot read -40000 as int16: out of range",
			"t.parquet: row 702: column small: cannot read 32768 as int16: out of range",
			"t.parquet: row 3000: column small: cannot read 1048576 as int16: out of range",
		}
		if fmt.Sprint(errs) != fmt.Sprint(wantErrs) {
			t.Errorf("max %d: errors\n%q\nwant\n%q", max, errs, wantErrs)
		}
		if msg := sameBits(b, types.BlockOf(schema, wantRows)); msg != "" {
			t.Errorf("max %d: %s", max, msg)
		}
		if fmt.Sprint(lines) != fmt.Sprint(wantLines) {
			t.Errorf("max %d: row numbers differ", max)
		}
	}
}

// TestOpen reads Parquet through Open from sources with and without
// random access, and refuses a stream.
func TestOpen(t *testing.T) {
	t.Parallel()
	schema := mustSchema(t, "a int64, s string")
	b := types.BlockOf(schema, [][]types.Value{{types.IntValue(types.Int64, 1), types.StringValue("x")}})
	data := writeParquet(t, schema, ParquetOptions{}, b)
	for _, src := range []io.Reader{bytes.NewReader(data), io.NewSectionReader(bytes.NewReader(data), 0, int64(len(data)))} {
		r, err := Open(src, "t.parquet", Parquet, schema)
		if err != nil {
			t.Fatal(err)
		}
		got := types.NewBlock(schema, 0)
		if n, err := r.Next(got, nil, 10); n != 1 || err != nil {
			t.Fatalf("Next = %d, %v", n, err)
		}
		if n, err := r.Next(got, nil, 10); n != 0 || err != io.EOF {
			t.Fatalf("Next at the end = %d, %v", n, err)
		}
		if msg := sameBits(got, b); msg != "" {
			t.Error(msg)
		}
	}
	if _, err := Open(streamOf(data), "t.parquet", Parquet, schema); err == nil ||
		err.Error() != "datafile: t.parquet: reading a Parquet file needs random access (an io.ReaderAt of known size), not a stream" {
		t.Errorf("a stream: %v", err)
	}
	r, err := Open(strings.NewReader("a,s\n1,x\n"), "t.csv", CSV, schema)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.(*Reader); !ok {
		t.Errorf("Open of CSV: a %T", r)
	}
}

// streamOf returns a reader of data that has only a Read method.
func streamOf(data []byte) io.Reader { return struct{ io.Reader }{bytes.NewReader(data)} }

// TestParquetReadMemoryFlat reads files of 50,000 and 400,000 rows, in
// row groups of 16,384, into one reused block, as a pipeline does: the
// bytes and allocations per row must not grow with the file (they are
// per page and per row group, not per row).
func TestParquetReadMemoryFlat(t *testing.T) {
	per := func(rows int) (bytesPerRow, allocsPerRow float64) {
		d := benchTable(rows, 16384)
		r, err := Open(bytes.NewReader(d.files[Parquet]), "t.parquet", Parquet, d.schema)
		if err != nil {
			t.Fatal(err)
		}
		blk := types.NewBlock(d.schema, 4096)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		n := 0
		for {
			blk.Reset()
			k, err := r.Next(blk, nil, 4096)
			n += k
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		runtime.ReadMemStats(&after)
		if n != rows {
			t.Fatalf("read %d rows of %d", n, rows)
		}
		return float64(after.TotalAlloc-before.TotalAlloc) / float64(rows), float64(after.Mallocs-before.Mallocs) / float64(rows)
	}
	smallBytes, smallAllocs := per(50_000)
	bigBytes, bigAllocs := per(400_000)
	t.Logf("50,000 rows: %.1f B/row, %.4f allocs/row; 400,000 rows: %.1f B/row, %.4f allocs/row", smallBytes, smallAllocs, bigBytes, bigAllocs)
	if bigBytes > smallBytes*1.1+1 || bigAllocs > smallAllocs*1.1+0.01 {
		t.Errorf("allocation grows with the file: %.1f B/row and %.4f allocs/row for 400,000 rows, %.1f and %.4f for 50,000",
			bigBytes, bigAllocs, smallBytes, smallAllocs)
	}
	if bigAllocs > 0.05 {
		t.Errorf("%.4f allocs/row: reading allocates per row", bigAllocs)
	}
}

// FuzzReadParquet reads arbitrary bytes (seeded with small valid files)
// as a Parquet file: no panic, and the reader ends, with io.EOF or an
// error, after at most one call per row the file says it has and a few.
func FuzzReadParquet(f *testing.F) {
	rng := rand.New(rand.NewPCG(10, 11))
	for _, n := range []int{0, 1, 40} {
		f.Add(writeParquet(f, pqTypes, ParquetOptions{RowGroupRows: 16}, pqBlock(rng, pqTypes, n, nil)))
	}
	f.Add(writeGo(f, []goColumn{
		{"spark_ts", parquet.Optional(parquet.Leaf(parquet.Int96Type)), []parquet.Value{int96(2460263, 1), parquet.NullValue()}},
		{"w", parquet.Encoded(parquet.String(), &parquet.RLEDictionary), []parquet.Value{parquet.ByteArrayValue([]byte("a")), parquet.ByteArrayValue([]byte("b"))}},
	}))
	schemas := []types.Schema{pqTypes, mustSchema(f, "spark_ts timestamp, w string")}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, schema := range schemas {
			r, err := NewParquetReader(bytes.NewReader(data), int64(len(data)), "fuzz.parquet", schema)
			if err != nil {
				continue
			}
			b := types.NewBlock(schema, 0)
			for calls := 0; ; calls++ {
				if calls > len(data)+10 {
					t.Fatalf("no end after %d calls", calls)
				}
				before := b.Len
				n, err := r.Next(b, nil, 7)
				if n != b.Len-before || n > 7 {
					t.Fatalf("Next returned %d, appended %d rows", n, b.Len-before)
				}
				var rowErr *RowError
				if err != nil && !errors.As(err, &rowErr) {
					break
				}
			}
		}
	})
}

// TestFloat32Bits checks the bit-exact float conversions: every float32
// round-trips through a float column value, signaling NaNs included, and
// a float64 NaN with no float32 payload stays a NaN.
func TestFloat32Bits(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(12, 13))
	for _, b := range append([]uint32{0, 1 << 31, 0x7f800000, 0xff800000, 0x7f800001, 0x7fbfffff, 0x7fc00000, 0xffc00001, 1}, rng.Uint32(), rng.Uint32()|0x7f800000) {
		f := float32Of(b)
		if got := float32Bits(f); got != b {
			t.Errorf("%#08x -> %#016x -> %#08x", b, math.Float64bits(f), got)
		}
		if x := math.Float32frombits(b); x == x && f != float64(x) {
			t.Errorf("%#08x: float32Of = %v, want %v", b, f, float64(x))
		}
	}
	for range 100000 {
		b := rng.Uint32()
		if got := float32Bits(float32Of(b)); got != b {
			t.Fatalf("%#08x -> %#08x", b, got)
		}
	}
	if got := float32Bits(math.Float64frombits(0x7ff0000000000001)); got != 0x7fc00000 {
		t.Errorf("a NaN without a float32 payload: %#08x", got)
	}
}

// TestAsText checks that array and map columns become string columns of
// their JSON text, NULLs kept, and that a block without any is returned
// as it is.
func TestAsText(t *testing.T) {
	t.Parallel()
	arr, m := types.ArrayOf(types.Int64), types.MapOf(types.String, types.Double)
	schema := types.Schema{{Name: "k", Type: types.Int64}, {Name: "a", Type: arr}, {Name: "m", Type: m}}
	b := types.BlockOf(schema, [][]types.Value{
		{types.Int64Value(1), {Type: arr, X: []types.Value{types.Int64Value(2), types.NullOf(types.Int64)}},
			{Type: m, X: &types.Map{Keys: []types.Value{types.StringValue("x")}, Vals: []types.Value{types.DoubleValue(0.5)}}}},
		{types.Int64Value(3), types.NullOf(arr), types.NullOf(m)},
	})
	got := AsText(b)
	want := types.BlockOf(TextSchema(schema), [][]types.Value{
		{types.Int64Value(1), types.StringValue("[2,null]"), types.StringValue(`{"x":0.5}`)},
		{types.Int64Value(3), types.NullOf(types.String), types.NullOf(types.String)},
	})
	if fmt.Sprint(got.Schema) != "k int64, a string, m string" {
		t.Errorf("schema %v", got.Schema)
	}
	if msg := sameBits(got, want); msg != "" {
		t.Error(msg)
	}
	if plain := types.NewBlock(pqTypes, 0); AsText(plain) != plain {
		t.Error("a block of scalars is copied")
	}
	if _, err := NewBlockWriter(io.Discard, Parquet, mustSchema(t, "a int64, a int64")); err == nil {
		t.Error("a repeated name: no error")
	}
}
