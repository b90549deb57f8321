package datafile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// TestEncoding checks the exact text of every scalar type, NULLs, quoting,
// and of arrays and maps (outputs only), in both formats.
func TestEncoding(t *testing.T) {
	t.Parallel()
	schema := append(mustSchema(t, allTypes),
		types.Field{Name: "a,\"b\"", Type: types.ArrayOf(types.Double)},
		types.Field{Name: "m", Type: types.MapOf(types.Date, types.String)})
	arr := types.Value{Type: types.ArrayOf(types.Double), X: []types.Value{types.DoubleValue(1.5), types.DoubleValue(math.NaN()), types.NullOf(types.Double)}}
	m := types.Value{Type: types.MapOf(types.Date, types.String), X: &types.Map{
		Keys: []types.Value{types.DateValue(0), types.NullOf(types.Date)},
		Vals: []types.Value{types.StringValue("x\"y"), types.StringValue("")},
	}}
	rows := [][]types.Value{
		{types.IntValue(types.Int16, -7), types.IntValue(types.Int32, 1<<31-1), types.Int64Value(math.MinInt64),
			types.FloatValue(0.1), types.DoubleValue(0.1), types.StringValue("plain"), types.TimestampValue(1700000000123),
			types.DateValue(19782), types.BoolValue(true), arr, m},
		{types.NullOf(types.Int16), types.NullOf(types.Int32), types.NullOf(types.Int64), types.FloatValue(float64(float32(math.NaN()))),
			types.DoubleValue(math.Inf(-1)), types.StringValue(""), types.TimestampValue(-1), types.DateValue(-719529),
			types.BoolValue(false), types.NullOf(arr.Type), types.Value{Type: m.Type, X: &types.Map{}}},
		{types.IntValue(types.Int16, 0), types.IntValue(types.Int32, 0), types.Int64Value(0), types.FloatValue(math.Inf(1)),
			types.DoubleValue(math.Copysign(0, -1)), types.StringValue(" a,\"b\"\r\n\t\x01é\xff "), types.NullOf(types.Timestamp),
			types.NullOf(types.Date), types.NullOf(types.Bool), types.Value{Type: arr.Type, X: []types.Value{}}, types.NullOf(m.Type)},
	}
	b := types.BlockOf(schema, rows)
	wantCSV := `i16,i32,i64,f,d,s,ts,dt,b,"a,""b""",m
-7,2147483647,-9223372036854775808,0.1,0.1,plain,1700000000123,2024-02-29,true,"[1.5,""NaN"",null]","{""1970-01-01"":""x\""y"",""null"":""""}"
,,,NaN,-Inf,"",-1,-0001-12-31,false,,{}
0,0,0,Inf,-0," a,""b""` + "\r\n\t\x01é\xff \"" + `,,,,[],
`
	wantJSONL := `{"i16":-7,"i32":2147483647,"i64":-9223372036854775808,"f":0.1,"d":0.1,"s":"plain","ts":1700000000123,"dt":"2024-02-29","b":true,"a,\"b\"":[1.5,"NaN",null],"m":{"1970-01-01":"x\"y","null":""}}
{"i16":null,"i32":null,"i64":null,"f":"NaN","d":"-Inf","s":"","ts":-1,"dt":"-0001-12-31","b":false,"a,\"b\"":null,"m":{}}
{"i16":0,"i32":0,"i64":0,"f":"Inf","d":-0,"s":" a,\"b\"\r\n\t\u0001é` + "\xff" + ` ","ts":null,"dt":null,"b":null,"a,\"b\"":[],"m":null}
`
	for f, want := range map[Format]string{CSV: wantCSV, JSONL: wantJSONL} {
		var buf bytes.Buffer
		w := NewWriter(&buf, f, schema)
		if err := w.Write(b); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if buf.String() != want {
			t.Errorf("%v: wrote\n%s\nwant\n%s", f, buf.String(), want)
		}
	}
}

