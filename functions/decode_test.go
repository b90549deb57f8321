package functions

import (
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// allTypesSQL has a table of every column type.
const allTypesSQL = `
CREATE TABLE t (id bigint, s string, d double, ts timestamp, day date, b bool, i int, f float, h smallint,
  INDEX(KEY=s, TS=ts));
DEPLOY v SELECT id, s, d, ts, day, b, i, f, h FROM t;
`

// decodeCase is a request body and what decoding it gives: the rows
// (each encoded as a JSON array) or an error naming field and saying msg.
type decodeCase struct {
	name  string
	body  string
	rows  []string // encoded rows
	store bool
	field string // the error's field
	msg   string // a substring of the error's message
}

var decodeCases = []decodeCase{
	{name: "objects", body: `{"rows": [{"id": 1, "s": "a", "d": 1.5, "ts": 1714528800000, "day": "2024-05-01", "b": true, "i": 7, "f": 0.1, "h": -3}]}`,
		rows: []string{`[1,"a",1.5,1714528800000,"2024-05-01",true,7,0.1,-3]`}},
	{name: "arrays", body: `{"rows": [[1, "a", 1.5, 1714528800000, "2024-05-01", false, 7, 0.1, -3], [2, "b", -0, 0, "1970-01-01", true, 0, 3.4e38, 32767]]}`,
		rows: []string{`[1,"a",1.5,1714528800000,"2024-05-01",false,7,0.1,-3]`, `[2,"b",-0,0,"1970-01-01",true,0,3.4e+38,32767]`}},
	{name: "nulls", body: `{"rows": [[null, null, null, null, null, null, null, null, null]]}`,
		rows: []string{`[null,null,null,null,null,null,null,null,null]`}},
	{name: "keys in any order, any case", body: `{"store": true, "rows": [{"H": 1, "f": 1, "i": 1, "b": false, "Day": null, "ts": 5, "d": 1, "s": "", "ID": 9}]}`,
		rows: []string{`[9,"",1,5,null,false,1,1,1]`}, store: true},
	{name: "timestamp text and non-finite floats", body: `{"rows": [[1, "x", "NaN", "2024-05-01 10:00:00", "2024-05-01", true, 7e2, "-Inf", 7.0]]}`,
		rows: []string{`[1,"x","NaN",1714528800000,"2024-05-01",true,700,"-Inf",7]`}},
	{name: "RFC 3339 timestamp", body: `{"rows": [[1, "x", 1, "2024-05-01T02:00:00Z", "2024-05-01", true, 1, 1, 1]]}`,
		rows: []string{`[1,"x",1,1714528800000,"2024-05-01",true,1,1,1]`}},
	{name: "string escapes", body: `{"rows": [[1, "a\"b\\c\u00e9\n", 1, 1, "2024-05-01", true, 1, 1, 1]]}`,
		rows: []string{`[1,"a\"b\\cé\n",1,1,"2024-05-01",true,1,1,1]`}},
	{name: "no rows", body: `{"rows": []}`, rows: []string{}},
	{name: "white space", body: " \n{ \"rows\" :\n[ [ 1 , \"a\" , 1 , 1 , \"2024-05-01\" , true , 1 , 1 , 1 ] ] , \"store\" : false }\n ",
		rows: []string{`[1,"a",1,1,"2024-05-01",true,1,1,1]`}},

	// Malformed bodies.
	{name: "empty body", body: ``, msg: "empty body"},
	{name: "not an object", body: `[1, 2]`, msg: "want a JSON object"},
	{name: "not JSON", body: `rows=1`, msg: "malformed JSON at byte 1"},
	{name: "unquoted key", body: `{rows: []}`, msg: "malformed JSON"},
	{name: "unclosed", body: `{"rows": [[1, "a"`, field: "rows", msg: "malformed JSON"},
	{name: "unclosed string", body: `{"rows": [["abc]]}`, field: "rows", msg: "not closed"},
	{name: "bad escape", body: `{"rows": [["a\x"]]}`, field: "rows", msg: "unknown escape"},
	{name: "control character", body: "{\"rows\": [[\"a\tb\"]]}", field: "rows", msg: "malformed JSON"},
	{name: "trailing comma", body: `{"rows": [],}`, msg: "malformed JSON"},
	{name: "text after the object", body: `{"rows": []} x`, msg: "text after the object"},
	{name: "two objects", body: `{"rows": []}{"rows": []}`, msg: "text after the object"},
	{name: "repeated member", body: `{"rows": [], "rows": []}`, field: "rows", msg: "twice"},
	{name: "unknown member", body: `{"rows": [], "stor": true}`, field: "stor", msg: "unknown member"},
	{name: "missing rows", body: `{}`, field: "rows", msg: "missing"},
	{name: "rows not an array", body: `{"rows": {"id": 1}}`, field: "rows", msg: "want an array of rows"},
	{name: "row not a row", body: `{"rows": [1]}`, field: "rows[0]", msg: "want a row"},
	{name: "mixed styles", body: `{"rows": [[1, "a", 1, 1, "2024-05-01", true, 1, 1, 1], {"id": 1}]}`, field: "rows[1]", msg: "all be objects or all be arrays"},
	{name: "store not a bool", body: `{"rows": [], "store": 1}`, field: "store", msg: "want true or false"},
	{name: "store null", body: `{"rows": [], "store": null}`, field: "store", msg: "want true or false"},
	{name: "deep nesting", body: `{"rows": ` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, field: "rows", msg: "nest too deep"},

	// Rows that do not fit the table.
	{name: "missing column", body: `{"rows": [{"id": 1, "s": "a", "ts": 1, "day": null, "b": true, "i": 1, "f": 1, "h": 1}]}`, field: "rows[0].d", msg: "missing"},
	{name: "unknown column", body: `{"rows": [{"id": 1, "amount": 1}]}`, field: "rows[0].amount", msg: "not a column of t"},
	{name: "repeated column", body: `{"rows": [{"id": 1, "ID": 2}]}`, field: "rows[0].id", msg: "twice"},
	{name: "string for a double", body: `{"rows": [{"id": 1, "s": "a", "d": "abc"}]}`, field: "rows[0].d", msg: `cannot read "abc" as double`},
	{name: "number for a string", body: `{"rows": [[1, 2]]}`, field: "rows[0].s", msg: "cannot read 2 as string"},
	{name: "fraction for an integer", body: `{"rows": [[7.5]]}`, field: "rows[0].id", msg: "cannot read 7.5 as int64"},
	{name: "int32 out of range", body: `{"rows": [[1, "a", 1, 1, "2024-05-01", true, 2147483648]]}`, field: "rows[0].i", msg: "out of range"},
	{name: "smallint out of range", body: `{"rows": [[1, "a", 1, 1, "2024-05-01", true, 1, 1, 40000]]}`, field: "rows[0].h", msg: "out of range"},
	{name: "float out of range", body: `{"rows": [[1, "a", 1, 1, "2024-05-01", true, 1, 1e39]]}`, field: "rows[0].f", msg: "out of range"},
	{name: "bad date", body: `{"rows": [[1, "a", 1, 1, "2024-13-01"]]}`, field: "rows[0].day", msg: "cannot read"},
	{name: "bad timestamp", body: `{"rows": [[1, "a", 1, "yesterday"]]}`, field: "rows[0].ts", msg: "cannot read"},
	{name: "bool as a number", body: `{"rows": [[1, "a", 1, 1, "2024-05-01", 1]]}`, field: "rows[0].b", msg: "cannot read 1 as bool"},
	{name: "array for a value", body: `{"rows": [[1, "a", [1]]]}`, field: "rows[0].d", msg: "cannot read an array"},
	{name: "object for a value", body: `{"rows": [{"id": {"x": 1}}]}`, field: "rows[0].id", msg: "cannot read an object"},
	{name: "too few values", body: `{"rows": [[1, "a", 1]]}`, field: "rows[0]", msg: "3 values; a t row has 9 columns"},
	{name: "too many values", body: `{"rows": [[1, "a", 1, 1, "2024-05-01", true, 1, 1, 1, 1]]}`, field: "rows[0]", msg: "more than 9 values"},
	{name: "second row bad", body: `{"rows": [[1, "a", 1, 1, "2024-05-01", true, 1, 1, 1], [1, "a", 1, 1, "2024-05-01", true, 1, 1, "x"]]}`, field: "rows[1].h", msg: "cannot read"},
}

// TestDecodeCompute decodes compute bodies: typed values as datafile reads
// JSON Lines, and every bad input an error naming its field.
func TestDecodeCompute(t *testing.T) {
	t.Parallel()
	svc, _ := memService(t, compile(t, allTypesSQL), Options{})
	v := svc.View("v")
	for _, c := range decodeCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rows, store, err := decodeCompute([]byte(c.body), v, computeMembers)
			if c.msg != "" {
				in, ok := err.(*InputError)
				if !ok {
					t.Fatalf("got %v (%T), want an *InputError", err, err)
				}
				if in.Field != c.field || !strings.Contains(in.Msg, c.msg) {
					t.Fatalf("got field %q message %q, want field %q and a message with %q", in.Field, in.Msg, c.field, c.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := encodeBlock(rows); strings.Join(got, "\n") != strings.Join(c.rows, "\n") {
				t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.rows, "\n"))
			}
			if store != c.store {
				t.Errorf("store %v, want %v", store, c.store)
			}
		})
	}
}

