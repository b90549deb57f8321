package datafile

import (
	"errors"
	"fmt"
	"strings"
)

// CSVOptions are a CSV file's dialect: its delimiter, whether it has a
// header row, a text that stands for NULL and its quote. The zero value is
// fenestra's own CSV, described in the package comment: a header row,
// commas, NULL an empty unquoted field, fields quoted with ". Formats
// other than CSV ignore them.
//
// CSVOptions hold only exported fields of plain types, so that Beam can
// carry them in DoFns and elements.
type CSVOptions struct {
	// Delimiter separates fields (0: ','): any byte but the quote, CR and
	// LF. Space and tab are trimmed around unquoted fields, except when
	// one of them is the delimiter or the quote.
	Delimiter byte
	// NoHeader says the file has no header row: its fields are the
	// table's columns in the schema's order, and a row must have one field
	// per column. A writer writes no header.
	NoHeader bool
	// NullValue, if not empty, stands for NULL: an unquoted field equal to
	// it (once trimmed) reads as NULL, and a writer writes NULL as it and
	// quotes any other value whose text equals it. An empty unquoted field
	// is NULL whether it is set or not. It must not hold the delimiter,
	// the quote, CR or LF, nor start or end with a space or a tab.
	NullValue string
	// Quote quotes fields (0: '"'), and is doubled inside a quoted field:
	// any byte but the delimiter, CR and LF.
	Quote byte
}

// Check returns an error saying why the options do not describe a CSV
// dialect, or nil. Readers and writers check their options.
func (o CSVOptions) Check() error {
	if msg := o.problem(); msg != "" {
		return errors.New("datafile: " + msg)
	}
	return nil
}

// problem says what Check finds wrong, or "".
func (o CSVOptions) problem() string {
	o = o.withDefaults()
	d, q, null := o.Delimiter, o.Quote, o.NullValue
	switch {
	case d == '\r' || d == '\n':
		return fmt.Sprintf("the CSV delimiter cannot be %s", byteName(d))
	case q == '\r' || q == '\n':
		return fmt.Sprintf("the CSV quote cannot be %s", byteName(q))
	case d == q:
		return fmt.Sprintf("the CSV delimiter and quote are both %s", byteName(d))
	case null == "":
		return ""
	case strings.IndexByte(null, d) >= 0:
		return fmt.Sprintf("the CSV null value %q holds the delimiter %s", null, byteName(d))
	case strings.IndexByte(null, q) >= 0:
		return fmt.Sprintf("the CSV null value %q holds the quote %s", null, byteName(q))
	case strings.ContainsAny(null, "\r\n"):
		return fmt.Sprintf("the CSV null value %q holds a line break", null)
	case isBlank(null[0]) || isBlank(null[len(null)-1]): // neither the delimiter nor the quote, so trimmed
		return fmt.Sprintf("the CSV null value %q starts or ends with a space or a tab, which are trimmed around unquoted fields", null)
	}
	return ""
}

// withDefaults returns o with its zero delimiter and quote replaced by
// ',' and '"'.
func (o CSVOptions) withDefaults() CSVOptions {
	if o.Delimiter == 0 {
		o.Delimiter = ','
	}
	if o.Quote == 0 {
		o.Quote = '"'
	}
	return o
}

// byteName shows a delimiter or quote in an error message.
func byteName(b byte) string {
	switch b {
	case '\r':
		return "CR"
	case '\n':
		return "LF"
	case '\t':
		return "tab"
	case ' ':
		return "space"
	}
	if b < 0x20 || b >= 0x7f {
		return fmt.Sprintf("byte 0x%02x", b)
	}
	return fmt.Sprintf("'%c'", b)
}

// csvCodec is a CSV dialect ready for reading and writing: the options
// with their defaults and the classes of bytes the reader and the writer
// look up.
type csvCodec struct {
	delim, quote byte
	header       bool
	null         string // "" when NULL is only the empty unquoted field
	// blank marks the bytes trimmed around unquoted fields: space and
	// tab, unless one is the delimiter or the quote.
	blank [256]bool
	// special marks the bytes that make a written field need quotes:
	// the delimiter, the quote, CR and LF.
	special [256]bool
	// plain is set for the default dialect, whose numbers, dates and
	// bools never need quotes; others check their text.
	plain bool
}

// defaultCSV is the codec of the zero CSVOptions.
var defaultCSV = newCSVCodec(CSVOptions{})

// newCSVCodec returns the codec of o, which Check accepts.
func newCSVCodec(o CSVOptions) *csvCodec {
	o = o.withDefaults()
	c := &csvCodec{delim: o.Delimiter, quote: o.Quote, header: !o.NoHeader, null: o.NullValue}
	c.plain = c.delim == ',' && c.quote == '"' && c.null == ""
	c.blank[' '], c.blank['\t'] = true, true
	c.blank[c.delim], c.blank[c.quote] = false, false
	for _, b := range []byte{c.delim, c.quote, '\r', '\n'} {
		c.special[b] = true
	}
	return c
}

// trim returns the bounds of b[s:e] without leading and trailing blanks.
func (c *csvCodec) trim(b []byte, s, e int) (int, int) {
	for s < e && c.blank[b[s]] {
		s++
	}
	for e > s && c.blank[b[e-1]] {
		e--
	}
	return s, e
}
