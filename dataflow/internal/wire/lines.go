package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Output lines of one bucket are stored as a run of records in ascending
// sequence order, for the writer to merge:
//
//	record = uvarint(seq - previous seq) uvarint(len(line)) line
//
// (the first record's previous sequence number is 0).

// AppendRecord appends the record of a line with sequence number seq,
// following a record of sequence number prev, to dst.
func AppendRecord(dst []byte, prev, seq uint64, line []byte) []byte {
	dst = binary.AppendUvarint(dst, seq-prev)
	dst = binary.AppendUvarint(dst, uint64(len(line)))
	return append(dst, line...)
}

// RecordReader reads a run of records. It reads its source in large
// pieces into its own buffer and returns lines from there, without copying
// them.
type RecordReader struct {
	r        io.Reader
	buf      []byte
	pos, end int // the unread data is buf[pos:end]
	eof      bool
	seq      uint64
	line     []byte
	n        int
}

// recordBuffer is the initial size of a RecordReader's buffer; it grows
// for a longer record.
const recordBuffer = 256 << 10

// maxLine bounds a record's line.
const maxLine = 1 << 30

// NewRecordReader reads records from r.
func NewRecordReader(r io.Reader) *RecordReader {
	return &RecordReader{r: r, buf: make([]byte, recordBuffer)}
}

// Next reads the next record. It returns io.EOF after the last one.
func (rr *RecordReader) Next() error {
	for {
		data := rr.buf[rr.pos:rr.end]
		delta, k := binary.Uvarint(data)
		n, m := uint64(0), 0
		if k > 0 {
			n, m = binary.Uvarint(data[k:])
		}
		switch {
		case k < 0 || m < 0 || (m > 0 && n > maxLine):
			return rr.corrupt(errors.New("bad record header"))
		case m > 0 && uint64(len(data)-k-m) >= n:
			if delta == 0 && rr.n > 0 {
				return rr.corrupt(errors.New("sequence number not ascending"))
			}
			start := rr.pos + k + m
			rr.line = rr.buf[start : start+int(n) : start+int(n)]
			rr.pos = start + int(n)
			rr.seq += delta
			rr.n++
			return nil
		case rr.eof && len(data) == 0:
			return io.EOF
		case rr.eof:
			return rr.corrupt(io.ErrUnexpectedEOF)
		}
		need := 2 * binary.MaxVarintLen64
		if m > 0 {
			need = k + m + int(n)
		}
		if err := rr.fill(need); err != nil {
			return rr.corrupt(err)
		}
	}
}

func (rr *RecordReader) corrupt(err error) error {
	return fmt.Errorf("%w: record %d: %v", ErrCorrupt, rr.n, err)
}

// fill moves the unread data to the front of the buffer, grows the buffer
// to hold at least need bytes, and reads until it is full or the source
// ends.
func (rr *RecordReader) fill(need int) error {
	if need > len(rr.buf) {
		buf := make([]byte, max(need, 2*len(rr.buf)))
		rr.end = copy(buf, rr.buf[rr.pos:rr.end])
		rr.buf = buf
	} else {
		rr.end = copy(rr.buf, rr.buf[rr.pos:rr.end])
	}
	rr.pos = 0
	for empty := 0; rr.end < len(rr.buf); {
		n, err := rr.r.Read(rr.buf[rr.end:])
		rr.end += n
		switch {
		case err == io.EOF:
			rr.eof = true
			return nil
		case err != nil:
			return err
		case n > 0:
			empty = 0
		case empty > 100:
			return io.ErrNoProgress
		default:
			empty++
		}
	}
	return nil
}

// Seq is the sequence number of the current record.
func (rr *RecordReader) Seq() uint64 { return rr.seq }

// Line is the current record's line, valid until the next call of Next.
func (rr *RecordReader) Line() []byte { return rr.line }