// encodeBlock encodes each row of b as a JSON array.
func encodeBlock(b *types.Block) []string {
	out := []string{}
	for i := 0; i < b.Len; i++ {
		out = append(out, string(appendRow(nil, b.Row(i, nil))))
	}
	return out
}

// TestDecodeOpenMLDBLenient checks the OpenMLDB form: members and
// columns the table does not have are skipped, as the APIServer skips
// them, but a missing column is still an error.
func TestDecodeOpenMLDBLenient(t *testing.T) {
	t.Parallel()
	svc, _ := memService(t, compile(t, allTypesSQL), Options{})
	table := svc.Table("t")
	for _, c := range []struct{ body, rows, msg string }{
		{body: `{"value": [{"id": 1, "s": "a", "d": 1, "ts": 1, "day": null, "b": true, "i": 1, "f": 1, "h": 1, "foo": {"bar": [1, "x"]}}], "extra": [1, 2]}`,
			rows: `[1,"a",1,1,null,true,1,1,1]`},
		{body: `{"value": [{"id": 1, "foo": "bar"}]}`, msg: "rows"},
	} {
		rows, err := decodeRows([]byte(c.body), table, []string{"value"}, true)
		if c.msg != "" {
			if err == nil || !strings.Contains(err.Error(), "missing") {
				t.Errorf("%s: got %v, want a missing column", c.body, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.body, err)
		}
		if got := encodeBlock(rows); len(got) != 1 || got[0] != c.rows {
			t.Errorf("%s: rows %v, want %s", c.body, got, c.rows)
		}
	}
}

// FuzzDecodeRequest decodes arbitrary bodies: it must never panic, and
// rows it accepts must encode and decode back to themselves.
func FuzzDecodeRequest(f *testing.F) {
	for _, c := range decodeCases {
		f.Add(c.body)
	}
	mod := compile(f, allTypesSQL)
	svc, _ := memService(f, mod, Options{})
	v := svc.View("v")
	f.Fuzz(func(t *testing.T, body string) {
		rows, _, err := decodeCompute([]byte(body), v, computeMembers)
		if err != nil {
			if _, ok := err.(*InputError); !ok {
				t.Fatalf("error %v is a %T, want an *InputError", err, err)
			}
			return
		}
		enc := `{"rows":[` + strings.Join(encodeBlock(rows), ",") + `]}`
		again, _, err := decodeCompute([]byte(enc), v, computeMembers)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", enc, err)
		}
		if a, b := encodeBlock(rows), encodeBlock(again); strings.Join(a, "\n") != strings.Join(b, "\n") {
			t.Fatalf("round trip:\n%s\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
		}
	})
}