// TestEncodingMatchesTypes checks the writer's floats and dates against
// types.FormatFloat and types.FormatDate, the conformance encoding.
func TestEncodingMatchesTypes(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		f := math.Float64frombits(rng.Uint64())
		if got, want := string(appendFloat(nil, f, 64)), types.FormatFloat(f, 64); got != want {
			t.Fatalf("double %v: %s, want %s", f, got, want)
		}
		f32 := float64(math.Float32frombits(rng.Uint32()))
		if got, want := string(appendFloat(nil, f32, 32)), types.FormatFloat(f32, 32); got != want {
			t.Fatalf("float %v: %s, want %s", f32, got, want)
		}
		days := rng.Int64N(2e8) - 1e8 // about ±270,000 years, where FormatDate is exact
		if got, want := string(appendDate(nil, days)), types.FormatDate(days); got != want {
			t.Fatalf("date %d: %s, want %s", days, got, want)
		}
	}
}

// TestWriterErrors checks the blocks and formats a Writer refuses, and
// that an error of the underlying writer sticks.
func TestWriterErrors(t *testing.T) {
	t.Parallel()
	schema := mustSchema(t, "a int64")
	var buf bytes.Buffer
	if err := NewWriter(&buf, CSV, schema).Write(types.NewBlock(mustSchema(t, "a string"), 0)); err == nil {
		t.Error("a string column written as int64")
	}
	if err := NewWriter(&buf, CSV, schema).Write(types.NewBlock(mustSchema(t, "a int64, b int64"), 0)); err == nil {
		t.Error("two columns written as one")
	}
	if err := NewWriter(&buf, Format(0), schema).Flush(); err == nil {
		t.Error("no error for Format(0)")
	}
	if err := NewWriter(&buf, CSV, nil).Flush(); err == nil {
		t.Error("no error for a CSV file without columns")
	}
	w := NewWriter(&buf, JSONL, nil)
	if err := errors.Join(w.Write(&types.Block{Len: 1}), w.Flush()); err != nil || buf.String() != "{}\n" {
		t.Errorf("JSONL without columns: %v, %q", err, buf.String())
	}
	boom := errors.New("boom")
	bw := NewWriter(failWriter{boom}, CSV, schema)
	big := types.NewBlock(schema, 0)
	for i := range 100000 {
		big.AppendRow([]types.Value{types.Int64Value(int64(i))})
	}
	if err := bw.Write(big); !errors.Is(err, boom) {
		t.Errorf("Write = %v, want boom", err)
	}
	if err := bw.Flush(); !errors.Is(err, boom) {
		t.Errorf("then Flush = %v, want boom", err)
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

// TestEncodingOptions checks the exact text of CSV dialects: delimiter,
// quote, null value (values whose text is the null value quoted), no
// header, and the byte order mark before a first row that starts with
// the bytes of one; and that each reads back.
func TestEncodingOptions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		opts   CSVOptions
		schema string
		rows   [][]types.Value
		want   string
	}{
		{
			CSVOptions{Delimiter: ';', NoHeader: true, NullValue: "NA", Quote: '\''}, "s string, i int64, d double",
			[][]types.Value{
				{types.StringValue("NA"), types.NullOf(types.Int64), types.DoubleValue(1.5)},
				{types.NullOf(types.String), types.Int64Value(7), types.NullOf(types.Double)},
				{types.StringValue("it's;x"), types.Int64Value(-1), types.DoubleValue(math.NaN())},
				{types.StringValue(""), types.Int64Value(0), types.DoubleValue(math.Inf(1))},
				{types.StringValue(`a"b,c`), types.Int64Value(0), types.DoubleValue(0)},
			},
			"'NA';NA;1.5\nNA;7;NA\n'it''s;x';-1;NaN\n'';0;Inf\na\"b,c;0;0\n",
		},
		{
			CSVOptions{Delimiter: '.', NullValue: "0"}, "a.b int64, d double, dt date, s string",
			[][]types.Value{
				{types.Int64Value(0), types.DoubleValue(1.5), types.DateValue(0), types.StringValue("0")},
				{types.NullOf(types.Int64), types.NullOf(types.Double), types.NullOf(types.Date), types.NullOf(types.String)},
				{types.Int64Value(10), types.DoubleValue(-0.5), types.DateValue(1), types.StringValue("x.y")},
			},
			"\"a.b\".d.dt.s\n\"0\".\"1.5\".1970-01-01.\"0\"\n0.0.0.0\n10.\"-0.5\".1970-01-02.\"x.y\"\n",
		},
		{
			CSVOptions{Delimiter: '\t', NoHeader: true}, "s string, b bool",
			[][]types.Value{{types.StringValue("\ufeffx y"), types.BoolValue(true)}, {types.StringValue("a\tb"), types.NullOf(types.Bool)}},
			"\ufeff\ufeffx y\ttrue\n\"a\tb\"\t\n",
		},
		{
			CSVOptions{Quote: 'e', NullValue: "N"}, "b bool, s string",
			[][]types.Value{{types.BoolValue(true), types.StringValue("N")}, {types.BoolValue(false), types.NullOf(types.String)}},
			"b,s\netrueee,eNe\nefalseee,N\n",
		},
	}
	for _, c := range cases {
		schema := mustSchema(t, c.schema)
		b := types.BlockOf(schema, c.rows)
		var buf bytes.Buffer
		w := NewWriterOptions(&buf, CSV, schema, c.opts)
		if err := errors.Join(w.Write(b), w.Close()); err != nil {
			t.Fatal(err)
		}
		if buf.String() != c.want {
			t.Errorf("%+v: wrote\n%q\nwant\n%q", c.opts, buf.String(), c.want)
		}
		got, err := readAll(bytes.NewReader(buf.Bytes()), CSV, schema, c.opts, bufSize, 100)
		if err != nil {
			t.Fatalf("%+v: %v", c.opts, err)
		}
		if msg := sameRows(got, b); msg != "" {
			t.Errorf("%+v: read back: %s", c.opts, msg)
		}
	}
}

