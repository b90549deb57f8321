package functions

import (
	"strconv"
	"strings"
	"sync"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/datafile"
)

// Request bodies are JSON objects whose members are known in advance:
// "rows" (an array of rows) and flags. Decoding is strict: malformed JSON,
// text after the object, an unknown or repeated member, and every row that
// does not fit its table exactly are errors naming the field. Values follow
// the JSON Lines rules of internal/datafile (the conformance encoding), so
// a value means the same in a request as in a data file:
//
//   - null is NULL, in any column;
//   - numbers go to numeric columns, integral ones (7, 7.0, 7e2) to
//     integer columns, within the column's range;
//   - timestamps are epoch milliseconds or timestamp text ("2024-05-01
//     10:00:00" in UTC+8, or RFC 3339);
//   - dates are "YYYY-MM-DD" strings; strings go to string columns only;
//   - floats also take "NaN", "Inf", "-Inf" (strings) and numeric text.
//
// A row is an object keyed by column name (every column present, null
// for NULL; names match exactly, else case-insensitively as SQL names do)
// or an array of one value per column in the table's order. One request
// uses one style.

// rowStyle is how the rows of a request are written.
type rowStyle uint8

const (
	styleNone    rowStyle = iota // no rows
	styleObjects                 // {"col": value, ...}
	styleArrays                  // [v1, v2, ...]
)

// span is where a member's value lies in the body: text[start:end].
type span struct {
	start, end int
	ok         bool // the member is present
}

// decoder decodes request bodies. It keeps scratch state between calls
// and is not safe for concurrent use: take one from decoders.
type decoder struct {
	json datafile.JSONRows // the one row decoder, shared with Kafka records
}

var decoders = sync.Pool{New: func() any { return new(decoder) }}

// members parses body as one JSON object whose member names are among
// names, and stores where each value lies in spans (len(names) of them).
// A repeated member, malformed JSON or text after the object is an error,
// and so is any other member unless skipUnknown is set.
func (d *decoder) members(body []byte, names []string, spans []span, skipUnknown bool) error {
	i := datafile.SkipJSONSpace(body, 0)
	if i >= len(body) {
		return inputErr("", "empty body; want a JSON object")
	}
	if body[i] != '{' {
		return inputErr("", "%s", malformed(body, i, "a JSON object"))
	}
	if i = datafile.SkipJSONSpace(body, i+1); i < len(body) && body[i] == '}' {
		return trailing(body, i+1)
	}
	for {
		key, j, msg := d.json.Values.String(body, i)
		if msg != "" {
			return inputErr("", "%s", bodyMsg(msg))
		}
		m := memberIndex(names, key)
		name := string(key)
		switch {
		case m >= 0 && spans[m].ok:
			return inputErr(name, "the member appears twice")
		case m < 0 && !skipUnknown:
			return inputErr(name, "unknown member; want %s", strings.Join(quoted(names), " or "))
		}
		if i = datafile.SkipJSONSpace(body, j); i >= len(body) || body[i] != ':' {
			return inputErr(name, "%s", malformed(body, i, "':'"))
		}
		start := datafile.SkipJSONSpace(body, i+1)
		end, msg := d.json.Values.Skip(body, start)
		if msg != "" {
			return inputErr(name, "%s", bodyMsg(msg))
		}
		if m >= 0 {
			spans[m] = span{start: start, end: end, ok: true}
		}
		switch i = datafile.SkipJSONSpace(body, end); {
		case i < len(body) && body[i] == ',':
			i = datafile.SkipJSONSpace(body, i+1)
		case i < len(body) && body[i] == '}':
			return trailing(body, i+1)
		default:
			return inputErr("", "%s", malformed(body, i, "',' or '}'"))
		}
	}
}

func memberIndex(names []string, key []byte) int {
	for i, n := range names {
		if n == string(key) {
			return i
		}
	}
	return -1
}

func quoted(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strconv.Quote(n)
	}
	return out
}

// trailing checks that only white space follows the object ending at i.
func trailing(body []byte, i int) error {
	if i = datafile.SkipJSONSpace(body, i); i < len(body) {
		return inputErr("", "malformed JSON at byte %d: text after the object", i+1)
	}
	return nil
}

// malformed words malformed JSON at body[i], where want was expected.
func malformed(body []byte, i int, want string) string {
	return bodyMsg(datafile.MalformedJSON(body, i, want))
}

