package datafile

import (
	"bytes"
	"fmt"
	"io"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// csvState is a Reader's CSV state: the dialect, the header's mapping and
// the record being read.
type csvState struct {
	csvCodec
	cols   []int   // field position -> schema column
	fields []field // the fields of the current record
	oneCol bool    // one column: an empty line is a NULL row
	// The first problem of the current record's syntax, if any: the field
	// it is in and what it is.
	badField int
	badMsg   string
}

// field is one field of the current record: its content is
// r.buf[start:end] (trimmed if unquoted, between the quotes if quoted).
type field struct {
	start, end int
	quoted     bool // the field was quoted (so "" is an empty string, not NULL)
	escaped    bool // the content holds doubled quotes to collapse
}

// readHeader reads the header row and maps its fields to the columns; in
// a file without one, the fields are the columns in order.
func (r *Reader) readHeader() error {
	r.csv.oneCol = len(r.schema) == 1
	if !r.csv.header {
		r.csv.cols = make([]int, len(r.schema))
		for i := range r.csv.cols {
			r.csv.cols[i] = i
		}
		return nil
	}
	line, err := r.csvRecord(true)
	if err == io.EOF {
		return &RowError{File: r.name, Line: r.line, Msg: fmt.Sprintf("no header row (the table has %s)", r.schema)}
	}
	if err != nil {
		return err
	}
	if msg := r.csv.badMsg; msg != "" {
		return &RowError{File: r.name, Line: line, Msg: fmt.Sprintf("field %d of the header: %s", r.csv.badField+1, msg)}
	}
	names := make([]string, len(r.csv.fields))
	for i, f := range r.csv.fields {
		v := r.content(f)
		s, e := r.csv.trim(v, 0, len(v))
		names[i] = string(v[s:e])
	}
	r.csv.cols, err = r.mapHeader(names, line)
	return err
}

// mapHeader returns the schema column of each header name, or an error
// naming an unknown, repeated or missing column.
func (r *Reader) mapHeader(names []string, line int64) ([]int, error) {
	bad := func(col, msg string) error {
		return &RowError{File: r.name, Line: line, Column: col, Msg: msg}
	}
	cols := make([]int, len(names))
	at := make([]int, len(r.schema)) // 1 + the field naming each column
	for i, name := range names {
		c, ok := r.index[name]
		switch {
		case name == "":
			return nil, bad("", fmt.Sprintf("field %d of the header is empty (the table has %s)", i+1, r.schema))
		case !ok:
			return nil, bad(name, fmt.Sprintf("not in the table (%s)", r.schema))
		case at[c] != 0:
			return nil, bad(name, fmt.Sprintf("named twice in the header (fields %d and %d)", at[c], i+1))
		}
		at[c], cols[i] = i+1, c
	}
	for c, fld := range r.schema {
		if at[c] == 0 {
			return nil, bad(fld.Name, fmt.Sprintf("missing from the header (the table has %s)", r.schema))
		}
	}
	return cols, nil
}

// csvRow reads one CSV row into b.
func (r *Reader) csvRow(b *types.Block) (int64, error) {
	line, err := r.csvRecord(!r.csv.oneCol)
	if err != nil {
		return 0, err
	}
	if r.csv.badMsg != "" {
		return line, &RowError{File: r.name, Line: line, Column: r.fieldColumn(r.csv.badField), Msg: r.csv.badMsg}
	}
	if len(r.csv.fields) != len(r.csv.cols) {
		return line, &RowError{File: r.name, Line: line, Msg: r.fieldCount()}
	}
	r.fresh = r.fresh[:0]
	for i, f := range r.csv.fields {
		col := r.csv.cols[i]
		v := r.content(f)
		var msg string
		switch {
		case len(v) == 0 && !f.quoted:
			r.appendNull(b, col)
		case len(v) == 0 && b.Cols[col].Type != types.String:
			msg = cannotRead(`""`, b.Cols[col].Type, numSyntax) + " (an empty field without quotes is NULL)"
		case len(v) == len(r.csv.null) && !f.quoted && string(v) == r.csv.null:
			r.appendNull(b, col)
		default:
			msg = appendValue(&b.Cols[col], v)
		}
		if msg != "" {
			r.rollback(b)
			return line, &RowError{File: r.name, Line: line, Column: r.schema[col].Name, Msg: msg}
		}
	}
	b.Len++
	return line, nil
}

// fieldCount is the message of a record with the wrong number of fields.
func (r *Reader) fieldCount() string {
	if r.csv.header {
		return fmt.Sprintf("%d fields, the header has %d", len(r.csv.fields), len(r.csv.cols))
	}
	return fmt.Sprintf("%d fields, the table has %d columns: %s", len(r.csv.fields), len(r.schema), r.schema)
}

// fieldColumn returns the name of the column of field i, or "" if the
// header has no field i.
func (r *Reader) fieldColumn(i int) string {
	if i < len(r.csv.cols) {
		return r.schema[r.csv.cols[i]].Name
	}
	return ""
}

// content returns the content of field f, collapsing doubled quotes in
// place (the record has been scanned, so its bytes are not read again).
func (r *Reader) content(f field) []byte {
	v := r.buf[f.start:f.end]
	if !f.escaped {
		return v
	}
	w := 0
	for i := 0; i < len(v); i++ {
		v[w] = v[i]
		w++
		if v[i] == r.csv.quote {
			i++ // skip the second quote of the pair
		}
	}
	return v[:w]
}

// csvRecord scans the next record into r.csv.fields and returns the line
// it starts on, or io.EOF at the end, or a sticky error. It skips blank
// lines when skipBlank is set.
func (r *Reader) csvRecord(skipBlank bool) (int64, error) {
	for {
		if r.pos == r.end {
			if r.eof {
				return 0, r.fail(io.EOF)
			}
			if err := r.fill(); err != nil {
				return 0, err
			}
			continue
		}
		line := r.line
		done, blank := r.scanLine()
		if done == slowPath {
			done, blank = r.scanQuoted()
		}
		switch {
		case done == scanned && !(blank && skipBlank):
			return line, nil
		case done == needMore:
			if err := r.fill(); err != nil {
				return 0, err
			}
		}
	}
}

// scanResult says whether a record has been scanned.
type scanResult uint8

const (
	slowPath scanResult = iota // the fast path cannot scan this record
	needMore                   // the record goes on past the buffered data
	scanned                    // the record is in r.csv.fields and consumed
)

// scanLine is the fast path: it scans a record that is one line without
// quotes. blank reports an empty line.
func (r *Reader) scanLine() (done scanResult, blank bool) {
	data := r.buf[r.pos:r.end]
	n := bytes.IndexByte(data, '\n')
	line, next := data, len(data)
	switch {
	case n >= 0:
		line, next = data[:n], n+1
	case !r.eof:
		return needMore, false
	}
	if bytes.IndexByte(line, r.csv.quote) >= 0 {
		return slowPath, false
	}
	if k := len(line) - 1; k >= 0 && line[k] == '\r' {
		line = line[:k]
	}
	r.split(line, r.pos)
	r.csv.badMsg = ""
	r.pos += next
	r.line++
	return scanned, len(line) == 0
}

// split sets r.csv.fields to the fields of line, which has no quotes and
// starts at r.buf[base].
func (r *Reader) split(line []byte, base int) {
	fields := r.csv.fields[:0]
	for start := 0; ; {
		end := len(line)
		k := bytes.IndexByte(line[start:], r.csv.delim)
		if k >= 0 {
			end = start + k
		}
		s, e := r.csv.trim(line, start, end)
		fields = append(fields, field{start: base + s, end: base + e})
		if k < 0 {
			break
		}
		start = end + 1
	}
	r.csv.fields = fields
}

// isBlank reports whether c is a space or a tab: what is trimmed around
// unquoted fields, unless it is the delimiter or the quote.
func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// scanQuoted is the general path: it scans a record that may hold quoted
// fields spanning lines. Syntax problems (a quote inside an unquoted
// field, text after a closing quote, a quote never closed) are recorded in
// r.csv.badMsg; the record still ends where the RFC 4180 grammar ends it,
// so the next record is read correctly.
func (r *Reader) scanQuoted() (done scanResult, blank bool) {
	r.csv.fields, r.csv.badMsg = r.csv.fields[:0], ""
	pos, lines := r.pos, int64(0)
	for {
		var f field
		var ok bool
		for pos < r.end && r.csv.blank[r.buf[pos]] {
			pos++
		}
		if pos < r.end && r.buf[pos] == r.csv.quote {
			f, pos, ok = r.quotedField(pos)
		} else {
			f, pos, ok = r.unquotedField(pos)
		}
		if !ok {
			return needMore, false
		}
		if f.quoted {
			lines += int64(bytes.Count(r.buf[f.start:f.end], []byte{'\n'}))
		}
		r.csv.fields = append(r.csv.fields, f)
		if pos < r.end && r.buf[pos] == r.csv.delim {
			pos++
			continue
		}
		if pos < r.end { // '\n'
			pos++
		}
		r.pos, r.line = pos, r.line+lines+1
		return scanned, false
	}
}

// unquotedField scans an unquoted field starting at pos (after leading
// blanks) up to the next delimiter, LF or the end of the data. It returns
// the position of that delimiter, and false if more data is needed.
func (r *Reader) unquotedField(pos int) (field, int, bool) {
	start := pos
	for pos < r.end && r.buf[pos] != r.csv.delim && r.buf[pos] != '\n' {
		if r.buf[pos] == r.csv.quote {
			r.bad(`a quote in an unquoted field (quote the whole field, doubling its quotes)`)
		}
		pos++
	}
	if pos == r.end && !r.eof {
		return field{}, pos, false
	}
	end := pos
	if end > start && r.buf[end-1] == '\r' && (pos == r.end || r.buf[pos] == '\n') {
		end--
	}
	start, end = r.csv.trim(r.buf, start, end)
	return field{start: start, end: end}, pos, true
}

// quotedField scans a quoted field whose opening quote is at pos, and the
// blanks after it. It returns the position of the delimiter after it, and
// false if more data is needed.
func (r *Reader) quotedField(pos int) (field, int, bool) {
	f := field{start: pos + 1, quoted: true}
	pos++
	for {
		k := bytes.IndexByte(r.buf[pos:r.end], r.csv.quote)
		if k < 0 {
			if !r.eof {
				return f, pos, false
			}
			r.bad("a quoted field is not closed before the end of the file")
			f.end = r.end
			return f, r.end, true
		}
		pos += k + 1
		if pos == r.end && !r.eof {
			return f, pos, false
		}
		if pos < r.end && r.buf[pos] == r.csv.quote {
			f.escaped = true
			pos++
			continue
		}
		break
	}
	f.end = pos - 1
	for pos < r.end && (r.csv.blank[r.buf[pos]] || r.buf[pos] == '\r') {
		pos++
	}
	if pos < r.end && r.buf[pos] != r.csv.delim && r.buf[pos] != '\n' {
		r.bad("text after the closing quote of a quoted field")
		_, pos, ok := r.unquotedField(pos)
		return f, pos, ok
	}
	if pos == r.end && !r.eof {
		return f, pos, false
	}
	return f, pos, true
}

// bad records a syntax problem of the current field, unless the record
// already has one.
func (r *Reader) bad(msg string) {
	if r.csv.badMsg == "" {
		r.csv.badField, r.csv.badMsg = len(r.csv.fields), msg
	}
}
