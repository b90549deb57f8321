package exactsum

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// The errors of MarshalBinary and UnmarshalBinary.
var (
	ErrRange   = errors.New("exactsum: sum out of range")
	ErrVersion = errors.New("exactsum: unknown encoding version")
	ErrCorrupt = errors.New("exactsum: corrupt encoding")
)

// The encoding (version 1) is canonical: equal sums encode to equal bytes.
//
//	byte     version, 1
//	byte     flags: flagNeg if the sum is negative, flagSpecial if counts
//	         of NaNs and infinities follow
//	varint   NaN, +Inf and -Inf counts, if flagSpecial (not all zero)
//	uvarint  k, the number of 32-bit digits of |sum|; 0 for a zero sum
//	uvarint  lo, the index of the lowest digit, if k > 0
//	k×uint32 digits lo to lo+k-1 of |sum|, little-endian, where digit i
//	         weighs 2^(32i-1075); the first and the last are not zero
const (
	version     = 1
	flagNeg     = 1 << 0
	flagSpecial = 1 << 1
)

// MarshalBinary encodes the sum compactly: a few bytes of header and 4 bytes
// per 32 bits of the exact sum's magnitude, from its lowest to its highest
// set bit (a sum of values of similar magnitude takes 12 to 20 bytes).
// Equal sums (see Equal) have equal encodings. It fails with ErrRange for a
// sum out of range (see Acc).
func (a *Acc) MarshalBinary() ([]byte, error) { return a.AppendBinary(nil) }

// AppendBinary appends the encoding of MarshalBinary to b.
func (a *Acc) AppendBinary(b []byte) ([]byte, error) {
	lo, hi := a.span()
	end := min(hi+1, numDigits)
	var buf [numDigits + 2]uint32
	neg, j, ok := a.magnitude(buf[:], lo, end)
	if !ok {
		return b, ErrRange
	}
	digits := buf[2 : j+1] // the digits of |sum| from lo to the top non-zero one
	for len(digits) > 0 && digits[0] == 0 {
		digits = digits[1:]
		lo++
	}
	k := len(digits)
	special := a.nan|a.pinf|a.ninf != 0
	var flags byte
	if neg {
		flags |= flagNeg
	}
	if special {
		flags |= flagSpecial
	}
	b = append(b, version, flags)
	if special {
		b = binary.AppendVarint(b, a.nan)
		b = binary.AppendVarint(b, a.pinf)
		b = binary.AppendVarint(b, a.ninf)
	}
	b = binary.AppendUvarint(b, uint64(k))
	if k == 0 {
		return b, nil
	}
	b = binary.AppendUvarint(b, uint64(lo))
	for _, d := range digits {
		b = binary.LittleEndian.AppendUint32(b, d)
	}
	return b, nil
}

// UnmarshalBinary replaces the sum with the one encoded in data by
// MarshalBinary. It returns an error wrapping ErrVersion or ErrCorrupt, and
// leaves the Acc empty, if data is not such an encoding.
func (a *Acc) UnmarshalBinary(data []byte) error {
	a.Reset()
	if err := a.decode(data); err != nil {
		a.Reset()
		return err
	}
	return nil
}

// decode sets the empty Acc a from data.
func (a *Acc) decode(data []byte) error {
	if len(data) < 2 {
		return fmt.Errorf("%w: %d bytes", ErrCorrupt, len(data))
	}
	if data[0] != version {
		return fmt.Errorf("%w %d", ErrVersion, data[0])
	}
	flags := data[1]
	if flags&^(flagNeg|flagSpecial) != 0 {
		return fmt.Errorf("%w: flags %#x", ErrCorrupt, flags)
	}
	r := reader{data: data[2:]}
	if flags&flagSpecial != 0 {
		a.nan, a.pinf, a.ninf = r.varint(), r.varint(), r.varint()
		if r.err == nil && a.nan|a.pinf|a.ninf == 0 {
			return fmt.Errorf("%w: zero NaN and infinity counts", ErrCorrupt)
		}
	}
	k := r.uvarint()
	if k == 0 {
		if flags&flagNeg != 0 {
			return fmt.Errorf("%w: negative zero", ErrCorrupt)
		}
		return r.end()
	}
	lo := r.uvarint()
	if r.err == nil && (k > numDigits || lo > numDigits-k) {
		return fmt.Errorf("%w: digits %d to %d", ErrCorrupt, lo, lo+k-1)
	}
	if r.err != nil || uint64(len(r.data)) != 4*k {
		return fmt.Errorf("%w: length", ErrCorrupt)
	}
	first := binary.LittleEndian.Uint32(r.data)
	last := binary.LittleEndian.Uint32(r.data[4*k-4:])
	if first == 0 || last == 0 {
		return fmt.Errorf("%w: leading or trailing zero digit", ErrCorrupt)
	}
	sign := int64(0)
	if flags&flagNeg != 0 {
		sign = -1
	}
	for i := range int(k) {
		v := int64(binary.LittleEndian.Uint32(r.data[4*i:]))
		a.d[int(lo)+i] = v ^ sign - sign
	}
	a.setSpan(int(lo), int(lo+k))
	a.n = 1
	return nil
}

// reader reads varints, remembering the first error.
type reader struct {
	data []byte
	err  error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.data)
	if n <= 0 || n != uvarintLen(v) {
		r.err = fmt.Errorf("%w: bad uvarint", ErrCorrupt)
		return 0
	}
	r.data = r.data[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.data)
	if n <= 0 || n != uvarintLen(uint64(v)<<1^uint64(v>>63)) {
		r.err = fmt.Errorf("%w: bad varint", ErrCorrupt)
		return 0
	}
	r.data = r.data[n:]
	return v
}

// uvarintLen returns the length of the shortest uvarint encoding of v:
// UnmarshalBinary accepts no other, so that the encoding stays canonical.
func uvarintLen(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

// end returns the first error, or one if bytes are left over.
func (r *reader) end() error {
	if r.err == nil && len(r.data) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(r.data))
	}
	return r.err
}