// bodyMsg adapts a message of datafile, which speaks of lines and of
// positions in columns of a line, to a body, where they are byte offsets.
func bodyMsg(msg string) string {
	msg = strings.Replace(msg, "malformed JSON at column ", "malformed JSON at byte ", 1)
	return strings.Replace(msg, "the line ends", "the body ends", 1)
}

// flag decodes a member that must be true or false (false when absent).
func flag(body []byte, sp span, name string) (bool, error) {
	if !sp.ok {
		return false, nil
	}
	switch string(body[sp.start:sp.end]) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, inputErr(name, "want true or false, found %s", clip(body[sp.start:sp.end]))
}

// text decodes a member that must be a string ("" when absent).
func (d *decoder) text(body []byte, sp span, name string) (string, error) {
	if !sp.ok {
		return "", nil
	}
	s, _, msg := d.json.Values.String(body, sp.start)
	if msg != "" {
		return "", inputErr(name, "want a string, found %s", clip(body[sp.start:sp.end]))
	}
	return string(s), nil
}

// clip shows at most 40 bytes of a value in a message.
func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

// rowsSpec says how to decode the rows of a member.
type rowsSpec struct {
	name   string       // the member's name, for errors ("rows", "input", "value")
	table  string       // the table the rows belong to, for errors
	schema types.Schema // the table's columns
	// allowUnknown skips object members that name no column (OpenMLDB's
	// APIServer accepts such "redundant columns") instead of failing.
	allowUnknown bool
	// max, when positive, bounds the rows: decoding stops at the first
	// row past it with ErrTooManyRows.
	max int
}

// rows decodes the array at sp as rows of spec.schema. A missing member
// is an error.
func (d *decoder) rows(body []byte, sp span, spec rowsSpec) (*types.Block, rowStyle, error) {
	if !sp.ok {
		return nil, styleNone, inputErr(spec.name, "missing; want an array of rows")
	}
	i := sp.start
	if body[i] != '[' {
		return nil, styleNone, inputErr(spec.name, "want an array of rows, found %s", clip(body[sp.start:sp.end]))
	}
	b := types.NewBlock(spec.schema, 1)
	style := styleNone
	if i = datafile.SkipJSONSpace(body, i+1); body[i] == ']' {
		return b, style, nil
	}
	for k := 0; ; k++ {
		if spec.max > 0 && k == spec.max {
			return nil, style, tooManyRows(0, spec.max)
		}
		var err error
		switch {
		case body[i] == '{' && style != styleArrays:
			style = styleObjects
			i, err = d.objectRow(body, i, b, spec, k)
		case body[i] == '[' && style != styleObjects:
			style = styleArrays
			i, err = d.arrayRow(body, i, b, spec, k)
		case body[i] == '{' || body[i] == '[':
			err = inputErr(rowField(spec.name, k), "rows of one request must all be objects or all be arrays")
		default:
			err = inputErr(rowField(spec.name, k), "want a row (an object or an array), found %s", found(body, i))
		}
		if err != nil {
			return nil, style, err
		}
		// The member's value was checked to be well-formed JSON: a ',' or
		// the closing ']' follows.
		if i = datafile.SkipJSONSpace(body, i); body[i] == ']' {
			return b, style, nil
		}
		i = datafile.SkipJSONSpace(body, i+1)
	}
}

// objectRow decodes the object row k at body[i] into b and returns the
// position after it.
func (d *decoder) objectRow(body []byte, i int, b *types.Block, spec rowsSpec, k int) (int, error) {
	i, p := d.json.Object(body, i, b, spec.rowSpec())
	return i, spec.problem(p, k)
}

// arrayRow decodes the array row k at body[i] into b and returns the
// position after it.
func (d *decoder) arrayRow(body []byte, i int, b *types.Block, spec rowsSpec, k int) (int, error) {
	i, p := d.json.Array(body, i, b, spec.rowSpec())
	return i, spec.problem(p, k)
}

func (spec rowsSpec) rowSpec() datafile.RowSpec {
	return datafile.RowSpec{Table: spec.table, Schema: spec.schema, AllowUnknown: spec.allowUnknown}
}

// problem names the field of row k a problem concerns; nil for none.
func (spec rowsSpec) problem(p *datafile.RowProblem, k int) error {
	if p == nil {
		return nil
	}
	field := rowField(spec.name, k)
	if p.Column != "" {
		field += "." + p.Column
	}
	return inputErr(field, "%s", p.Msg)
}

func rowField(name string, k int) string { return name + "[" + strconv.Itoa(k) + "]" }

// found describes the byte at body[i] for a message.
func found(body []byte, i int) string {
	return strconv.QuoteRune(rune(body[i]))
}
