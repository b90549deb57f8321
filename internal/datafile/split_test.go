package datafile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// readTrace reads every row of r, skipping bad rows, into a text of the
// rows, their lines and the errors, in order.
func readTrace(r RowReader, schema types.Schema, out *strings.Builder) error {
	for {
		b := types.NewBlock(schema, 0)
		var lines []int64
		_, err := r.Next(b, &lines, 3)
		for i := 0; i < b.Len; i++ {
			fmt.Fprintf(out, "%d:", lines[i])
			for j := range b.Cols {
				fmt.Fprintf(out, " %v", b.Cols[j].Value(i))
			}
			out.WriteByte('\n')
		}
		var rowErr *RowError
		switch {
		case err == io.EOF:
			return nil
		case errors.As(err, &rowErr):
			fmt.Fprintf(out, "bad: %v\n", err)
		case err != nil:
			fmt.Fprintf(out, "error: %v\n", err)
			return err
		}
	}
}

// splitTrace reads data as readTrace does, through a Splitter of pieces
// of size bytes and its Rest.
func splitTrace(t *testing.T, data []byte, schema types.Schema, opts CSVOptions, size, maxRec int) string {
	t.Helper()
	var out strings.Builder
	r, err := newReader(bytes.NewReader(data), "f", CSV, schema, opts, 16, maxRec)
	if err != nil {
		return fmt.Sprintf("open: %v", err)
	}
	s, err := r.Split(size)
	if err != nil {
		t.Fatal(err)
	}
	for {
		p, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Fprintf(&out, "error: %v\n", err)
			return out.String()
		}
		if err := readTrace(p, schema, &out); err != nil {
			return out.String()
		}
	}
	if rest := s.Rest(); rest != nil {
		readTrace(rest, schema, &out)
	}
	return out.String()
}

// seqTrace reads data with one Reader, as readTrace does.
func seqTrace(data []byte, schema types.Schema, opts CSVOptions, maxRec int) string {
	var out strings.Builder
	r, err := newReader(bytes.NewReader(data), "f", CSV, schema, opts, 16, maxRec)
	if err != nil {
		return fmt.Sprintf("open: %v", err)
	}
	readTrace(r, schema, &out)
	return out.String()
}

// checkSplit checks that reading data in pieces of every size up to its
// length gives the rows, lines and errors of reading it whole.
func checkSplit(t *testing.T, data []byte, schema types.Schema, opts CSVOptions, maxRec int) {
	t.Helper()
	want := seqTrace(data, schema, opts, maxRec)
	for size := 1; size <= len(data)+1; size++ {
		if got := splitTrace(t, data, schema, opts, size, maxRec); got != want {
			t.Fatalf("pieces of %d bytes of %q (%+v):\n%s\nwant (read whole):\n%s", size, data, opts, got, want)
		}
	}
}

// TestSplit reads the read tests' CSV files, and random ones of quoted
// fields, line breaks in quotes, blank lines and bad rows, in pieces.
func TestSplit(t *testing.T) {
	t.Parallel()
	for _, c := range csvCases {
		schema, err := parseSchema(c.schema)
		if err != nil {
			t.Fatal(err)
		}
		checkSplit(t, []byte(c.in), schema, c.opts, maxRecord)
		checkSplit(t, []byte(c.in), schema, c.opts, 12) // records longer than the limit
	}
	schema, err := parseSchema("id int64, name string, x double")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	parts := []string{"1", "22", "a", "\"", "\"\"", ",", "\n", "\r\n", " ", "x y", "\"q,\nq\"", "1.5", ";", "'"}
	for range 300 {
		opts := CSVOptions{}
		if rng.IntN(3) == 0 {
			opts = randomCSVOptions(rng)
		}
		var b strings.Builder
		if !opts.NoHeader {
			d := string(opts.withDefaults().Delimiter)
			b.WriteString("id" + d + "name" + d + "x\n")
		}
		for range rng.IntN(30) {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		checkSplit(t, []byte(b.String()), schema, opts, 1+rng.IntN(64))
	}
}

// FuzzSplit checks reading in pieces against reading whole.
func FuzzSplit(f *testing.F) {
	for _, c := range csvCases {
		f.Add(c.schema, []byte(c.in), c.opts.Delimiter, c.opts.Quote, c.opts.NoHeader, 7)
	}
	f.Fuzz(func(t *testing.T, schemaText string, data []byte, delim, quote byte, noHeader bool, size int) {
		schema, err := parseSchema(schemaText)
		opts := CSVOptions{Delimiter: delim, Quote: quote, NoHeader: noHeader}
		if err != nil || checkSchema("f", CSV, schema) != nil || opts.Check() != nil || len(data) > 4096 {
			return
		}
		want := seqTrace(data, schema, opts, maxRecord)
		if got := splitTrace(t, data, schema, opts, 1+size%64, maxRecord); got != want {
			t.Fatalf("pieces of %d bytes:\n%s\nwant:\n%s", 1+size%64, got, want)
		}
	})
}