// encode returns b as a file of format f written row by row with a
// RowEncoder of opts.
func encode(t testing.TB, f Format, opts CSVOptions, b *types.Block) []byte {
	t.Helper()
	enc, err := NewRowEncoder(f, opts)
	if err != nil {
		t.Fatal(err)
	}
	var first, rows []byte
	for i := range b.Len {
		rows = enc.AppendRow(rows, b, i)
		if i == 0 {
			first = rows
		}
	}
	return append(enc.AppendStart(nil, b.Schema, first), rows...)
}

// dialectBytes are the delimiters and quotes of random dialects: 0 (the
// default), the usual ones, blanks, and bytes of the text of values
// (digits, signs, letters of NaN, Inf and true) and of a byte order mark.
var dialectBytes = []byte{0, 0, ',', ';', '|', '\t', ' ', '"', '\'', '\\', '0', '1', '-', '+', '.', 'e', 'a', 'N', ':', '{', 0xef, 0xbb, 0xbf, 0xff}

// nullValues are the null values of random dialects: none, the usual ones,
// and the text of values that must then be quoted.
var nullValues = []string{"", "", "NA", "null", "NULL", `\N`, "NaN", "Inf", "0", "-1", "true", "1970-01-01", "\ufeff", "é", "x y", "[]"}

// randomCSVOptions returns a random dialect, the default one a third of
// the time.
func randomCSVOptions(rng *rand.Rand) CSVOptions {
	if rng.IntN(3) == 0 {
		return CSVOptions{}
	}
	for {
		o := CSVOptions{
			Delimiter: dialectBytes[rng.IntN(len(dialectBytes))],
			Quote:     dialectBytes[rng.IntN(len(dialectBytes))],
			NoHeader:  rng.IntN(2) == 0,
			NullValue: nullValues[rng.IntN(len(nullValues))],
		}
		if o.Check() == nil {
			return o
		}
	}
}

