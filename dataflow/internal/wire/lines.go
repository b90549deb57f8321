package wire

import (
	"bufio"
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

// RecordReader reads a run of records.
type RecordReader struct {
	r    *bufio.Reader
	seq  uint64
	line []byte
	n    int
}

// NewRecordReader reads records from r.
func NewRecordReader(r *bufio.Reader) *RecordReader {
	return &RecordReader{r: r}
}

// Next reads the next record. It returns io.EOF after the last one.
func (rr *RecordReader) Next() error {
	delta, err := binary.ReadUvarint(rr.r)
	if err == io.EOF {
		return io.EOF
	}
	n, err2 := binary.ReadUvarint(rr.r)
	if err = errors.Join(err, err2); err != nil || (delta == 0 && rr.n > 0) || n > 1<<30 {
		return fmt.Errorf("%w: record %d: %v", ErrCorrupt, rr.n, err)
	}
	if cap(rr.line) < int(n) {
		rr.line = make([]byte, n)
	}
	rr.line = rr.line[:n]
	if _, err := io.ReadFull(rr.r, rr.line); err != nil {
		return fmt.Errorf("%w: record %d: %v", ErrCorrupt, rr.n, err)
	}
	rr.seq += delta
	rr.n++
	return nil
}

// Seq is the sequence number of the current record.
func (rr *RecordReader) Seq() uint64 { return rr.seq }

// Line is the current record's line, valid until the next call of Next.
func (rr *RecordReader) Line() []byte { return rr.line }
