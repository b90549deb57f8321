// Package rowcsv reads and writes typed rows as CSV, for the project's
// data-driven test files and tools: a header naming columns, NULL written
// NULL, values read as CAST('text' AS type) reads them.
package rowcsv

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/funcs"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Read reads rows of schema from CSV text with a header row naming
// columns (any order; columns not named are NULL). Errors name the file and
// line of the bad value.
func Read(r io.Reader, schema types.Schema, file string, firstLine int) (*types.Block, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s:%d: reading the header: %w", file, firstLine, err)
	}
	cols := make([]int, len(header))
	casts := make([]funcs.Impl, len(header))
	for i, h := range header {
		if cols[i] = schema.Index(strings.TrimSpace(h)); cols[i] < 0 {
			return nil, fmt.Errorf("%s:%d: column %q is not in the table (%s)", file, firstLine, h, schema)
		}
		if casts[i], err = funcs.Cast(types.String, schema[cols[i]].Type); err != nil {
			return nil, fmt.Errorf("%s:%d: column %q: %w", file, firstLine, h, err)
		}
	}
	b := types.NewBlock(schema, 0)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return b, nil
		}
		line, _ := cr.FieldPos(0)
		line += firstLine - 1
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, line, err)
		}
		if len(rec) != len(header) {
			return nil, fmt.Errorf("%s:%d: %d values for %d columns", file, line, len(rec), len(header))
		}
		row := make([]types.Value, len(schema))
		for i, f := range schema {
			row[i] = types.NullOf(f.Type)
		}
		for i, text := range rec {
			text = strings.TrimSpace(text)
			if text == "NULL" {
				continue
			}
			v := casts[i]([]types.Value{types.StringValue(text)})
			if v.Null {
				f := schema[cols[i]]
				return nil, fmt.Errorf("%s:%d: column %s: cannot read %q as %s", file, line, f.Name, text, f.Type)
			}
			row[cols[i]] = v
		}
		b.AppendRow(row)
	}
}

// Format renders a block as CSV with a "name type" header, values as
// Value.String writes them (floats in shortest exact form, NULL as NULL).
func Format(b *types.Block) string {
	var out strings.Builder
	w := csv.NewWriter(&out)
	header := make([]string, len(b.Schema))
	for i, f := range b.Schema {
		header[i] = f.Name + " " + f.Type.String()
	}
	w.Write(header)
	for i := 0; i < b.Len; i++ {
		rec := make([]string, len(b.Cols))
		for j := range b.Cols {
			rec[j] = b.Cols[j].Value(i).String()
		}
		w.Write(rec)
	}
	w.Flush()
	return out.String()
}
