package datafile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Splitter cuts the records of a CSV file, after its header, into pieces
// of whole records, each read by a Reader of its own, so that pieces can
// be parsed concurrently. Read piece after piece, their rows, line numbers
// and row errors are those the file's own Reader returns.
//
// A piece ends at the end of the last record that ends in the data read
// for it, found as the Reader's scanner finds it: at a line feed outside
// quotes. A record longer than a piece (or a quote never closed) stops
// the splitting: Rest then reads the remainder sequentially, as the
// file's Reader would (with its limit on a record's length).
//
// A Splitter is not safe for concurrent use; the Readers it returns are
// independent of it and of each other.
type Splitter struct {
	r    *Reader // the file's Reader, positioned after the header
	size int
	// bufLen is the length of r's buffer, which Rest's reader starts with.
	bufLen int
	data   []byte // the data read past the last piece: the next piece's start
	line   int64  // the line the next piece starts on
	eof    bool   // the source has ended
	err    error  // sticky: the error Next returns
	rest   *Reader
}

// Split returns a Splitter of the rows of r, a CSV Reader of which no row
// has been read, into pieces of about size bytes. r must not be used
// afterwards.
func (r *Reader) Split(size int) (*Splitter, error) {
	if r.format != CSV {
		return nil, fmt.Errorf("datafile: %s: only a CSV file splits into pieces", r.name)
	}
	// A piece holds no record longer than r would hold: its buffer grows
	// (doubling) up to r.maxRec.
	limit := max(len(r.buf), r.maxRec)
	s := &Splitter{r: r, size: min(max(size, 1), limit), bufLen: len(r.buf), line: r.line, eof: r.eof, err: r.err}
	s.data = append([]byte(nil), r.buf[r.pos:r.end]...)
	r.buf = nil
	return s, nil
}

// Next returns a Reader of the next piece's rows. It returns nil and
// io.EOF when no piece is left; the rest of the file, if any, is then read
// with Rest. An error of the source is returned, with the file and the
// line of the first record not read, once the pieces before it are; Next
// keeps returning it.
func (s *Splitter) Next() (*Reader, error) {
	if s.err != nil {
		return nil, s.err
	}
	if s.rest != nil || (s.eof && len(s.data) == 0) {
		return nil, io.EOF
	}
	if err := s.fill(); err != nil {
		s.err = fmt.Errorf("%s:%d: %w", s.r.name, s.line, err)
		return nil, s.err
	}
	end := len(s.data)
	if !s.eof {
		end = s.r.csv.lastRecordEnd(s.data)
	}
	if end == 0 { // no whole record in size bytes
		s.rest = s.piece(s.data, s.r.src, s.eof)
		s.data = nil
		return nil, io.EOF
	}
	piece := s.data[:end:end]
	s.data = s.data[end:]
	r := s.piece(piece, nil, true)
	s.line += int64(bytes.Count(piece, []byte{'\n'}))
	return r, nil
}

// Rest returns a Reader of the part of the file Next left unsplit (reading
// the source as the file's Reader does), or nil when there is none.
func (s *Splitter) Rest() *Reader { return s.rest }

// fill reads the source until s.data holds size bytes or the source ends,
// into a new buffer (pieces alias their buffers).
func (s *Splitter) fill() error {
	if s.eof || len(s.data) >= s.size {
		return nil
	}
	buf := make([]byte, s.size)
	n := copy(buf, s.data)
	for empty := 0; n < len(buf); {
		k, err := s.r.src.Read(buf[n:])
		n += k
		switch {
		case err == io.EOF:
			s.eof = true
			s.data = buf[:n]
			return nil
		case err != nil:
			return err
		case k > 0:
			empty = 0
		case empty > 100:
			return errNoProgress
		default:
			empty++
		}
	}
	s.data = buf[:n]
	return nil
}

// piece returns a Reader of data, which starts at a record, on line
// s.line: reading src after data, or nothing more when eof.
func (s *Splitter) piece(data []byte, src io.Reader, eof bool) *Reader {
	f := s.r
	r := &Reader{
		src: src, name: f.name, format: CSV, schema: f.schema, index: f.index,
		buf: data, end: len(data), eof: eof, line: s.line, maxRec: f.maxRec,
	}
	r.csv.csvCodec = f.csv.csvCodec
	r.csv.cols, r.csv.oneCol = f.csv.cols, f.csv.oneCol
	if !eof && len(r.buf) < s.bufLen { // room to read into, as r had
		r.buf = make([]byte, s.bufLen)
		copy(r.buf, data)
	}
	return r
}

// errIncomplete reports a record that goes on past the data.
var errIncomplete = errors.New("incomplete record")

// lastRecordEnd returns the end of the last record that ends in data
// (after its line feed), data starting at a record; 0 if none does.
// Records end where Reader.csvRecord ends them, given more data to come.
func (c *csvCodec) lastRecordEnd(data []byte) int {
	last := bytes.LastIndexByte(data, '\n') + 1
	if last == 0 {
		return 0
	}
	if bytes.IndexByte(data[:last], c.quote) < 0 {
		return last // no quotes: every line feed ends a record
	}
	end := 0
	for end < len(data) {
		next, err := c.recordEnd(data, end)
		if err != nil {
			break
		}
		end = next
	}
	return end
}

// recordEnd returns the end of the record that starts at data[pos], past
// its line feed, or errIncomplete if it does not end in data. It follows
// Reader.scanLine and Reader.scanQuoted.
func (c *csvCodec) recordEnd(data []byte, pos int) (int, error) {
	n := bytes.IndexByte(data[pos:], '\n')
	if n < 0 {
		return 0, errIncomplete
	}
	if bytes.IndexByte(data[pos:pos+n], c.quote) < 0 {
		return pos + n + 1, nil
	}
	for {
		for pos < len(data) && c.blank[data[pos]] {
			pos++
		}
		var ok bool
		if pos < len(data) && data[pos] == c.quote {
			pos, ok = c.quotedEnd(data, pos)
		} else {
			pos, ok = c.unquotedEnd(data, pos)
		}
		if !ok {
			return 0, errIncomplete
		}
		if data[pos] == '\n' {
			return pos + 1, nil
		}
		pos++ // the delimiter
	}
}

// unquotedEnd returns the position of the delimiter or line feed that
// ends the unquoted field at pos, and false if the data ends first.
func (c *csvCodec) unquotedEnd(data []byte, pos int) (int, bool) {
	for pos < len(data) && data[pos] != c.delim && data[pos] != '\n' {
		pos++
	}
	return pos, pos < len(data)
}

// quotedEnd returns the position of the delimiter or line feed after the
// quoted field whose opening quote is at pos (and any text after its
// closing quote), and false if the data ends first.
func (c *csvCodec) quotedEnd(data []byte, pos int) (int, bool) {
	pos++
	for {
		k := bytes.IndexByte(data[pos:], c.quote)
		if k < 0 {
			return pos, false
		}
		pos += k + 1
		if pos == len(data) {
			return pos, false
		}
		if data[pos] != c.quote {
			break
		}
		pos++ // a doubled quote
	}
	for pos < len(data) && (c.blank[data[pos]] || data[pos] == '\r') {
		pos++
	}
	if pos < len(data) && data[pos] != c.delim && data[pos] != '\n' {
		return c.unquotedEnd(data, pos) // text after the closing quote
	}
	return pos, pos < len(data)
}
