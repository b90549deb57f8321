package bigtable

import (
	"encoding/binary"
	"math"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Row keys and cell qualifiers (see docs/storage-format.md, "Row keys"):
//
//	row key:   index ordinal u8 | encoded index key | ^day [8]byte
//	qualifier: ^ts [8]byte | ^seq [8]byte
//
// A Bigtable row holds one key's rows of one day (of its TS value), a
// cell each, so a window is a scan of a few Bigtable rows.
//
// Key values are encoded so that bytewise order is value order, NULL
// first, and no encoding is a prefix of another's: a tag byte, then the
// payload.
const (
	tagNull  = 0x00
	tagValue = 0x01
)

// Reserved first bytes of row keys: index ordinals are below tilePrefix.
const (
	// tilePrefix starts the rows of pre-aggregated tiles (tiles.go).
	tilePrefix = 0xFE
	// metaPrefix starts the metadata row.
	metaPrefix = 0xFF
	// maxIndexes is the number of index ordinals available.
	maxIndexes = tilePrefix
)

// appendKey appends the encoding of v, a value of a column of type t (or
// NULL), to dst.
func appendKey(dst []byte, t types.Type, v types.Value) []byte {
	if v.Null {
		return append(dst, tagNull)
	}
	dst = append(dst, tagValue)
	switch {
	case t == types.Bool:
		return append(dst, byte(v.I&1))
	case t.IsFloat():
		return binary.BigEndian.AppendUint64(dst, floatKey(v.F))
	case t == types.String:
		return appendKeyString(dst, v.S)
	}
	return binary.BigEndian.AppendUint64(dst, uint64(v.I)^1<<63) // integers, timestamp, date
}

// floatKey maps a float to a uint64 of the same order: NaN (any payload)
// first, then -Inf ... -0 = +0 ... +Inf, as types.Compare orders them.
func floatKey(f float64) uint64 {
	switch {
	case f != f:
		return 0
	case f == 0:
		f = 0 // -0 equals +0
	}
	b := math.Float64bits(f)
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}

// appendKeyString escapes 0x00 as 0x00 0xFF and ends the string with
// 0x00 0x01, which sorts before any continuation: a string sorts before
// the strings it is a prefix of.
func appendKeyString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			dst = append(dst, 0, 0xFF)
			continue
		}
		dst = append(dst, s[i])
	}
	return append(dst, 0, 1)
}

// keyValue converts a value looked up in a column of type t to that
// type's domain, as types.Compare matches values: integers and floats
// compare numerically, other types only with their own kind. ok is false
// when no value of the column can equal v.
func keyValue(t types.Type, v types.Value) (types.Value, bool) {
	if v.Null {
		return types.NullOf(t), true
	}
	switch {
	case v.Type.Kind() == t.Kind() || t.IsInteger() && v.Type.IsInteger():
		return types.Value{Type: t, I: v.I, F: v.F, S: v.S}, true
	case t.IsFloat() && v.Type.IsNumeric():
		return types.Value{Type: t, F: v.AsFloat()}, true
	case t.IsInteger() && v.Type.IsFloat():
		f := v.F
		if f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
			return types.Value{}, false
		}
		return types.Value{Type: t, I: int64(f)}, true
	}
	return types.Value{}, false
}

// appendTS appends ^ts as 8 big-endian bytes of ts with its sign bit
// flipped, then inverted: newer times sort first.
func appendTS(dst []byte, ts int64) []byte {
	return binary.BigEndian.AppendUint64(dst, ^(uint64(ts) ^ 1<<63))
}

// dayWidth is the span of TS values one Bigtable row holds: a day of
// milliseconds.
const dayWidth = 86_400_000

// dayOf returns the day of a TS value: floor(ts / dayWidth), as an int64
// (math.MinInt64, the order value of NULL, has a day of its own too).
func dayOf(ts int64) int64 {
	d := ts / dayWidth
	if ts%dayWidth < 0 {
		d--
	}
	return d
}

// appendDay appends ^day, encoded as appendTS encodes times: newer days
// sort first.
func appendDay(dst []byte, ts int64) []byte { return appendTS(dst, dayOf(ts)) }

// appendSeq appends ^seq: later arrivals sort first.
func appendSeq(dst []byte, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(dst, ^seq)
}

// be64 reads 8 big-endian bytes of s.
func be64(s string) uint64 {
	_ = s[7]
	return uint64(s[7]) | uint64(s[6])<<8 | uint64(s[5])<<16 | uint64(s[4])<<24 |
		uint64(s[3])<<32 | uint64(s[2])<<40 | uint64(s[1])<<48 | uint64(s[0])<<56
}

// prefixSuccessor returns the smallest key greater than every key with
// prefix p, or "" (no bound) when p is all 0xFF bytes.
func prefixSuccessor(p []byte) string {
	n := len(p)
	for n > 0 && p[n-1] == 0xFF {
		n--
	}
	if n == 0 {
		return ""
	}
	out := make([]byte, n)
	copy(out, p)
	out[n-1]++
	return string(out)
}
