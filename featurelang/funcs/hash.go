package funcs

import (
	"encoding/binary"
	"math"

	farm "github.com/dgryski/go-farm"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Hashing.
//
//	hash64 farm_fingerprint   (bool|int16|int32|int64|float|double|string|timestamp|date) → int64
//
// hash64(x) is FarmHash's Fingerprint64 (OpenMLDB links Google's farmhash;
// go-farm is its Go port) of the bytes OpenMLDB hashes for a value of x's
// type, read as a signed int64 (udf.h Hash64, literal_traits.h
// to_bytes_ref):
//
//	bool                one byte, 0 or 1
//	int16 int32 int64   2, 4 or 8 bytes, little endian
//	float double        the IEEE 754 bits, 4 or 8 bytes, little endian
//	timestamp           the milliseconds, 8 bytes
//	date                OpenMLDB's 4-byte date code (year-1900)<<16 | (month-1)<<8 | day,
//	                    0 outside the years 1900-9999 (as its Date constructor)
//	string              its bytes
//
// Equal values of different types therefore hash differently:
// hash64(int16 90) != hash64(int32 90), as in OpenMLDB. NULL gives NULL.

func init() {
	tb := &table{expected: "(bool|int16|int32|int64|float|double|string|timestamp|date)"}
	for _, t := range []types.Type{types.Bool, types.Int16, types.Int32, types.Int64, types.Float,
		types.Double, types.String, types.Timestamp, types.Date} {
		h := hasher(t)
		tb.sigs = append(tb.sigs, sig{[]types.Type{t}, types.Int64, fixed(func(v []types.Value) types.Value {
			return intV(types.Int64, h(v[0]))
		})})
	}
	register("hash64", tb.resolve, "farm_fingerprint")
}

// hasher returns hash64 of non-NULL values of the column type t.
func hasher(t types.Type) func(types.Value) int64 {
	if t == types.String {
		return func(v types.Value) int64 { return int64(farm.Fingerprint64([]byte(v.S))) }
	}
	bytes := fixedBytes(t)
	return func(v types.Value) int64 {
		var buf [8]byte
		return int64(farm.Fingerprint64(bytes(v, &buf)))
	}
}

// fixedBytes returns the in-memory bytes of a fixed-size value of type t in
// OpenMLDB (x86-64, little endian), written into buf.
func fixedBytes(t types.Type) func(v types.Value, buf *[8]byte) []byte {
	switch t {
	case types.Bool:
		return func(v types.Value, buf *[8]byte) []byte { buf[0] = byte(v.I & 1); return buf[:1] }
	case types.Int16:
		return func(v types.Value, buf *[8]byte) []byte {
			binary.LittleEndian.PutUint16(buf[:], uint16(v.I))
			return buf[:2]
		}
	case types.Int32:
		return func(v types.Value, buf *[8]byte) []byte {
			binary.LittleEndian.PutUint32(buf[:], uint32(v.I))
			return buf[:4]
		}
	case types.Float:
		return func(v types.Value, buf *[8]byte) []byte {
			binary.LittleEndian.PutUint32(buf[:], math.Float32bits(float32(v.F)))
			return buf[:4]
		}
	case types.Double:
		return func(v types.Value, buf *[8]byte) []byte {
			binary.LittleEndian.PutUint64(buf[:], math.Float64bits(v.F))
			return buf[:8]
		}
	case types.Date:
		return func(v types.Value, buf *[8]byte) []byte {
			binary.LittleEndian.PutUint32(buf[:], uint32(dateCode(v.I)))
			return buf[:4]
		}
	}
	// int64 and timestamp
	return func(v types.Value, buf *[8]byte) []byte {
		binary.LittleEndian.PutUint64(buf[:], uint64(v.I))
		return buf[:8]
	}
}

// dateCode is OpenMLDB's int32 encoding of a date (days since 1970-01-01),
// 0 for a year outside 1900-9999 as its Date(year, month, day) gives.
func dateCode(days int64) int32 {
	y, m, d := types.DateOf(days)
	if y < 1900 || y > 9999 {
		return 0
	}
	return int32((y-1900)<<16 | (int(m)-1)<<8 | d)
}
