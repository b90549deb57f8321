package bigtable

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// allTypes is a schema with a column of each of the nine types.
var allTypes = types.Schema{
	{Name: "b", Type: types.Bool}, {Name: "i16", Type: types.Int16}, {Name: "i32", Type: types.Int32},
	{Name: "i64", Type: types.Int64}, {Name: "f", Type: types.Float}, {Name: "d", Type: types.Double},
	{Name: "s", Type: types.String}, {Name: "ts", Type: types.Timestamp}, {Name: "day", Type: types.Date},
}

// codecRows are rows of allTypes: extremes, NULLs in every column, NaN
// payloads, negative zero, strings that are not UTF-8.
func codecRows() [][]types.Value {
	f32 := func(bits uint32) types.Value { return types.FloatValue(float64(math.Float32frombits(bits))) }
	row := func(b bool, i16, i32, i64 int64, f, d types.Value, s string, ts, day int64) []types.Value {
		return []types.Value{types.BoolValue(b), types.IntValue(types.Int16, i16), types.IntValue(types.Int32, i32), types.Int64Value(i64), f, d, types.StringValue(s), types.TimestampValue(ts), types.DateValue(day)}
	}
	nulls := make([]types.Value, len(allTypes))
	for i, f := range allTypes {
		nulls[i] = types.NullOf(f.Type)
	}
	rows := [][]types.Value{
		row(true, math.MaxInt16, math.MaxInt32, math.MaxInt64, types.FloatValue(math.MaxFloat32), types.DoubleValue(math.MaxFloat64), "héllo", math.MaxInt64, math.MaxInt64),
		row(false, math.MinInt16, math.MinInt32, math.MinInt64, types.FloatValue(-math.MaxFloat32), types.DoubleValue(-math.SmallestNonzeroFloat64), "", math.MinInt64, math.MinInt64),
		row(true, 0, -1, 1, f32(0x7fc00123), types.DoubleValue(math.Float64frombits(0x7ff0000000000001)), "\x00\xff\xfe bad \xc3", 0, 0),
		row(false, -1, 1, -1, f32(0x7f800001), types.DoubleValue(math.Float64frombits(0xfff8deadbeef0000)), strings.Repeat("long ", 100), -1, -1),
		row(true, 1, 2, 3, types.FloatValue(math.Copysign(0, -1)), types.DoubleValue(math.Copysign(0, -1)), "x", 1704038400000, 19723),
		row(true, 1, 2, 3, types.FloatValue(math.Inf(-1)), types.DoubleValue(math.Inf(1)), "y", 1, 1),
		nulls,
	}
	for c := range allTypes { // one NULL at a time
		r := append([]types.Value(nil), rows[0]...)
		r[c] = types.NullOf(allTypes[c].Type)
		rows = append(rows, r)
	}
	return rows
}

// TestCodecRoundTrip: every row decodes to identical values (floats bit
// for bit), appended to a block that already holds rows.
func TestCodecRoundTrip(t *testing.T) {
	t.Parallel()
	c, err := NewCodec(allTypes)
	if err != nil {
		t.Fatal(err)
	}
	rows := codecRows()
	in := types.BlockOf(allTypes, rows)
	out := types.BlockOf(allTypes, rows[:1]) // decoding appends
	var buf []byte
	for i := range rows {
		buf = c.Append(buf[:0], in, i)
		if err := c.Decode(buf, out); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
	}
	if out.Len != len(rows)+1 {
		t.Fatalf("%d rows decoded, want %d", out.Len, len(rows)+1)
	}
	for i, want := range rows {
		got := out.Row(i+1, nil)
		for c := range want {
			if !types.Identical(got[c], want[c]) || got[c].Type != want[c].Type {
				t.Errorf("row %d column %s: got %v (%x), want %v (%x)", i, allTypes[c].Name, got[c], math.Float64bits(got[c].F), want[c], math.Float64bits(want[c].F))
			}
		}
	}
	for c := range out.Cols {
		if n := out.Cols[c].Len(); n != out.Len || out.Cols[c].Nulls != nil && len(out.Cols[c].Nulls) != out.Len {
			t.Errorf("column %d: %d values, %d nulls for %d rows", c, n, len(out.Cols[c].Nulls), out.Len)
		}
	}
}

// TestCodecRepeatedStrings: rows that repeat the strings of the row
// decoded before them (a key's rows) take that row's strings; the others
// their own, NULLs and empty strings included.
func TestCodecRepeatedStrings(t *testing.T) {
	t.Parallel()
	schema := types.Schema{{Name: "k", Type: types.String}, {Name: "n", Type: types.Int64}, {Name: "s", Type: types.String}}
	c, err := NewCodec(schema)
	if err != nil {
		t.Fatal(err)
	}
	str, null := types.StringValue, types.Value{Type: types.String, Null: true}
	rows := [][]types.Value{
		{str("a"), types.Int64Value(1), str("x")},
		{str("a"), types.Int64Value(2), str("x")},
		{str("a"), types.Int64Value(3), str("xy")},
		{str("ax"), types.Int64Value(4), str("y")},
		{null, types.Int64Value(5), str("y")},
		{null, types.Int64Value(6), str("y")},
		{str(""), types.Int64Value(7), str("y")},
		{str(""), types.Int64Value(8), null},
		{str(""), types.Int64Value(9), str("")},
		{str(""), types.Int64Value(9), str("")},
	}
	in := types.BlockOf(schema, rows)
	out := types.NewBlock(schema, 0)
	var buf []byte
	for i := range rows {
		buf = c.Append(buf[:0], in, i)
		if err := c.Decode(buf, out); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
	}
	for i, want := range rows {
		got := out.Row(i, nil)
		for k := range want {
			if !types.Identical(got[k], want[k]) {
				t.Errorf("row %d column %s: got %v, want %v", i, schema[k].Name, got[k], want[k])
			}
		}
	}
}