// TestRoundTrip writes random blocks of random schemas (every scalar type,
// NULLs, special floats, float32 values, hard strings) in both formats,
// CSV in random dialects, and reads them back, in random batch sizes
// through awkward readers and small buffers: every value must come back
// identical, bit for bit. The Writer must write what a RowEncoder does,
// and with the default dialect what AppendHeader and AppendRow do.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := range 600 {
		schema := randomSchema(rng)
		b := randomBlock(rng, schema, rng.IntN(50))
		opts := randomCSVOptions(rng)
		for _, f := range []Format{CSV, JSONL} {
			var buf bytes.Buffer
			w := NewWriterOptions(&buf, f, schema, opts)
			half := b.Gather(seq(0, b.Len/2))
			rest := b.Gather(seq(b.Len/2, b.Len))
			if err := errors.Join(w.Write(half), w.Write(rest), w.Flush()); err != nil {
				t.Fatal(err)
			}
			if enc := encode(t, f, opts, b); !bytes.Equal(enc, buf.Bytes()) {
				t.Fatalf("%v %+v: Writer and RowEncoder differ:\n%q\n%q", f, opts, buf.Bytes(), enc)
			}
			if opts == (CSVOptions{}) {
				appended := AppendHeader(nil, f, schema)
				for i := range b.Len {
					appended = AppendRow(appended, f, b, i)
				}
				if !bytes.Equal(appended, buf.Bytes()) {
					t.Fatalf("%v: Writer and AppendRow differ:\n%q\n%q", f, buf.Bytes(), appended)
				}
			}
			readers := map[string]func() io.Reader{
				"plain":    func() io.Reader { return bytes.NewReader(buf.Bytes()) },
				"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(buf.Bytes())) },
				"half":     func() io.Reader { return iotest.HalfReader(bytes.NewReader(buf.Bytes())) },
			}
			for name, open := range readers {
				size := bufSize
				if rng.IntN(2) == 0 {
					size = 1 + rng.IntN(64)
				}
				got, err := readAll(open(), f, schema, opts, size, 1+rng.IntN(20))
				if err != nil {
					t.Fatalf("iter %d, %v %+v, %s reader: %v\n%q", iter, f, opts, name, err, buf.Bytes())
				}
				if msg := sameRows(got, b); msg != "" {
					t.Fatalf("iter %d, %v %+v, %s reader, schema %v: %s\n%q", iter, f, opts, name, schema, msg, buf.Bytes())
				}
			}
		}
	}
}

// seq returns lo, lo+1, ..., hi-1.
func seq(lo, hi int) []int {
	s := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		s = append(s, i)
	}
	return s
}

