package datafile

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// parseSchema parses "name type, name type" (scalar types, distinct
// names).
func parseSchema(s string) (types.Schema, error) {
	var schema types.Schema
	for _, part := range strings.Split(s, ",") {
		name, typ, ok := strings.Cut(strings.TrimSpace(part), " ")
		if !ok {
			return nil, fmt.Errorf("bad column %q", part)
		}
		t, ok := types.ParseScalar(typ)
		if !ok {
			return nil, fmt.Errorf("bad type %q", typ)
		}
		if s, e := defaultCSV.trim([]byte(name), 0, len(name)); s != 0 || e != len(name) {
			return nil, fmt.Errorf("blanks around name %q", name) // CSV headers are trimmed
		}
		schema = append(schema, types.Field{Name: name, Type: t})
	}
	return schema, nil
}

// mustSchema is parseSchema for tests.
func mustSchema(t testing.TB, s string) types.Schema {
	t.Helper()
	schema, err := parseSchema(s)
	if err != nil {
		t.Fatal(err)
	}
	return schema
}

// render shows a value unambiguously: NULL, strings quoted, floats in
// shortest form, timestamps as milliseconds.
func render(v types.Value) string {
	switch {
	case v.Null:
		return "NULL"
	case v.Type == types.String:
		return strconv.Quote(v.S)
	case v.Type == types.Timestamp:
		return strconv.FormatInt(v.I, 10)
	}
	return v.String()
}

// transcript reads all of r, max rows per call, skipping bad rows: each
// row is "line: v1, v2", each bad row "error: message". A non-row error
// ends it as "fatal: message".
func transcript(r *Reader, schema types.Schema, max int) []string {
	var out []string
	b := types.NewBlock(schema, 0)
	var lines []int64
	for calls := 0; calls < 1e6; calls++ {
		b.Reset()
		lines = lines[:0]
		n, err := r.Next(b, &lines, max)
		if n != b.Len || n != len(lines) {
			return append(out, fmt.Sprintf("fatal: Next returned %d, appended %d rows and %d lines", n, b.Len, len(lines)))
		}
		for i := range n {
			vals := make([]string, len(schema))
			for c := range schema {
				vals[c] = render(b.Cols[c].Value(i))
			}
			out = append(out, fmt.Sprintf("%d: %s", lines[i], strings.Join(vals, ", ")))
		}
		var rowErr *RowError
		switch {
		case err == io.EOF:
			return out
		case errors.As(err, &rowErr):
			out = append(out, "error: "+err.Error())
		case err != nil:
			return append(out, "fatal: "+err.Error())
		}
	}
	return append(out, "fatal: no end")
}

// readCase is a file to read and what reading it gives.
type readCase struct {
	name   string
	schema string
	opts   CSVOptions // CSV only
	in     string
	want   []string // the transcript, or the NewReader error as "header: msg"
}

