// Package records turns Kafka records into table rows for every path that
// takes them: the streaming pipeline (package dataflow) and the Lambda
// function's Kafka trigger (package functions). Both decode a record's
// value with the one row decoder (datafile.JSONRows, as request bodies
// are decoded) and number its row with Seq, so a record delivered twice,
// or to both paths, is stored once.
package records

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/datafile"
)

// Arrival sequence numbers of streamed rows. storage orders the rows of
// one key at one time by sequence number, compared unsigned, and a row
// written again with the same key, time and sequence number overwrites
// the stored one. A record's number derives from where it sits in Kafka:
//
//	bit 63       0
//	bit 62       1: streamed rows sort after batch-loaded rows of the same
//	             time (file<<40 | line, below 2^62) and before rows
//	             ingested online (bit 63 set)
//	bits 61..40  the partition (22 bits)
//	bits 39..0   the offset (40 bits: about 10^12 records per partition)
//
// Within a partition, numbers grow with offsets, so rows of one key at one
// time keep the order their producer wrote them in, provided a key's
// records share a partition (producers key records by the view's
// partition key). The topic is not part of the number: a table takes its
// records from one topic.
const (
	streamBit     = 1 << 62
	offsetBits    = 40
	partitionBits = 22
	// MaxOffset is the largest offset Seq numbers.
	MaxOffset = 1<<offsetBits - 1
	// MaxPartition is the largest partition Seq numbers.
	MaxPartition = 1<<partitionBits - 1
)

// ErrRange: a record's partition or offset is beyond what Seq numbers.
var ErrRange = errors.New("records: partition or offset out of range")

// Seq returns the arrival sequence number of the record at offset of
// partition, or ErrRange.
func Seq(partition int32, offset int64) (uint64, error) {
	if partition < 0 || partition > MaxPartition || offset < 0 || offset > MaxOffset {
		return 0, fmt.Errorf("%w: partition %d offset %d (at most %d and %d)", ErrRange, partition, offset, MaxPartition, int64(MaxOffset))
	}
	return streamBit | uint64(partition)<<offsetBits | uint64(offset), nil
}

// Record is a Kafka record, as much of it as decoding needs.
type Record struct {
	Topic     string
	Partition int32
	Offset    int64
	Value     []byte
}

// Error is a bad record: where it is, and why it was not decoded.
type Error struct {
	Topic     string
	Partition int32
	Offset    int64
	// Column is the column (or unknown key) concerned, "" for the record
	// as a whole.
	Column string
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "topic %s partition %d offset %d: ", e.Topic, e.Partition, e.Offset)
	if e.Column != "" {
		b.WriteString(e.Column + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Bad returns the *Error of record r with a message.
func Bad(r Record, column, format string, args ...any) *Error {
	return &Error{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Column: column, Msg: fmt.Sprintf(format, args...)}
}

// Decoder decodes the record values of one table. A value is one row: a
// JSON object of every column of the table (null for NULL), or an array
// of one value per column in the table's order — a row exactly as the
// functions accept it in a request. A Decoder is not safe for concurrent
// use.
type Decoder struct {
	spec datafile.RowSpec
	json datafile.JSONRows
}

// NewDecoder returns a decoder of rows of table.
func NewDecoder(table string, schema types.Schema) *Decoder {
	return &Decoder{spec: datafile.RowSpec{Table: table, Schema: schema}}
}

// Schema returns the schema rows are decoded to.
func (d *Decoder) Schema() types.Schema { return d.spec.Schema }

// Append decodes r's value as a row appended to b, which holds rows of the
// decoder's table, and appends its sequence number to seqs. On a bad
// record it appends nothing and returns an *Error.
func (d *Decoder) Append(b *types.Block, seqs []uint64, r Record) ([]uint64, error) {
	seq, err := Seq(r.Partition, r.Offset)
	if err != nil {
		return seqs, Bad(r, "", "%v", err)
	}
	text := r.Value
	i := datafile.SkipJSONSpace(text, 0)
	if i == len(text) {
		return seqs, Bad(r, "", "empty value; want a JSON object of the columns of %s", d.spec.Table)
	}
	end, msg := d.json.Values.Skip(text, i)
	if msg != "" {
		return seqs, Bad(r, "", "%s", valueMsg(msg))
	}
	if j := datafile.SkipJSONSpace(text, end); j < len(text) {
		return seqs, Bad(r, "", "malformed JSON at byte %d: text after the row", j+1)
	}
	var p *datafile.RowProblem
	switch text[i] {
	case '{':
		_, p = d.json.Object(text, i, b, d.spec)
	case '[':
		_, p = d.json.Array(text, i, b, d.spec)
	default:
		return seqs, Bad(r, "", "want a JSON object of the columns of %s, found %s", d.spec.Table, clip(text[i:end]))
	}
	if p != nil {
		return seqs, Bad(r, p.Column, "%s", p.Msg)
	}
	return append(seqs, seq), nil
}

// valueMsg adapts a message of datafile, which speaks of positions in
// columns of a line, to a record value, where they are byte offsets.
func valueMsg(msg string) string {
	msg = strings.Replace(msg, "malformed JSON at column ", "malformed JSON at byte ", 1)
	return strings.Replace(msg, "the line ends", "the value ends", 1)
}

// clip shows at most 40 bytes of a value in a message.
func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

// Policy is what a path does with a bad record.
type Policy struct {
	Mode Mode
	// Topic is the dead-letter topic (Mode DeadLetter).
	Topic string
}

// Mode is a Policy's kind.
type Mode uint8

const (
	// Fail stops at the first bad record, naming its topic, partition and
	// offset.
	Fail Mode = iota
	// Skip counts bad records and goes on.
	Skip
	// DeadLetter forwards bad records to a topic, the reason in the
	// header ErrorHeader, and goes on.
	DeadLetter
)

// ErrorHeader is the header of a dead-lettered record that says why it was
// not stored; the headers SourceHeader say where it came from.
const (
	ErrorHeader  = "fenestra-error"
	SourceHeader = "fenestra-source" // topic/partition/offset
)

// ParsePolicy parses "fail", "skip" or "dead-letter=TOPIC".
func ParsePolicy(s string) (Policy, error) {
	switch {
	case s == "fail":
		return Policy{Mode: Fail}, nil
	case s == "skip":
		return Policy{Mode: Skip}, nil
	case strings.HasPrefix(s, "dead-letter="):
		if topic := strings.TrimPrefix(s, "dead-letter="); topic != "" {
			return Policy{Mode: DeadLetter, Topic: topic}, nil
		}
	}
	return Policy{}, fmt.Errorf("bad-records policy %q: want fail, skip or dead-letter=TOPIC", s)
}

func (p Policy) String() string {
	switch p.Mode {
	case Skip:
		return "skip"
	case DeadLetter:
		return "dead-letter=" + p.Topic
	}
	return "fail"
}
