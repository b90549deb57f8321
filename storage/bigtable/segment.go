package bigtable

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"slices"
)

// Segments (see docs/storage-format.md, "Cells: segments"): a cell holds
// the rows of one write that fall in one Bigtable row, newest first.
//
//	qualifier: ^ts [8]byte | ^seq [8]byte | digest [8]byte
//	value:     format u8 | stamp uvarint | count uvarint | count × (ts varint | seq uvarint | len uvarint | row)
//
// ts and seq in the qualifier are the newest row's; digest is the FNV-1a
// hash of every row's ts and seq, so the same rows make the same
// qualifier. stamp is the write stamp (Store.stamp); row is the row's
// encoding (Codec).
const (
	segmentFormat = 1
	qualifierLen  = 24
	// segmentRowOverhead bounds the bytes a row adds to a segment beside
	// its encoding.
	segmentRowOverhead = 3 * binary.MaxVarintLen64
)

// appendSegmentQualifier appends the qualifier of a segment of rows,
// newest first.
func appendSegmentQualifier(dst []byte, seg []placed) []byte {
	h := fnv.New64a()
	var b [16]byte
	for _, p := range seg {
		binary.BigEndian.PutUint64(b[:8], uint64(p.ts))
		binary.BigEndian.PutUint64(b[8:], p.seq)
		h.Write(b[:])
	}
	dst = appendSeq(appendTS(dst, seg[0].ts), seg[0].seq)
	return binary.BigEndian.AppendUint64(dst, h.Sum64())
}

// appendSegment appends the value of a segment of rows, newest first.
func appendSegment(dst []byte, stamp uint64, seg []placed, vals *encodedRows) []byte {
	dst = append(dst, segmentFormat)
	dst = binary.AppendUvarint(dst, stamp)
	dst = binary.AppendUvarint(dst, uint64(len(seg)))
	for _, p := range seg {
		row := vals.row(p.row)
		dst = binary.AppendVarint(dst, p.ts)
		dst = binary.AppendUvarint(dst, p.seq)
		dst = binary.AppendUvarint(dst, uint64(len(row)))
		dst = append(dst, row...)
	}
	return dst
}

// stored is a row as read from a segment: its order value, sequence
// number, the stamp of the write that stored it, and its encoding (which
// points into the cell's value).
type stored struct {
	ts    int64
	seq   uint64
	stamp uint64
	val   []byte
}

// appendSegmentRows appends the rows of a segment's value to dst, newest
// first.
func appendSegmentRows(dst []stored, v []byte) ([]stored, error) {
	if len(v) == 0 || v[0] != segmentFormat {
		return dst, fmt.Errorf("%w: segment format %v, this build reads %d", errCorrupt, v[:min(len(v), 1)], segmentFormat)
	}
	v = v[1:]
	stamp, n := binary.Uvarint(v)
	if n <= 0 {
		return dst, fmt.Errorf("%w: segment stamp", errCorrupt)
	}
	v = v[n:]
	count, n := binary.Uvarint(v)
	if n <= 0 || count > uint64(len(v)) {
		return dst, fmt.Errorf("%w: segment row count", errCorrupt)
	}
	v = v[n:]
	for i := uint64(0); i < count; i++ {
		ts, n := binary.Varint(v)
		if n <= 0 {
			return dst, fmt.Errorf("%w: segment row %d: time", errCorrupt, i)
		}
		v = v[n:]
		seq, n := binary.Uvarint(v)
		if n <= 0 {
			return dst, fmt.Errorf("%w: segment row %d: sequence number", errCorrupt, i)
		}
		v = v[n:]
		size, n := binary.Uvarint(v)
		if n <= 0 || size > uint64(len(v)-n) {
			return dst, fmt.Errorf("%w: segment row %d: length", errCorrupt, i)
		}
		v = v[n:]
		dst = append(dst, stored{ts: ts, seq: seq, stamp: stamp, val: v[:size:size]})
		v = v[size:]
	}
	if len(v) != 0 {
		return dst, fmt.Errorf("%w: %d bytes after the segment's rows", errCorrupt, len(v))
	}
	return dst, nil
}

// newestFirst orders rows as a scan yields them: time, then sequence
// number, descending.
func newestFirst(a, b stored) int {
	return cmp.Or(cmp.Compare(b.ts, a.ts), cmp.Compare(b.seq, a.seq))
}

// mergeSegments orders the rows read from the segments of one Bigtable
// row newest first and keeps, of the copies of one sequence number, the
// one of the latest write (the greatest stamp). rows holds the segments'
// rows one segment after the other; single says they are of one segment,
// already in order and without repeats.
func mergeSegments(rows []stored, single bool) []stored {
	if single || len(rows) == 0 {
		return rows
	}
	slices.SortFunc(rows, func(a, b stored) int {
		return cmp.Or(cmp.Compare(a.seq, b.seq), cmp.Compare(b.stamp, a.stamp))
	})
	out := rows[:1]
	for _, r := range rows[1:] {
		if r.seq != out[len(out)-1].seq {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, newestFirst)
	return out
}
