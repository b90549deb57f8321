package datafile

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// FuzzReadCSV reads arbitrary bytes as CSV of an arbitrary dialect: no
// panic, every call makes progress, and the rows accepted re-encode (as
// CSV of the same dialect and of the default one, and as JSONL) and
// re-read identically. Seeded from the read tests, and from each of them
// in random dialects.
func FuzzReadCSV(f *testing.F) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range csvCases {
		for _, o := range []CSVOptions{c.opts, randomCSVOptions(rng), randomCSVOptions(rng)} {
			f.Add(c.schema, []byte(c.in), o.Delimiter, o.Quote, o.NoHeader, o.NullValue)
		}
	}
	f.Fuzz(func(t *testing.T, schema string, data []byte, delim, quote byte, noHeader bool, null string) {
		fuzzRead(t, CSV, schema, data, CSVOptions{Delimiter: delim, Quote: quote, NoHeader: noHeader, NullValue: null})
	})
}

// FuzzReadJSONL is FuzzReadCSV for JSON Lines.
func FuzzReadJSONL(f *testing.F) {
	for _, c := range jsonlCases {
		f.Add(c.schema, []byte(c.in))
	}
	f.Fuzz(func(t *testing.T, schema string, data []byte) { fuzzRead(t, JSONL, schema, data, CSVOptions{}) })
}

// fuzzRead reads data in format f with the schema (skipping the input if
// the schema does not parse) and the dialect opts, skipping bad rows, then
// checks the round trip of what it accepted.
func fuzzRead(t *testing.T, f Format, schemaText string, data []byte, opts CSVOptions) {
	schema, err := parseSchema(schemaText)
	if err != nil {
		return
	}
	r, err := newReader(bytes.NewReader(data), "fuzz", f, schema, opts, 64, 1<<20)
	if err != nil {
		var rowErr *RowError
		if f == CSV && !errors.As(err, &rowErr) && checkSchema("fuzz", f, schema) == nil && opts.Check() == nil {
			t.Fatalf("NewReader: %v is not a *RowError", err)
		}
		return
	}
	b := types.NewBlock(schema, 0)
	var lines []int64
	for calls := 0; ; calls++ {
		if calls > len(data)+2 {
			t.Fatalf("no end after %d calls", calls)
		}
		before := b.Len
		n, err := r.Next(b, &lines, 3)
		if n != b.Len-before || len(lines) != b.Len || n > 3 {
			t.Fatalf("Next returned %d, appended %d rows, %d lines", n, b.Len-before, len(lines)-before)
		}
		var rowErr *RowError
		if err == io.EOF {
			break
		}
		if err != nil && !errors.As(err, &rowErr) {
			break // the row limit
		}
	}
	for i := 1; i < len(lines); i++ {
		if lines[i] <= lines[i-1] {
			t.Fatalf("line numbers %v do not increase", lines)
		}
	}
	type output struct {
		f    Format
		opts CSVOptions
	}
	outs := []output{{CSV, CSVOptions{}}, {JSONL, CSVOptions{}}}
	if opts != (CSVOptions{}) {
		outs = append(outs, output{CSV, opts})
	}
	for _, out := range outs {
		text := encode(t, out.f, out.opts, b)
		again, err := readAll(bytes.NewReader(text), out.f, schema, out.opts, bufSize, 100)
		if err != nil {
			t.Fatalf("re-reading %v %+v: %v\n%q", out.f, out.opts, err, text)
		}
		if msg := sameRows(again, b); msg != "" {
			t.Fatalf("re-reading %v %+v: %s\n%q", out.f, out.opts, msg, text)
		}
	}
}

// FuzzFormatNumbers checks the writer's fast integer and double
// formatting against strconv, and that the reader parses them back.
func FuzzFormatNumbers(f *testing.F) {
	for _, x := range []float64{0, 1e-3, 1e5, 1234.56, 0.1, -2.5, 99999.99999999999, 1 << 60} {
		f.Add(math.Float64bits(x))
	}
	f.Fuzz(func(t *testing.T, u uint64) {
		if got, want := string(appendInt(nil, int64(u))), strconv.FormatInt(int64(u), 10); got != want {
			t.Fatalf("appendInt(%d) = %s", int64(u), got)
		}
		x := math.Float64frombits(u)
		text := appendDouble(nil, x)
		if want := strconv.FormatFloat(x, 'g', -1, 64); string(text) != want {
			t.Fatalf("appendDouble(%v) = %s, want %s", x, text, want)
		}
		if back, st := parseFloat(types.Double, text); st != numOK || (back != x && !math.IsNaN(x)) {
			t.Fatalf("parseFloat(%s) = %v, %d", text, back, st)
		}
	})
}