// check reads c.in in format f with several batch sizes and buffer sizes,
// and compares the transcripts with c.want.
func (c readCase) check(t *testing.T, f Format) {
	t.Helper()
	schema := mustSchema(t, c.schema)
	for _, max := range []int{1000, 1, 2} {
		for _, size := range []int{bufSize, 8} {
			r, err := newReader(strings.NewReader(c.in), "t", f, schema, c.opts, size, maxRecord)
			var got []string
			if err != nil {
				got = []string{"header: " + err.Error()}
			} else {
				got = transcript(r, schema, max)
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Fatalf("max %d, buffer %d: read\n%s\nwant\n%s", max, size, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		}
	}
}

const allTypes = "i16 int16, i32 int32, i64 int64, f float, d double, s string, ts timestamp, dt date, b bool"

var csvCases = []readCase{
	{
		name: "plain", schema: "id int64, name string, amount double",
		in:   "id,name,amount\n1,a,1.5\n2,b,-0\n-3,c d,1e3\n",
		want: []string{`2: 1, "a", 1.5`, `3: 2, "b", -0`, `4: -3, "c d", 1000`},
	},
	{
		name: "header in any order, trimmed", schema: "id int64, name string, amount double",
		in:   " amount ,id,\"name\"\n1.5,1,a\n",
		want: []string{`2: 1, "a", 1.5`},
	},
	{
		name: "BOM, CRLF, no final line end", schema: "id int64, name string",
		in:   "\ufeffid,name\r\n1,a\r\n2,b",
		want: []string{`2: 1, "a"`, `3: 2, "b"`},
	},
	{
		name: "NULL and empty string", schema: "id int64, name string, amount double",
		in:   "id,name,amount\n,,\n1,\"\",\n2, ,\t\n",
		want: []string{`2: NULL, NULL, NULL`, `3: 1, "", NULL`, `4: 2, NULL, NULL`},
	},
	{
		name: "quoted fields", schema: "id int64, name string",
		in:   "id,name\n1,\"a,b\"\n2,\"x\ny\r\nz\"\n3,\"q\"\"q\"\"\"\n4, \" sp \" \r\n\"5\",\"\"\"\"\n",
		want: []string{`2: 1, "a,b"`, `3: 2, "x\ny\r\nz"`, `6: 3, "q\"q\""`, `7: 4, " sp "`, `8: 5, "\""`},
	},
	{
		name: "blank lines", schema: "id int64, name string",
		in:   "\nid,name\n\n1,a\n\r\n\n2,b\n\n\n",
		want: []string{`4: 1, "a"`, `7: 2, "b"`},
	},
	{
		name: "unquoted fields are trimmed, other bytes kept", schema: "id int64, name string",
		in:   "id,name\n 1 ,\t a b \n2,a\rb\n3,日本\xff\n",
		want: []string{`2: 1, "a b"`, `3: 2, "a\rb"`, `4: 3, "日本\xff"`},
	},
	{
		name: "one column: an empty line is NULL", schema: "s string",
		in:   "s\n\n\"\"\nx\n\r\n",
		want: []string{`2: NULL`, `3: ""`, `4: "x"`, `5: NULL`},
	},
	{
		name: "every type", schema: allTypes,
		in: "i16,i32,i64,f,d,s,ts,dt,b\n" +
			"-32768,2147483647,-9223372036854775808,0.1,0.1,x,1700000000123,2024-02-29,TRUE\n" +
			"+7,007,9223372036854775807,NaN,-Inf,y,2024-01-02 03:04:05,1969-12-31,0\n" +
			"0,0,0,inf,Infinity,z,2024-01-02 03:04:05.5,0001-01-01,1\n" +
			"0,0,0,-0,4.9e-324,z,2024-01-02T03:04:05.123Z,9999-12-31,false\n" +
			"0,0,0,3.4028235e38,0x1p-2,z,2024-01-02t03:04:05+05:30,2024-01-01,False\n" +
			"0,0,0,1e-46,1e-400,z,2024-01-02,2024-01-01,true\n" +
			"0,0,0,1,1,z,1960-01-01 00:00:00.000000-0100,2024-01-01,true\n",
		want: []string{
			`2: -32768, 2147483647, -9223372036854775808, 0.1, 0.1, "x", 1700000000123, 2024-02-29, true`,
			`3: 7, 7, 9223372036854775807, NaN, -Inf, "y", 1704135845000, 1969-12-31, false`,
			`4: 0, 0, 0, Inf, Inf, "z", 1704135845500, 0001-01-01, true`,
			`5: 0, 0, 0, -0, 5e-324, "z", 1704164645123, 9999-12-31, false`,
			`6: 0, 0, 0, 3.4028235e+38, 0.25, "z", 1704144845000, 2024-01-01, false`,
			`7: 0, 0, 0, 0, 0, "z", 1704124800000, 2024-01-01, true`,
			`8: 0, 0, 0, 1, 1, "z", -315615600000, 2024-01-01, true`,
		},
	},
	{
		name: "bad values", schema: allTypes,
		in: "i16,i32,i64,f,d,s,ts,dt,b\n" +
			"32768,0,0,0,0,x,0,2024-01-01,true\n" +
			"0,2147483648,0,0,0,x,0,2024-01-01,true\n" +
			"0,0,9223372036854775808,0,0,x,0,2024-01-01,true\n" +
			"0,0,1.0,0,0,x,0,2024-01-01,true\n" +
			"0,0,0,3.5e38,0,x,0,2024-01-01,true\n" +
			"0,0,0,0,1e400,x,0,2024-01-01,true\n" +
			"0,0,0,0,abc,x,0,2024-01-01,true\n" +
			"0,0,0,0,0,x,2024-02-30 00:00:00,2024-01-01,true\n" +
			"0,0,0,0,0,x,2024-01-02 03:04:05.1234,2024-01-01,true\n" +
			"0,0,0,0,0,x,2024-01-02 3:04:05,2024-01-01,true\n" +
			"0,0,0,0,0,x,0,2023-02-29,true\n" +
			"0,0,0,0,0,x,0,2024-1-01,true\n" +
			"0,0,0,0,0,x,0,2024-01-01,yes\n" +
			"\"\",0,0,0,0,x,0,2024-01-01,true\n" +
			"1,2,3,4,5,ok,6,2024-01-01,true\n",
		want: []string{
			`error: t:2: column i16: cannot read "32768" as int16: out of range`,
			`error: t:3: column i32: cannot read "2147483648" as int32: out of range`,
			`error: t:4: column i64: cannot read "9223372036854775808" as int64: out of range`,
			`error: t:5: column i64: cannot read "1.0" as int64`,
			`error: t:6: column f: cannot read "3.5e38" as float: out of range`,
			`error: t:7: column d: cannot read "1e400" as double: out of range`,
			`error: t:8: column d: cannot read "abc" as double`,
			`error: t:9: column ts: cannot read "2024-02-30 00:00:00" as timestamp`,
			`error: t:10: column ts: cannot read "2024-01-02 03:04:05.1234" as timestamp`,
			`error: t:11: column ts: cannot read "2024-01-02 3:04:05" as timestamp`,
			`error: t:12: column dt: cannot read "2023-02-29" as date`,
			`error: t:13: column dt: cannot read "2024-1-01" as date`,
			`error: t:14: column b: cannot read "yes" as bool`,
			`error: t:15: column i16: cannot read "" as int16 (an empty field without quotes is NULL)`,
			`16: 1, 2, 3, 4, 5, "ok", 6, 2024-01-01, true`,
		},
	},
	{
		name: "bad records", schema: "id int64, name string",
		in: "id,name\n1,a,x\n2\n3,a\"b\n4,\"a\"b\n5,\"x\n\ny\"\"\"z\n6,\"ok\"\n7,\"open\n8,b\n",
		want: []string{
			`error: t:2: 3 fields, the header has 2`,
			`error: t:3: 1 fields, the header has 2`,
			`error: t:4: column name: a quote in an unquoted field (quote the whole field, doubling its quotes)`,
			`error: t:5: column name: text after the closing quote of a quoted field`,
			`error: t:6: column name: text after the closing quote of a quoted field`,
			`9: 6, "ok"`,
			`error: t:10: column name: a quoted field is not closed before the end of the file`,
		},
	},
	{
		name: "unknown column", schema: "id int64, name string",
		in:   "id,nam\n1,a\n",
		want: []string{`header: t:1: column nam: not in the table (id int64, name string)`},
	},
	{
		name: "column names are case-sensitive", schema: "id int64, name string",
		in:   "id,Name\n1,a\n",
		want: []string{`header: t:1: column Name: not in the table (id int64, name string)`},
	},
	{
		name: "repeated column", schema: "id int64, name string",
		in:   "id,name, id\n1,a\n",
		want: []string{`header: t:1: column id: named twice in the header (fields 1 and 3)`},
	},
	{
		name: "missing column", schema: "id int64, name string",
		in:   "\r\nname\n1,a\n",
		want: []string{`header: t:2: column id: missing from the header (the table has id int64, name string)`},
	},
	{
		name: "empty header field", schema: "id int64, name string",
		in:   "id,name,\n1,a\n",
		want: []string{`header: t:1: field 3 of the header is empty (the table has id int64, name string)`},
	},
	{
		name: "empty file", schema: "id int64",
		in:   "\ufeff",
		want: []string{`header: t:1: no header row (the table has id int64)`},
	},
	{
		name: "header syntax", schema: "id int64",
		in:   "\"id\"x\n",
		want: []string{`header: t:1: field 1 of the header: text after the closing quote of a quoted field`},
	},
	{
		name: "header only", schema: "id int64",
		in:   "id\n",
		want: nil,
	},
	{
		name: "no header", schema: "id int64, name string", opts: CSVOptions{NoHeader: true},
		in: "\ufeff1,a\n\n2, b \r\n3\n4,b,c\n5,\"x\ny\",z\n6,\"\"\n,\n",
		want: []string{
			`1: 1, "a"`,
			`3: 2, "b"`,
			`error: t:4: 1 fields, the table has 2 columns: id int64, name string`,
			`error: t:5: 3 fields, the table has 2 columns: id int64, name string`,
			`error: t:6: 3 fields, the table has 2 columns: id int64, name string`,
			`8: 6, ""`,
			`9: NULL, NULL`,
		},
	},
	{
		name: "no header, one column: an empty line is NULL", schema: "s string", opts: CSVOptions{NoHeader: true},
		in:   "\nx\n\"\"\n\r\n",
		want: []string{`1: NULL`, `2: "x"`, `3: ""`, `4: NULL`},
	},
	{
		name: "no header, empty file", schema: "id int64, name string", opts: CSVOptions{NoHeader: true},
		in:   "\ufeff",
		want: nil,
	},
	{
		name: "delimiter and null value", schema: "id int64, name string, amount double", opts: CSVOptions{Delimiter: ';', NullValue: "null"},
		in: "id;name;amount\n1;null;null\n2;\"null\";1.5\n3; null ;\n4;a,b;\"null\"\n5;NULL;1,5\n",
		want: []string{
			`2: 1, NULL, NULL`,
			`3: 2, "null", 1.5`,
			`4: 3, NULL, NULL`,
			`error: t:5: column amount: cannot read "null" as double`,
			`error: t:6: column amount: cannot read "1,5" as double`,
		},
	},
	{
		name: "tab delimiter: only spaces are trimmed", schema: "id int64, name string", opts: CSVOptions{Delimiter: '\t'},
		in:   "id\tname\n1\t a b \n 2 \t\"x\ty\"\n3\t \"q\" \n4\t\t\n",
		want: []string{`2: 1, "a b"`, `3: 2, "x\ty"`, `4: 3, "q"`, `error: t:5: 3 fields, the header has 2`},
	},
	{
		name: "another quote", schema: "id int64, name string", opts: CSVOptions{Quote: '\''},
		in:   "id,name\n1,'a,b'\n2,'it''s'\n3,\"x\"\n'4',a'b\n",
		want: []string{`2: 1, "a,b"`, `3: 2, "it's"`, `4: 3, "\"x\""`, `error: t:5: column name: a quote in an unquoted field (quote the whole field, doubling its quotes)`},
	},
	{
		name: "no header, delimiter, quote and null value", schema: "id int64, name string, ok bool", opts: CSVOptions{NoHeader: true, Delimiter: '|', Quote: '\'', NullValue: "NA"},
		in:   "1|NA|NA\n2|'NA'|true\n'NA'|x|false\n3|\"|\n4|'a|b'|1\n",
		want: []string{`1: 1, NULL, NULL`, `2: 2, "NA", true`, `error: t:3: column id: cannot read "NA" as int64`, `4: 3, "\"", NULL`, `5: 4, "a|b", true`},
	},
}

// badOptions are dialects a reader and a writer refuse, with the error.
var badOptions = []struct {
	opts CSVOptions
	want string
}{
	{CSVOptions{Delimiter: '"'}, `the CSV delimiter and quote are both '"'`},
	{CSVOptions{Delimiter: ';', Quote: ';'}, `the CSV delimiter and quote are both ';'`},
	{CSVOptions{Quote: ','}, `the CSV delimiter and quote are both ','`},
	{CSVOptions{Delimiter: '\n'}, `the CSV delimiter cannot be LF`},
	{CSVOptions{Delimiter: '\r'}, `the CSV delimiter cannot be CR`},
	{CSVOptions{Quote: '\n'}, `the CSV quote cannot be LF`},
	{CSVOptions{NullValue: "a,b"}, `the CSV null value "a,b" holds the delimiter ','`},
	{CSVOptions{Delimiter: '\t', NullValue: "a\tb"}, `the CSV null value "a\tb" holds the delimiter tab`},
	{CSVOptions{NullValue: `"NA"`}, `the CSV null value "\"NA\"" holds the quote '"'`},
	{CSVOptions{NullValue: "N\nA"}, `the CSV null value "N\nA" holds a line break`},
	{CSVOptions{NullValue: " NA"}, `the CSV null value " NA" starts or ends with a space or a tab, which are trimmed around unquoted fields`},
	{CSVOptions{NullValue: "NA\t"}, `the CSV null value "NA\t" starts or ends with a space or a tab, which are trimmed around unquoted fields`},
}

// TestCSVOptionsCheck checks the dialects CSVOptions.Check refuses, and
// that readers and writers refuse them with its error.
func TestCSVOptionsCheck(t *testing.T) {
	t.Parallel()
	schema := mustSchema(t, "a int64")
	for _, c := range badOptions {
		if err := c.opts.Check(); err == nil || err.Error() != "datafile: "+c.want {
			t.Errorf("%+v: Check = %v, want %s", c.opts, err, c.want)
		}
		if _, err := NewReaderOptions(strings.NewReader("a\n"), "t.csv", CSV, schema, c.opts); err == nil || err.Error() != "datafile: t.csv: "+c.want {
			t.Errorf("%+v: NewReaderOptions = %v, want %s", c.opts, err, c.want)
		}
		if _, err := NewBlockWriterOptions(io.Discard, CSV, schema, c.opts); err == nil || err.Error() != "datafile: "+c.want {
			t.Errorf("%+v: NewBlockWriterOptions = %v, want %s", c.opts, err, c.want)
		}
		if _, err := NewRowEncoder(CSV, c.opts); err == nil || err.Error() != "datafile: "+c.want {
			t.Errorf("%+v: NewRowEncoder = %v, want %s", c.opts, err, c.want)
		}
	}
	for _, o := range []CSVOptions{{}, {Delimiter: '\t', NullValue: "a b"}, {Delimiter: ' ', Quote: '\t', NullValue: "N/A"}, {Delimiter: 0xff, Quote: 0xfe, NoHeader: true}} {
		if err := o.Check(); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
	// Other formats ignore the options.
	if _, err := NewReaderOptions(strings.NewReader("{}\n"), "t", JSONL, schema, badOptions[0].opts); err != nil {
		t.Errorf("JSONL: %v", err)
	}
}

// TestReadCSV reads CSV files: header mapping, quoting, NULLs, line
// numbers, values of every type, and the errors of bad rows (after which
// reading goes on).
func TestReadCSV(t *testing.T) {
	t.Parallel()
	for _, c := range csvCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.check(t, CSV)
		})
	}
}

