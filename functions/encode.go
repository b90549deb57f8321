package functions

import (
	"maps"
	"slices"
	"strconv"

	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/datafile"
)

// Responses are written by hand into pooled buffers, values in the JSON
// Lines encoding of internal/datafile (the conformance encoding): NULL as
// null, non-finite floats as "NaN", "Inf", "-Inf", floats in shortest
// round-trip form, timestamps as epoch milliseconds, dates as
// "YYYY-MM-DD". A client that parses them as datafile reads values gets
// the computed values back bit for bit.

// computeHeader returns the start of a view's compute response, up to the
// opening bracket of its rows:
//
//	{"view":"name","version":"v1-...","columns":[{"name":"c","type":"int64"},...],"rows":[
//
// A view of a database has "db":"..." after "view".
func computeHeader(v *View) []byte {
	b := append([]byte(nil), `{"view":`...)
	b = datafile.AppendJSONString(b, v.Name)
	b = appendDB(b, v.DB)
	b = append(b, `,"version":`...)
	b = datafile.AppendJSONString(b, v.Version)
	b = append(b, `,"columns":`...)
	b = appendSchema(b, v.Output)
	return append(b, `,"rows":[`...)
}

// appendSchema appends [{"name":...,"type":...},...].
func appendSchema(b []byte, s types.Schema) []byte {
	b = append(b, '[')
	for i, f := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = datafile.AppendJSONString(b, f.Name)
		b = append(b, `,"type":`...)
		b = datafile.AppendJSONString(b, f.Type.String())
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendRows appends rows as a JSON array of arrays (null for a filtered
// row), without the brackets around the whole.
func appendRows(b []byte, rows [][]types.Value) []byte {
	for i, r := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendRow(b, r)
	}
	return b
}

// appendRow appends one row as a JSON array, or null for a nil row.
func appendRow(b []byte, r []types.Value) []byte {
	if r == nil {
		return append(b, "null"...)
	}
	return datafile.AppendJSONArray(b, r)
}

// appendObjectRow appends one row as a JSON object keyed by the schema's
// names, or null for a nil row.
func appendObjectRow(b []byte, s types.Schema, r []types.Value) []byte {
	if r == nil {
		return append(b, "null"...)
	}
	b = append(b, '{')
	for j, v := range r {
		if j > 0 {
			b = append(b, ',')
		}
		b = datafile.AppendJSONString(b, s[j].Name)
		b = append(b, ':')
		b = datafile.AppendJSONValue(b, v)
	}
	return append(b, '}')
}

// appendCompute appends a view's compute response.
func appendCompute(b []byte, v *View, res *ComputeResult) []byte {
	b = append(b, v.header...)
	b = appendRows(b, res.Rows)
	return append(b, "]}"...)
}

// appendViewInfo appends the description of a view:
//
//	{"name":...,"version":...,"request_table":...,"input":[columns],
//	 "columns":[output columns],"tables":[names],"options":{...},"plan":"explain text"}
//
// With full unset, options and plan are left out (the list of views). A
// view of a database has "db":"..." after "name".
func appendViewInfo(b []byte, v *View, full bool) []byte {
	b = append(b, `{"name":`...)
	b = datafile.AppendJSONString(b, v.Name)
	b = appendDB(b, v.DB)
	b = append(b, `,"version":`...)
	b = datafile.AppendJSONString(b, v.Version)
	b = append(b, `,"request_table":`...)
	b = datafile.AppendJSONString(b, v.Input.Name)
	b = append(b, `,"input":`...)
	b = appendSchema(b, v.Input.Schema)
	b = append(b, `,"columns":`...)
	b = appendSchema(b, v.Output)
	b = append(b, `,"tables":`...)
	b = appendTableNames(b, v.Plan.Tables)
	if full {
		b = append(b, `,"options":{`...)
		for i, k := range slices.Sorted(maps.Keys(v.Plan.Options)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = datafile.AppendJSONString(b, k)
			b = append(b, ':')
			b = datafile.AppendJSONString(b, v.Plan.Options[k])
		}
		b = append(b, `},"plan":`...)
		b = datafile.AppendJSONString(b, plan.Explain(v.Plan))
	}
	return append(b, '}')
}

// appendDB appends ,"db":"..." when db is not empty.
func appendDB(b []byte, db string) []byte {
	if db == "" {
		return b
	}
	b = append(b, `,"db":`...)
	return datafile.AppendJSONString(b, db)
}

func appendTableNames(b []byte, tables []*plan.Table) []byte {
	b = append(b, '[')
	for i, t := range tables {
		if i > 0 {
			b = append(b, ',')
		}
		b = datafile.AppendJSONString(b, t.Name)
	}
	return append(b, ']')
}

// appendError appends the error body of the native routes:
//
//	{"error":"message","field":"rows[0].amount","request_id":"..."}
//
// field and request_id are left out when empty.
func appendError(b []byte, msg, field, id string) []byte {
	b = append(b, `{"error":`...)
	b = datafile.AppendJSONString(b, msg)
	if field != "" {
		b = append(b, `,"field":`...)
		b = datafile.AppendJSONString(b, field)
	}
	if id != "" {
		b = append(b, `,"request_id":`...)
		b = datafile.AppendJSONString(b, id)
	}
	return append(b, '}')
}

// appendInt appends a decimal integer.
func appendInt(b []byte, i int) []byte { return strconv.AppendInt(b, int64(i), 10) }
