package agg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// The serialized Partial: the tile state. A Partial's AppendBinary writes
// it; DecodePartial reads it back for the same Func. The encoding (version
// 1) is a format byte, 1, then the state of the aggregate, with integers as
// varints (uvarint for counts, zigzag varint for values) in their shortest
// form:
//
//	count, count_where      uvarint n
//	sum (integer, timestamp) uvarint n, then varint sum if n > 0
//	                        (the int64 sum, wrapped modulo 2^64)
//	sum (float), avg        uvarint n, then if n > 0 the exact sum, as
//	                        exactsum.Acc.AppendBinary writes it, to the end
//	min, max                nothing when no value was added; else the value:
//	                        varint for integers, dates and timestamps, the 8
//	                        bytes of the float64 (little-endian) for floats,
//	                        uvarint length and bytes for strings
//	*_where                 the encoding of its core aggregate (the
//	                        condition was applied when rows were added)
//	distinct_count          byte flags (bit 0: a NULL date was seen),
//	                        uvarint NaNs, uvarint k, then the k distinct
//	                        keys in ascending order
//	topn_frequency,         uvarint values counted (NULLs included), uvarint
//	top1_ratio, entropy     NaNs, uvarint k, then k times: key, uvarint count
//	                        (>= 1), keys in ascending order
//	top                     the k greatest values only (counts adding up to
//	                        at most top's k): byte flags (bit 0: the zero
//	                        key prints as -0, bit 1: the NaN key prints as
//	                        -nan; set only for a key present), uvarint NaNs,
//	                        uvarint n, then n times: key, uvarint count
//	                        (>= 1), keys in ascending order
//
// Keys are: for integers, bools, dates and timestamps, the first a varint
// and each next one a uvarint of its difference to the previous one; for
// double the 8 bytes of the float64, for float the 4 bytes of the float32
// (little-endian; never NaN, 0 is +0); for strings uvarint length and bytes.
//
// The encoding is deterministic: the same rows added in the same order
// give the same bytes. It holds no per-value order, only sets, counts and
// exact sums, so for every aggregate but min and max the same rows in any
// order, or any split of them merged, give the same bytes too (min and max
// keep the first of equal values, -0 or +0, like the window; top over
// floats the sign of the newest zero and NaN). Decoding
// accepts exactly the encodings AppendBinary writes: re-encoding a decoded
// Partial gives its bytes back.
const partialVersion = 1

// The errors of DecodePartial.
var (
	ErrNoPartial      = errors.New("agg: aggregate has no partial state")
	ErrPartialVersion = errors.New("agg: unknown partial encoding version")
	ErrCorruptPartial = errors.New("agg: corrupt partial encoding")
)

// DecodePartial returns the Partial of f encoded in data by AppendBinary
// of a Partial of the same Func (same name, argument types and constants).
// It returns an error wrapping ErrNoPartial when f has no Partial,
// ErrPartialVersion for an unknown format byte and ErrCorruptPartial for
// anything else that AppendBinary does not write; it never panics. The
// Partial does not keep data.
func DecodePartial(f *Func, data []byte) (Partial, error) {
	p := f.NewPartial()
	if p == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoPartial, f.Name)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrCorruptPartial)
	}
	if data[0] != partialVersion {
		return nil, fmt.Errorf("%w %d", ErrPartialVersion, data[0])
	}
	r := decoder{data: data[1:]}
	p.decode(&r)
	if err := r.end(); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	return p, nil
}

// MergeBinary merges the encoded partial data (AppendBinary's bytes, a
// Partial of f) into p, a Partial of f: as DecodePartial then p.Merge,
// but without building the decoded partial apart where its state allows
// (the frequency aggregates'). On an error p may hold part of data.
func MergeBinary(p Partial, f *Func, data []byte) error {
	if fp, ok := p.(interface{ additive() bool }); ok && fp.additive() {
		if len(data) == 0 {
			return fmt.Errorf("%w: empty", ErrCorruptPartial)
		}
		if data[0] != partialVersion {
			return fmt.Errorf("%w %d", ErrPartialVersion, data[0])
		}
		r := decoder{data: data[1:]}
		p.decode(&r)
		if err := r.end(); err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		return nil
	}
	q, err := DecodePartial(f, data)
	if err != nil {
		return err
	}
	p.Merge(q)
	return nil
}

// decoder reads an encoded Partial, remembering the first error; after
// one, every read returns zero values.
type decoder struct {
	data []byte
	err  error
}

// fail records an error wrapping ErrCorruptPartial.
func (r *decoder) fail(format string, a ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrCorruptPartial, fmt.Sprintf(format, a...))
	}
	r.data = nil
}

// more reports whether bytes are left and no error occurred.
func (r *decoder) more() bool { return r.err == nil && len(r.data) > 0 }

func (r *decoder) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.data)
	if n <= 0 || n != uvarintLen(v) {
		r.fail("bad uvarint")
		return 0
	}
	r.data = r.data[n:]
	return v
}

func (r *decoder) varint() int64 {
	u := r.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

// count reads a uvarint that must fit an int64.
func (r *decoder) count() int64 {
	u := r.uvarint()
	if u > math.MaxInt64 {
		r.fail("count %d out of range", u)
		return 0
	}
	return int64(u)
}

// bytes reads n bytes; the result aliases the input.
func (r *decoder) bytes(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.data)) {
		r.fail("%d bytes wanted, %d left", n, len(r.data))
		return nil
	}
	b := r.data[:n]
	r.data = r.data[n:]
	return b
}

func (r *decoder) byte() byte {
	if b := r.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *decoder) string() string { return string(r.bytes(r.uvarint())) }

func (r *decoder) float64() float64 {
	if b := r.bytes(8); b != nil {
		return math.Float64frombits(binary.LittleEndian.Uint64(b))
	}
	return 0
}

func (r *decoder) float32() float64 {
	if b := r.bytes(4); b != nil {
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
	}
	return 0
}

// rest reads all the bytes left.
func (r *decoder) rest() []byte { return r.bytes(uint64(len(r.data))) }

// end returns the first error, or one if bytes are left over.
func (r *decoder) end() error {
	if r.err == nil && len(r.data) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrCorruptPartial, len(r.data))
	}
	return r.err
}

// uvarintLen returns the length of the shortest uvarint encoding of v: the
// decoder accepts no other, so that the encoding stays canonical.
func uvarintLen(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

// appendVarint appends v zigzag-encoded, as decoder.varint reads it.
func appendVarint(b []byte, v int64) []byte { return binary.AppendVarint(b, v) }

// appendValue appends a non-NULL value of the scalar type t, as readValue
// reads it.
func appendValue(b []byte, t types.Type, v types.Value) []byte {
	switch {
	case t.IsFloat():
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(v.F))
	case t == types.String:
		b = binary.AppendUvarint(b, uint64(len(v.S)))
		return append(b, v.S...)
	}
	return appendVarint(b, v.I)
}

// readValue reads a non-NULL value of type t written by appendValue.
func (r *decoder) readValue(t types.Type) types.Value {
	v := types.Value{Type: t}
	switch {
	case t.IsFloat():
		v.F = r.float64()
		if t == types.Float && v.F == v.F && float64(float32(v.F)) != v.F {
			r.fail("float value %v is no float32", v.F)
		}
	case t == types.String:
		v.S = r.string()
	default:
		v.I = r.varint()
		if v.I != types.Wrap(t, v.I) {
			r.fail("%s value %d out of range", t, v.I)
		}
	}
	return v
}