var jsonlCases = []readCase{
	{
		name: "plain", schema: "id int64, name string, amount double",
		in:   "\ufeff{\"id\":1,\"name\":\"a\",\"amount\":1.5}\n{ \"amount\" : -0 , \"id\" : 2 , \"name\" : \"b\" }\r\n\n  \n{\"id\":3}\n{}\n{\"id\":null,\"name\":null,\"amount\":null}",
		want: []string{`1: 1, "a", 1.5`, `2: 2, "b", -0`, `5: 3, NULL, NULL`, `6: NULL, NULL, NULL`, `7: NULL, NULL, NULL`},
	},
	{
		name: "every type", schema: allTypes,
		in: `{"i16":-32768,"i32":2147483647,"i64":-9223372036854775808,"f":0.1,"d":0.1,"s":"x","ts":1700000000123,"dt":"2024-02-29","b":true}` + "\n" +
			`{"i16":7.0,"i32":7e2,"i64":700e-2e0,"f":"NaN","d":"-Inf","s":"","ts":"2024-01-02 03:04:05","dt":"1969-12-31","b":false}` + "\n" +
			`{"i16":7.0,"i32":7e2,"i64":700e-2,"f":"NaN","d":"-Inf","s":"","ts":"2024-01-02 03:04:05","dt":"1969-12-31","b":false}` + "\n" +
			`{"f":NaN,"d":-Infinity,"i64":1.5e1,"ts":"1700000000123"}` + "\n" +
			`{"f":Infinity,"d":"1e-3","i64":-0.0,"ts":17e11}` + "\n",
		want: []string{
			`1: -32768, 2147483647, -9223372036854775808, 0.1, 0.1, "x", 1700000000123, 2024-02-29, true`,
			`error: t:2: malformed JSON at column 34: want ',' or '}', found 'e'`,
			`3: 7, 700, 7, NaN, -Inf, "", 1704135845000, 1969-12-31, false`,
			`4: NULL, NULL, 15, NaN, -Inf, NULL, 1700000000123, NULL, NULL`,
			`5: NULL, NULL, 0, Inf, 0.001, NULL, 1700000000000, NULL, NULL`,
		},
	},
	{
		name: "strings", schema: "s string",
		in: `{"s":"a\"b\\c\/d\b\f\n\r\t"}` + "\n" +
			`{"s":"\u00e9\u65E5\ud83d\ude00"}` + "\n" +
			`{"s":"\ud800x\udc00\ud800\u0041"}` + "\n" +
			"{\"s\":\"raw \xff é\"}\n" +
			`{"s":"\x"}` + "\n" +
			`{"s":"\u12"}` + "\n" +
			"{\"s\":\"a\tb\"}\n" +
			`{"s":"open}` + "\n",
		want: []string{
			`1: "a\"b\\c/d\b\f\n\r\t"`,
			`2: "é日😀"`,
			"3: \"\ufffdx\ufffd\ufffdA\"",
			`4: "raw \xff é"`,
			`error: t:5: column s: malformed JSON at column 7: an unknown escape \x`,
			`error: t:6: column s: malformed JSON at column 7: a \u escape needs four hex digits`,
			`error: t:7: column s: malformed JSON at column 8: want a character of a string, found '\t'`,
			`error: t:8: column s: malformed JSON: a string is not closed`,
		},
	},
	{
		name: "bad rows", schema: "id int16, name string, amount double, b bool",
		in: `{"id":1.5}` + "\n" +
			`{"id":1e5}` + "\n" +
			`{"id":"1"}` + "\n" +
			`{"id":true}` + "\n" +
			`{"id":{}}` + "\n" +
			`{"name":1}` + "\n" +
			`{"amount":[1]}` + "\n" +
			`{"amount":"x"}` + "\n" +
			`{"amount":1e999}` + "\n" +
			`{"b":1}` + "\n" +
			`{"b":"true"}` + "\n" +
			`{"nope":1}` + "\n" +
			`{"id":1,"id":2}` + "\n" +
			`{"id":1,}` + "\n" +
			`[1]` + "\n" +
			`{"id":1} x` + "\n" +
			`{"id":tru}` + "\n" +
			`{"id":-}` + "\n" +
			`{"id":01}` + "\n" +
			`{"id"` + "\n" +
			`{"id":NaN}` + "\n" +
			`{"id":2,"name":"ok"}` + "\n",
		want: []string{
			`error: t:1: column id: cannot read 1.5 as int16`,
			`error: t:2: column id: cannot read 1e5 as int16: out of range`,
			`error: t:3: column id: cannot read "1" as int16`,
			`error: t:4: column id: cannot read true as int16`,
			`error: t:5: column id: cannot read an object as int16`,
			`error: t:6: column name: cannot read 1 as string`,
			`error: t:7: column amount: cannot read an array as double`,
			`error: t:8: column amount: cannot read "x" as double`,
			`error: t:9: column amount: cannot read "1e999" as double: out of range`,
			`error: t:10: column b: cannot read 1 as bool`,
			`error: t:11: column b: cannot read "true" as bool`,
			`error: t:12: column nope: not in the table (id int16, name string, amount double, b bool)`,
			`error: t:13: column id: the object has this key twice`,
			`error: t:14: malformed JSON at column 9: want a key, found '}'`,
			`error: t:15: want a JSON object, found '['`,
			`error: t:16: malformed JSON at column 10: text after the object`,
			`error: t:17: column id: malformed JSON at column 7: want a value, found 't'`,
			`error: t:18: column id: malformed JSON at column 8: want a digit, found '}'`,
			`error: t:19: malformed JSON at column 8: want ',' or '}', found '1'`,
			`error: t:20: column id: malformed JSON: the line ends where ':' should be`,
			`error: t:21: column id: cannot read NaN as int16`,
			`22: 2, "ok", NULL, NULL`,
		},
	},
}