// TestCodecSchemaMismatch: a row of another schema is refused with
// storage.ErrSchema naming both schemas.
func TestCodecSchemaMismatch(t *testing.T) {
	t.Parallel()
	w, _ := NewCodec(types.Schema{{Name: "k", Type: types.String}, {Name: "v", Type: types.Double}})
	r, _ := NewCodec(types.Schema{{Name: "k", Type: types.String}, {Name: "v", Type: types.Float}})
	in := types.BlockOf(w.Schema(), [][]types.Value{{types.StringValue("a"), types.DoubleValue(1)}})
	out := types.NewBlock(r.Schema(), 0)
	err := r.Decode(w.Append(nil, in, 0), out)
	var se *SchemaError
	if !errors.Is(err, storage.ErrSchema) || !errors.As(err, &se) || se.GotFP != w.Fingerprint() {
		t.Fatalf("got %v, want a SchemaError", err)
	}
	se.Got = w.Schema() // as the store fills it in from the metadata row
	for _, want := range []string{w.Fingerprint().String(), r.Fingerprint().String(), "(k string, v double)", "(k string, v float)"} {
		if !strings.Contains(se.Error(), want) {
			t.Errorf("%q does not name %s", se.Error(), want)
		}
	}
	if out.Len != 0 || out.Cols[0].Len() != 0 {
		t.Error("a refused row was appended")
	}
}

// TestCodecCorrupt: truncated, padded or altered values are errors and
// leave the block as it was.
func TestCodecCorrupt(t *testing.T) {
	t.Parallel()
	c, _ := NewCodec(allTypes)
	rows := codecRows()
	in := types.BlockOf(allTypes, rows)
	good := c.Append(nil, in, 2)
	bad := map[string][]byte{
		"empty":     nil,
		"version":   append([]byte{9}, good[1:]...),
		"trailing":  append(append([]byte(nil), good...), 'x'),
		"bitmap":    func() []byte { b := append([]byte(nil), good...); b[10] = 0xFF; return b }(),
		"bool":      func() []byte { b := append([]byte(nil), good...); b[11] = 7; return b }(),
		"int16 big": c.Append(nil, types.BlockOf(allTypes, [][]types.Value{{rows[0][0], types.Value{Type: types.Int16, I: 1 << 20}, rows[0][2], rows[0][3], rows[0][4], rows[0][5], rows[0][6], rows[0][7], rows[0][8]}}), 0),
	}
	for n := range good {
		bad[fmt.Sprintf("truncated to %d bytes", n)] = good[:n]
	}
	out := types.BlockOf(allTypes, rows[:2])
	for name, data := range bad {
		if err := c.Decode(data, out); err == nil {
			t.Errorf("%s: decoded %x", name, data)
		} else if errors.Is(err, storage.ErrSchema) && name != "empty" && len(data) >= 9 {
			t.Errorf("%s: %v is not a schema mismatch", name, err)
		}
		if out.Len != 2 {
			t.Fatalf("%s: block grew to %d rows", name, out.Len)
		}
		for i := range out.Cols {
			if out.Cols[i].Len() != 2 || out.Cols[i].Nulls != nil && len(out.Cols[i].Nulls) != 2 {
				t.Fatalf("%s: column %d has %d values", name, i, out.Cols[i].Len())
			}
		}
	}
}

// FuzzDecode: the decoder never panics, keeps the block consistent, and
// what it accepts encodes back to a value it decodes identically.
func FuzzDecode(f *testing.F) {
	c, _ := NewCodec(allTypes)
	rows := codecRows()
	in := types.BlockOf(allTypes, rows)
	for i := range rows {
		f.Add(c.Append(nil, in, i))
	}
	f.Add([]byte{rowFormat})
	f.Fuzz(func(t *testing.T, data []byte) {
		out := types.NewBlock(allTypes, 0)
		if err := c.Decode(data, out); err != nil {
			if out.Len != 0 {
				t.Fatalf("error %v but %d rows", err, out.Len)
			}
			return
		}
		again := types.NewBlock(allTypes, 0)
		if err := c.Decode(c.Append(nil, out, 0), again); err != nil {
			t.Fatalf("re-encoding a decoded row: %v", err)
		}
		a, b := out.Row(0, nil), again.Row(0, nil)
		for i := range a {
			if !types.Identical(a[i], b[i]) {
				t.Fatalf("column %d: %v then %v", i, a[i], b[i])
			}
		}
	})
}
