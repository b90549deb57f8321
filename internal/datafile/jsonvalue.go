package datafile

import (
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// This file exports the JSON Lines value rules for hosts that read rows
// embedded in larger JSON documents (the request bodies of package
// functions), so that a value means the same in a file and in a request.

// JSONValues decodes single JSON values into typed columns by the JSON
// Lines rules of the package comment, and decodes JSON strings and skips
// JSON values for the caller's own parser of the enclosing document. The
// zero value is ready to use. A JSONValues is not safe for concurrent use.
type JSONValues struct {
	r   Reader
	one [1]types.Column // the column being appended to, as a block of one
}

// SkipJSONSpace returns the position of the first byte at or after text[i]
// that is not JSON white space (space, tab, CR, LF), or len(text).
func SkipJSONSpace(text []byte, i int) int { return skipWS(text, i) }

// String decodes the JSON string whose opening quote is at text[i]. It
// returns the string's content and the position after its closing quote,
// or a message saying why the text is not a JSON string. The content may
// share memory with text or with d, and is valid until the next call of a
// method of d.
func (d *JSONValues) String(text []byte, i int) (s []byte, end int, msg string) {
	if i >= len(text) || text[i] != '"' {
		return nil, i, malformed(text, i, "a string")
	}
	return d.r.jsonString(text, i)
}

// Append appends the JSON value at text[i] to c, which must hold a scalar
// type other than null, by the JSON Lines rules (null is NULL, timestamps
// are epoch milliseconds or timestamp text, dates YYYY-MM-DD strings, ...).
// It returns the position after the value. When the value is malformed or
// does not fit c's type it returns a message, such as `cannot read "abc"
// as double`, and appends nothing.
func (d *JSONValues) Append(c *types.Column, text []byte, i int) (end int, msg string) {
	d.r.fresh = d.r.fresh[:0]
	d.one[0] = *c
	b := types.Block{Cols: d.one[:], Len: c.Len()}
	end, msg = d.r.jsonValue(&b, 0, text, i)
	*c = d.one[0]
	d.one[0] = types.Column{}
	return end, msg
}

// maxJSONDepth bounds the nesting of the values Skip walks through.
const maxJSONDepth = 64

// Skip returns the position after the JSON value at text[i] (after
// leading white space), or a message when it is malformed. Besides strict
// JSON it accepts the bare NaN, Infinity and -Infinity that Append
// accepts. Objects and arrays may nest up to 64 levels.
func (d *JSONValues) Skip(text []byte, i int) (end int, msg string) {
	return d.skip(text, skipWS(text, i), 0)
}

func (d *JSONValues) skip(text []byte, i, depth int) (int, string) {
	if i >= len(text) {
		return i, malformed(text, i, "a value")
	}
	switch ch := text[i]; {
	case ch == '"':
		_, j, msg := d.r.jsonString(text, i)
		return j, msg
	case ch == '{' || ch == '[':
		if depth >= maxJSONDepth {
			return i, "malformed JSON: values nest too deep"
		}
		return d.skipComposite(text, i, depth)
	case ch == '-' || ch-'0' <= 9:
		if j, ok := literal(text, i, "-Infinity"); ok {
			return j, ""
		}
		j, _, ok := scanNumber(text, i)
		if !ok {
			return j, malformed(text, j, "a digit")
		}
		return j, ""
	}
	for _, lit := range [...]string{"null", "true", "false", "NaN", "Infinity"} {
		if j, ok := literal(text, i, lit); ok {
			return j, ""
		}
	}
	return i, malformed(text, i, "a value")
}

// skipComposite skips the object or array whose opening bracket is at
// text[i].
func (d *JSONValues) skipComposite(text []byte, i, depth int) (int, string) {
	object, closer := text[i] == '{', byte(']')
	if object {
		closer = '}'
	}
	i = skipWS(text, i+1)
	if i < len(text) && text[i] == closer {
		return i + 1, ""
	}
	for {
		var msg string
		if object {
			if i >= len(text) || text[i] != '"' {
				return i, malformed(text, i, "a key")
			}
			if _, i, msg = d.r.jsonString(text, i); msg != "" {
				return i, msg
			}
			if i = skipWS(text, i); i >= len(text) || text[i] != ':' {
				return i, malformed(text, i, "':'")
			}
			i = skipWS(text, i+1)
		}
		if i, msg = d.skip(text, i, depth+1); msg != "" {
			return i, msg
		}
		switch i = skipWS(text, i); {
		case i < len(text) && text[i] == ',':
			i = skipWS(text, i+1)
		case i < len(text) && text[i] == closer:
			return i + 1, ""
		default:
			return i, malformed(text, i, "',' or '"+string(closer)+"'")
		}
	}
}

// MalformedJSON returns the message for malformed JSON at text[i] where
// want was expected, as the reader words it: "malformed JSON at column 7:
// want ':', found 'x'".
func MalformedJSON(text []byte, i int, want string) string { return malformed(text, i, want) }

// AppendJSONValue appends v as JSON Lines encodes values: NULL as null,
// non-finite floats as the strings "NaN", "Inf" and "-Inf", floats in
// shortest round-trip form for their width, timestamps as integers
// (epoch milliseconds), dates as "YYYY-MM-DD" strings, arrays and maps as
// JSON arrays and objects.
func AppendJSONValue(dst []byte, v types.Value) []byte { return appendJSON(dst, v) }

// AppendJSONString appends s as a JSON string, with the escapes JSON
// requires; bytes that are not UTF-8 are kept as they are.
func AppendJSONString(dst []byte, s string) []byte { return appendJSONString(dst, s) }

// AppendJSONArray appends row as a JSON array of values by the same rules.
func AppendJSONArray(dst []byte, row []types.Value) []byte {
	dst = append(dst, '[')
	for j, v := range row {
		if j > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSON(dst, v)
	}
	return append(dst, ']')
}