// TestReadJSONL reads JSON Lines files: keys in any order or missing,
// values of every type and the forms each column accepts, string escapes,
// and the errors of bad rows (after which reading goes on).
func TestReadJSONL(t *testing.T) {
	t.Parallel()
	for _, c := range jsonlCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.check(t, JSONL)
		})
	}
}

// TestNextReturnsRowsBeforeAnError checks Next's result shapes: the rows
// before a bad row come with its error, the following call resumes after
// it, the last rows come with a nil error and io.EOF follows (and stays).
func TestNextReturnsRowsBeforeAnError(t *testing.T) {
	t.Parallel()
	schema := mustSchema(t, "id int64, s string")
	r, err := NewReader(strings.NewReader("id,s\n1,\n2,x\nbad,y\n4,\n5,z\n"), "t.csv", CSV, schema)
	if err != nil {
		t.Fatal(err)
	}
	b := types.NewBlock(schema, 0)
	var lines []int64
	type result struct {
		n     int
		err   string
		len   int
		nulls bool
	}
	var got []result
	for range 4 {
		n, err := r.Next(b, &lines, 10)
		res := result{n: n, len: b.Len, nulls: b.Cols[1].Nulls != nil}
		if err != nil {
			res.err = err.Error()
		}
		got = append(got, res)
	}
	want := []result{
		{2, `t.csv:4: column id: cannot read "bad" as int64`, 2, true},
		{2, "", 4, true},
		{0, "EOF", 4, true},
		{0, "EOF", 4, true},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	if fmt.Sprint(lines) != "[2 3 5 6]" {
		t.Errorf("lines %v", lines)
	}
}

// TestRollbackKeepsNullsNil checks that a bad row leaves no trace in the
// block: its NULLs do not create Nulls slices.
func TestRollbackKeepsNullsNil(t *testing.T) {
	t.Parallel()
	schema := mustSchema(t, "s string, id int64")
	for _, f := range []Format{CSV, JSONL} {
		in := "s,id\nx,1\n,bad\ny,2\n"
		if f == JSONL {
			in = `{"s":"x","id":1}` + "\n" + `{"s":null,"id":"bad"}` + "\n" + `{"s":"y","id":2}` + "\n"
		}
		r, err := NewReader(strings.NewReader(in), "t", f, schema)
		if err != nil {
			t.Fatal(err)
		}
		b := types.NewBlock(schema, 0)
		if n, err := r.Next(b, nil, 10); n != 1 || err == nil {
			t.Fatalf("%v: Next = %d, %v", f, n, err)
		}
		if n, err := r.Next(b, nil, 10); n != 1 || err != nil {
			t.Fatalf("%v: Next = %d, %v", f, n, err)
		}
		if b.Cols[0].Nulls != nil || fmt.Sprint(b.Rows()) != "[[x 1] [y 2]]" {
			t.Errorf("%v: block %v, nulls %v", f, b.Rows(), b.Cols[0].Nulls)
		}
	}
}

// errReader returns data, then err.
type errReader struct {
	data string
	err  error
}

func (e *errReader) Read(p []byte) (int, error) {
	if e.data == "" {
		return 0, e.err
	}
	n := copy(p, e.data)
	e.data = e.data[n:]
	return n, nil
}

// TestSourceErrors checks that errors of the source come wrapped with the
// file and line, after the rows read before them, and stay.
func TestSourceErrors(t *testing.T) {
	t.Parallel()
	schema := mustSchema(t, "id int64")
	boom := errors.New("boom")
	for _, f := range []Format{CSV, JSONL} {
		in := "id\n1\n2\n3"
		if f == JSONL {
			in = "{\"id\":1}\n{\"id\":2}\n{\"id\":3}"
		}
		r, err := newReader(&errReader{data: in, err: boom}, "t", f, schema, CSVOptions{}, 8, maxRecord)
		if err != nil {
			t.Fatal(err)
		}
		got := transcript(r, schema, 1)
		line := map[Format]string{CSV: "4", JSONL: "3"}[f]
		want := []string{"1", "2", "fatal: t:" + line + ": boom"}
		if f == CSV {
			want[0], want[1] = "2: 1", "3: 2"
		} else {
			want[0], want[1] = "1: 1", "2: 2"
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%v: got %q, want %q", f, got, want)
		}
		b := types.NewBlock(schema, 0)
		if _, err := r.Next(b, nil, 1); !errors.Is(err, boom) {
			t.Errorf("%v: then %v, want the same error", f, err)
		}
	}
}

// TestLongRows checks that a row longer than the buffer is read (the
// buffer grows), and that a row longer than the limit is an error.
func TestLongRows(t *testing.T) {
	t.Parallel()
	schema := mustSchema(t, "s string")
	long := strings.Repeat("x", 1000)
	for _, f := range []Format{CSV, JSONL} {
		in := "s\n\"" + long + "\n" + long + "\"\nok\n"
		want := strconv.Quote(long + "\n" + long)
		if f == JSONL {
			in = `{"s":"` + long + `\n` + long + `"}` + "\n{\"s\":\"ok\"}\n"
		}
		r, err := newReader(strings.NewReader(in), "t", f, schema, CSVOptions{}, 16, 4096)
		if err != nil {
			t.Fatal(err)
		}
		got := transcript(r, schema, 10)
		if len(got) != 2 || !strings.HasSuffix(got[0], want) || !strings.HasSuffix(got[1], `"ok"`) {
			t.Errorf("%v: got %.80q", f, got)
		}
		r, err = newReader(strings.NewReader(in), "t", f, schema, CSVOptions{}, 16, 1024)
		if err != nil {
			t.Fatal(err)
		}
		got = transcript(r, schema, 10)
		if len(got) != 1 || !strings.Contains(got[0], "fatal: t:") || !strings.Contains(got[0], "a row longer than 1024 bytes") {
			t.Errorf("%v: got %.200q", f, got)
		}
	}
}

// TestNewReaderChecks checks the schemas and blocks a Reader refuses.
func TestNewReaderChecks(t *testing.T) {
	t.Parallel()
	bad := []struct {
		f      Format
		schema types.Schema
		want   string
	}{
		{CSV, nil, "datafile: t: a CSV file needs at least one column"},
		{Format(7), mustSchema(t, "a int64"), "datafile: t: unknown format Format(7)"},
		{JSONL, types.Schema{{Name: "a", Type: types.ArrayOf(types.Int64)}}, "datafile: t: column a: cannot read values of type array<int64>"},
		{JSONL, mustSchema(t, "a int64, a string"), "datafile: t: the schema names column a twice"},
		{Parquet, mustSchema(t, "a int64"), "datafile: t: a Parquet file is read with Open or NewParquetReader"},
	}
	for _, c := range bad {
		if _, err := NewReader(strings.NewReader(""), "t", c.f, c.schema); err == nil || err.Error() != c.want {
			t.Errorf("NewReader(%v, %v) = %v, want %s", c.f, c.schema, err, c.want)
		}
	}
	schema := mustSchema(t, "a int64")
	r, err := NewReader(strings.NewReader("{}\n"), "t", JSONL, schema)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []*types.Block{
		types.NewBlock(mustSchema(t, "a string"), 0),
		types.NewBlock(mustSchema(t, "a int64, b int64"), 0),
		{Schema: schema, Cols: []types.Column{{Type: types.Int64, I: []int64{1}}}},
	} {
		if _, err := r.Next(b, nil, 1); err == nil {
			t.Errorf("Next into %v: no error", b.Schema)
		}
	}
	if n, err := r.Next(types.NewBlock(schema, 0), nil, 0); n != 0 || err != nil {
		t.Errorf("Next(max 0) = %d, %v", n, err)
	}
	if n, err := r.Next(types.NewBlock(schema, 0), nil, 5); n != 1 || err != nil {
		t.Errorf("Next = %d, %v", n, err)
	}
}

// TestFormatOf maps extensions to formats.
func TestFormatOf(t *testing.T) {
	t.Parallel()
	cases := []struct {
		path string
		want Format
	}{
		{"a.csv", CSV}, {"dir.x/A.CSV", CSV}, {"a.jsonl", JSONL}, {"a.ndjson", JSONL}, {"gs://b/a.json", JSONL},
		{"a.parquet", Parquet}, {"gs://b/A.PARQUET", Parquet}, {"a.csv.gz", 0}, {"a", 0}, {"a.parquet.gz", 0},
	}
	for _, c := range cases {
		got, err := FormatOf(c.path)
		if got != c.want || (err != nil) != (c.want == 0) {
			t.Errorf("FormatOf(%q) = %v, %v", c.path, got, err)
		}
		if err != nil && !strings.Contains(err.Error(), c.path) {
			t.Errorf("FormatOf(%q): error %q does not name the path", c.path, err)
		}
	}
}

// TestRowErrorString checks the error text with and without a column,
// and that long values are cut.
func TestRowErrorString(t *testing.T) {
	t.Parallel()
	e := &RowError{File: "a.csv", Line: 7, Column: "amount", Msg: `cannot read "abc" as double`}
	if got := e.Error(); got != `a.csv:7: column amount: cannot read "abc" as double` {
		t.Error(got)
	}
	e = &RowError{File: "a.csv", Line: 7, Msg: "4 fields, the header has 3"}
	if got := e.Error(); got != `a.csv:7: 4 fields, the header has 3` {
		t.Error(got)
	}
	e = &RowError{File: "a.parquet", Line: 7, ByRow: true, Column: "amount", Msg: "cannot read 70000 as int16: out of range"}
	if got := e.Error(); got != `a.parquet: row 7: column amount: cannot read 70000 as int16: out of range` {
		t.Error(got)
	}
	e = &RowError{File: "a.parquet", Line: 7, ByRow: true, Msg: "bad"}
	if got := e.Error(); got != `a.parquet: row 7: bad` {
		t.Error(got)
	}
	if got := quote([]byte(strings.Repeat("é", 40))); got != `"`+strings.Repeat("é", 32)+`"...` {
		t.Error(got)
	}
	if got := clip([]byte(strings.Repeat("é", 40))); got != strings.Repeat("é", 32)+"..." {
		t.Error(got)
	}
}