// readAll reads every row of src; a bad row is an error.
func readAll(src io.Reader, f Format, schema types.Schema, opts CSVOptions, size, max int) (*types.Block, error) {
	r, err := newReader(src, "t", f, schema, opts, size, maxRecord)
	if err != nil {
		return nil, err
	}
	b := types.NewBlock(schema, 0)
	var lines []int64
	for {
		n, err := r.Next(b, &lines, max)
		if n > max || len(lines) != b.Len {
			return nil, fmt.Errorf("Next returned %d rows (max %d), %d lines for %d rows", n, max, len(lines), b.Len)
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// sameRows compares two blocks value by value with types.Identical.
func sameRows(got, want *types.Block) string {
	if got.Len != want.Len {
		return fmt.Sprintf("%d rows, want %d", got.Len, want.Len)
	}
	for i := range want.Len {
		for c := range want.Cols {
			g, w := got.Cols[c].Value(i), want.Cols[c].Value(i)
			if !types.Identical(g, w) {
				return fmt.Sprintf("row %d, column %d: %s (%#v), want %s (%#v)", i, c, render(g), g, render(w), w)
			}
		}
	}
	return ""
}

var scalarTypes = []types.Type{types.Bool, types.Int16, types.Int32, types.Int64, types.Float, types.Double, types.String, types.Timestamp, types.Date}

// randomSchema returns 1 to 6 columns of random scalar types, named to
// need quoting and escaping now and then.
func randomSchema(rng *rand.Rand) types.Schema {
	names := []string{"a", "b,c", `"q"`, "日本", "x y", "back\\slash"}
	n := 1 + rng.IntN(len(names))
	schema := make(types.Schema, n)
	for i, k := range rng.Perm(len(names))[:n] {
		schema[i] = types.Field{Name: names[k], Type: scalarTypes[rng.IntN(len(scalarTypes))]}
	}
	return schema
}

// randomBlock returns n random rows of schema.
func randomBlock(rng *rand.Rand, schema types.Schema, n int) *types.Block {
	b := types.NewBlock(schema, n)
	row := make([]types.Value, len(schema))
	for range n {
		for c, f := range schema {
			row[c] = randomValue(rng, f.Type)
		}
		b.AppendRow(row)
	}
	return b
}

// hardStrings are pieces random strings are made of.
var hardStrings = []string{"", " ", "\t", "a", "Z9", ",", `"`, `""`, "\r", "\n", "\r\n", "\\", "\x00", "\x1f", "\x7f",
	"é", "日本", "😀", "\ufeff", "\xff", "\xc3", "NULL", "null", "NaN", "-0", "{", "}", "[", "u2028\u2028", "\\u0041",
	"NA", `\N`, "|", ";", "'", "\xbb\xbf"}

// randomValue returns a random value of t: NULL now and then, edge values
// often.
func randomValue(rng *rand.Rand, t types.Type) types.Value {
	if rng.IntN(8) == 0 {
		return types.NullOf(t)
	}
	switch t {
	case types.Bool:
		return types.BoolValue(rng.IntN(2) == 0)
	case types.Int16, types.Int32, types.Int64:
		edges := []int64{0, -1, 1, math.MinInt16, math.MaxInt16, math.MinInt32, math.MaxInt32, math.MinInt64, math.MaxInt64}
		if rng.IntN(3) == 0 {
			return types.IntValue(t, edges[rng.IntN(len(edges))])
		}
		return types.IntValue(t, int64(rng.Uint64()))
	case types.Timestamp, types.Date:
		edges := []int64{0, -1, 1, math.MinInt64, math.MaxInt64, 1700000000123, 19782}
		v := int64(rng.Uint64())
		if rng.IntN(3) == 0 {
			v = edges[rng.IntN(len(edges))]
		} else if rng.IntN(2) == 0 {
			v >>= rng.IntN(64)
		}
		return types.Value{Type: t, I: v}
	case types.Float:
		f := float64(math.Float32frombits(rng.Uint32()))
		if rng.IntN(3) == 0 {
			f = float64(float32(randomSpecial(rng)))
		}
		return types.FloatValue(canonNaN(f, 32))
	case types.Double:
		f := math.Float64frombits(rng.Uint64())
		if rng.IntN(3) == 0 {
			f = randomSpecial(rng)
		}
		return types.DoubleValue(canonNaN(f, 64))
	}
	var s strings.Builder
	for range rng.IntN(5) {
		s.WriteString(hardStrings[rng.IntN(len(hardStrings))])
	}
	return types.StringValue(s.String())
}

// randomSpecial returns an edge float.
func randomSpecial(rng *rand.Rand) float64 {
	specials := []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), 0.1, -1.5, 1e6, 1e21, 1e-7,
		math.MaxFloat64, math.SmallestNonzeroFloat64, math.MaxFloat32, math.SmallestNonzeroFloat32, 16777217, 1 << 53}
	return specials[rng.IntN(len(specials))]
}

// canonNaN replaces a NaN by the NaN a reader returns for it.
func canonNaN(f float64, bits int) float64 {
	if !math.IsNaN(f) {
		return f
	}
	if bits == 32 {
		return float64(float32(math.NaN()))
	}
	return math.NaN()
}

// TestFastFormatting compares the writer's integer and double formatting
// with strconv on random and edge values, and on decimals of the shapes
// the fast paths serve.
func TestFastFormatting(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(17, 18))
	ints := []int64{0, 1, -1, 9, 10, 99999999, 100000000, 9999999999999999, 1e16, math.MaxInt64, math.MinInt64, math.MinInt64 + 1}
	for range 1_000_000 {
		ints = append(ints, int64(rng.Uint64())>>rng.IntN(64))
	}
	for _, i := range ints {
		if got, want := string(appendInt(nil, i)), strconv.FormatInt(i, 10); got != want {
			t.Fatalf("appendInt(%d) = %s", i, got)
		}
	}
	floats := []float64{1e-3, 1e5, 0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3, 99999.99999999999, 0.0010000000000000002, 0.0009999999999999998,
		1024, 0.125, 3.14159, 1e5 - 1e-11}
	for range 3_000_000 {
		var f float64
		switch rng.IntN(4) {
		case 0:
			f = float64(rng.Int64N(1e9)) / float64pow10[rng.IntN(9)]
		case 1:
			f = rng.Float64() * float64pow10[rng.IntN(6)]
		case 2:
			f = math.Nextafter(float64(rng.Int64N(1e7))/float64pow10[rng.IntN(7)], math.Inf(rng.IntN(2)*2-1))
		default:
			f = math.Float64frombits(rng.Uint64())
		}
		if rng.IntN(2) == 0 {
			f = -f
		}
		floats = append(floats, f)
	}
	for _, f := range floats {
		if got, want := string(appendDouble(nil, f)), strconv.FormatFloat(f, 'g', -1, 64); got != want {
			t.Fatalf("appendDouble(%v) = %s, want %s", f, got, want)
		}
	}
}
