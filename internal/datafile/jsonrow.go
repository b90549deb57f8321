package datafile

import (
	"fmt"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// JSONRows decodes single rows written as JSON: an object keyed by column
// name, or an array of one value per column in the table's order. It is
// the one row decoder of the online paths: request bodies (package
// functions) and Kafka record values (package records) decode their rows
// with it, so a row means the same wherever it arrives. Values follow the
// JSON Lines rules of the package comment.
//
// Unlike a JSON Lines file, a row must be whole: an object gives every
// column (null for NULL) exactly once. Key names match exactly, else
// case-insensitively as SQL names do.
//
// The zero value is ready to use. A JSONRows is not safe for concurrent
// use.
type JSONRows struct {
	// Values decodes the values; hosts use it for the rest of their
	// documents too.
	Values JSONValues
	seen   []uint32 // per column: the stamp of the last object row that had it
	stamp  uint32
}

// RowSpec is the table rows are decoded for.
type RowSpec struct {
	Table  string // its name, for messages
	Schema types.Schema
	// AllowUnknown skips object members that name no column (OpenMLDB's
	// APIServer accepts such "redundant columns") instead of failing.
	AllowUnknown bool
}

// RowProblem says why a row was not decoded: Column names the column (or
// the unknown key) concerned, "" for the row as a whole.
type RowProblem struct {
	Column string
	Msg    string
}

// Object decodes the object at text[i], which must be well-formed JSON
// (JSONValues.Skip checks that), as a row of spec appended to b, and
// returns the position after it. On a problem it appends nothing.
func (d *JSONRows) Object(text []byte, i int, b *types.Block, spec RowSpec) (int, *RowProblem) {
	d.next(len(spec.Schema))
	i = skipWS(text, i+1)
	next := 0 // the column expected next: keys usually come in schema order
	for text[i] != '}' {
		key, j, _ := d.Values.String(text, i) // well-formed: checked by the caller
		c := jsonColumn(spec.Schema, key, next)
		i = skipWS(text, skipWS(text, j)+1) // past ':'
		switch {
		case c < 0 && spec.AllowUnknown:
			i, _ = d.Values.Skip(text, i)
		case c < 0:
			return i, d.fail(b, string(key), fmt.Sprintf("not a column of %s (%s)", spec.Table, spec.Schema))
		case d.seen[c] == d.stamp:
			return i, d.fail(b, spec.Schema[c].Name, "the object has this column twice")
		default:
			d.seen[c], next = d.stamp, c+1
			var msg string
			if i, msg = d.Values.Append(&b.Cols[c], text, i); msg != "" {
				return i, d.fail(b, spec.Schema[c].Name, msg)
			}
		}
		if i = skipWS(text, i); text[i] == ',' {
			i = skipWS(text, i+1)
		}
	}
	for c := range spec.Schema {
		if d.seen[c] != d.stamp {
			return i, d.fail(b, spec.Schema[c].Name, fmt.Sprintf("missing; every column of %s must be given (null for NULL)", spec.Table))
		}
	}
	b.Len++
	return i + 1, nil
}

// Array decodes the array at text[i], which must be well-formed JSON, as
// a row of spec appended to b, and returns the position after it. On a
// problem it appends nothing.
func (d *JSONRows) Array(text []byte, i int, b *types.Block, spec RowSpec) (int, *RowProblem) {
	n := len(spec.Schema)
	i = skipWS(text, i+1)
	c := 0
	for ; text[i] != ']'; c++ {
		if c == n {
			return i, d.fail(b, "", fmt.Sprintf("more than %d values; a %s row has %d columns (%s)", n, spec.Table, n, spec.Schema))
		}
		var msg string
		if i, msg = d.Values.Append(&b.Cols[c], text, i); msg != "" {
			return i, d.fail(b, spec.Schema[c].Name, msg)
		}
		if i = skipWS(text, i); text[i] == ',' {
			i = skipWS(text, i+1)
		}
	}
	if c != n {
		return i, d.fail(b, "", fmt.Sprintf("%d values; a %s row has %d columns (%s)", c, spec.Table, n, spec.Schema))
	}
	b.Len++
	return i + 1, nil
}

// next starts a row of a table of n columns.
func (d *JSONRows) next(n int) {
	if cap(d.seen) < n {
		d.seen = make([]uint32, n)
		d.stamp = 0
	}
	d.seen = d.seen[:n]
	d.stamp++
	if d.stamp == 0 { // wrapped: clear the stamps
		clear(d.seen)
		d.stamp = 1
	}
}

// fail removes what the row being decoded appended to b's columns and
// returns the problem.
func (d *JSONRows) fail(b *types.Block, col, msg string) *RowProblem {
	n := b.Len
	for k := range b.Cols {
		c := &b.Cols[k]
		c.I, c.F, c.S, c.X = trunc(c.I, n), trunc(c.F, n), trunc(c.S, n), trunc(c.X, n)
		c.Nulls = trunc(c.Nulls, n)
	}
	return &RowProblem{Column: col, Msg: msg}
}

// jsonColumn returns the column named key: an exact match, trying next
// first, else a case-insensitive one; -1 when none.
func jsonColumn(schema types.Schema, key []byte, next int) int {
	if next < len(schema) && schema[next].Name == string(key) {
		return next
	}
	for c, f := range schema {
		if f.Name == string(key) {
			return c
		}
	}
	return schema.Index(string(key))
}
