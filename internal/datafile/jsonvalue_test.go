package datafile

import (
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// TestJSONValuesAppend holds JSONValues.Append to what the JSON Lines
// reader reads for the same value in the same column.
func TestJSONValuesAppend(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		typ  types.Type
		text string
	}{
		{types.Int64, `7`}, {types.Int64, `7e2`}, {types.Int64, `7.5`}, {types.Int32, `2147483648`},
		{types.Double, `1.5`}, {types.Double, `"NaN"`}, {types.Double, `-Infinity`}, {types.Double, `"abc"`},
		{types.Float, `0.1`}, {types.Float, `1e39`},
		{types.String, `"a\u00e9\n"`}, {types.String, `12`}, {types.String, `null`},
		{types.Timestamp, `1714528800000`}, {types.Timestamp, `"2024-05-01 10:00:00"`}, {types.Timestamp, `true`},
		{types.Date, `"2024-05-01"`}, {types.Date, `"2024-02-30"`},
		{types.Bool, `true`}, {types.Bool, `1`}, {types.Bool, `[1]`}, {types.Bool, `{"a": 1}`},
	} {
		schema := types.Schema{{Name: "c", Type: c.typ}}
		want := types.NewBlock(schema, 1)
		r, err := NewReader(strings.NewReader(`{"c": `+c.text+`}`), "x.jsonl", JSONL, schema)
		if err != nil {
			t.Fatal(err)
		}
		_, rerr := r.Next(want, nil, 1)
		var d JSONValues
		col := types.NewColumn(c.typ, 1)
		text := []byte(c.text + ` ,`)
		end, msg := d.Append(&col, text, 0)
		switch {
		case rerr != nil:
			if msg == "" || !strings.Contains(rerr.Error(), msg) || col.Len() != 0 {
				t.Errorf("%s as %s: reader says %v, Append says %q and appended %d", c.text, c.typ, rerr, msg, col.Len())
			}
		case msg != "":
			t.Errorf("%s as %s: Append says %q", c.text, c.typ, msg)
		case end != len(c.text) || col.Len() != 1 || !types.Identical(col.Value(0), want.Cols[0].Value(0)):
			t.Errorf("%s as %s: Append gives %v (end %d), the reader %v", c.text, c.typ, col.Value(0), end, want.Cols[0].Value(0))
		}
	}
}

// TestJSONValuesSkip finds the end of values, and refuses malformed ones.
func TestJSONValuesSkip(t *testing.T) {
	t.Parallel()
	var d JSONValues
	for _, c := range []struct {
		text string
		end  int // -1: malformed
	}{
		{`  {"a": [1, "x", {"b": null}], "c": -1.5e3} rest`, 43},
		{`[]`, 2}, {`{}`, 2}, {`"a\"b"`, 6}, {`true`, 4}, {`NaN`, 3}, {`-Infinity,`, 9},
		{`{"a" 1}`, -1}, {`[1,]`, -1}, {`[1 2]`, -1}, {`"abc`, -1}, {`-`, -1}, {`nul`, -1}, {``, -1},
		{strings.Repeat("[", 65) + strings.Repeat("]", 65), -1},
		{strings.Repeat("[", 64) + strings.Repeat("]", 64), 128},
	} {
		end, msg := d.Skip([]byte(c.text), 0)
		if c.end < 0 && msg == "" || c.end >= 0 && (msg != "" || end != c.end) {
			t.Errorf("Skip(%.30q) = %d %q, want %d", c.text, end, msg, c.end)
		}
	}
	s, end, msg := d.String([]byte(`"a\u00e9\"" x`), 0)
	if string(s) != `aé"` || end != 11 || msg != "" {
		t.Errorf("String: %q %d %q", s, end, msg)
	}
	if _, _, msg := d.String([]byte(`x`), 0); msg == "" {
		t.Error("String of a non-string: no message")
	}
}
