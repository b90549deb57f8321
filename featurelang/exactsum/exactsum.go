// Package exactsum sums floating-point numbers exactly. An Acc holds the
// exact (infinitely precise) sum of the values added minus those subtracted,
// so the order of additions, subtractions and merges never changes the
// result, and the result is rounded once, correctly (to nearest, ties to
// even), to float64 or float32.
//
// This is what makes fenestra's float sum and avg identical in every mode:
// subtract-on-evict in a sliding window, a fresh sum at request time and a
// merge of partial sums all hold the same exact value.
//
// # Representation
//
// An Acc is a superaccumulator: a fixed-point integer wide enough for every
// float64 and int64, counted in units of 2^-1075 (half the smallest
// subnormal) and split into 68 digits of 32 bits, digit i weighing 2^(32i).
// Each digit is held in an int64 and may run outside [0, 2^32), so an
// addition only adds the two halves of a shifted significand to two adjacent
// digits, with no carry. Every 1024 additions a carry pass brings the digits
// back to [0, 2^32), long before an int64 could overflow. Reset, Merge, the
// carry pass and rounding visit only the range of digits in use; values of
// similar magnitude use two to four digits. Rounding carries through them
// without changing the Acc and rounds the leading 64 bits of the magnitude,
// with a sticky bit for the rest.
//
// NaN and infinities are not part of the fixed-point value: they are counted,
// so that Sub undoes them like any other value.
package exactsum

import (
	"math"
	"math/bits"
)

const (
	digitBits = 32
	digitMask = 1<<digitBits - 1

	// bias is the weight of bit 0 of the fixed-point value: bit q weighs
	// 2^(q-bias). A float64 with biased exponent field E > 0 has its
	// significand's last bit at q = E, a subnormal at q = 1.
	bias = 1075

	// numDigits covers the largest float64 (bit q = 2098, in digit 65) plus
	// two digits of headroom for carries; the top digit is a signed int64
	// and takes any carry out of the rest. See Acc for the resulting range.
	numDigits = 68

	// intDigit and intShift place bit 0 of an integer (q = bias).
	intDigit = bias / digitBits
	intShift = bias % digitBits

	// carryLimit bounds the additions between carry passes. A carry pass
	// leaves every digit at most 2^32 in magnitude and an addition adds at
	// most 2^52 to a digit, so after n additions |d[i]| <= n·2^52. An Acc
	// runs a carry pass when n reaches carryLimit, so n < carryLimit at
	// rest, and a Merge of two Accs gives |d[i]| <= 2046·2^52 < 2^63.
	carryLimit = 1 << 10

	// maxExp: |sum| < 2^maxExp is in range (see Acc).
	maxExp = numDigits*digitBits - bias
)

// Acc is an exact sum. The zero value is an empty sum, ready to use.
//
// The sum is exact while its magnitude is below 2^1101, 2^77 times
// math.MaxFloat64: no sequence of fewer than 2^77 Adds gets there. A sum
// beyond that rounds to ±Inf and cannot be marshaled; from 2^1131 on, the
// fixed-point value wraps around and all results are wrong.
//
// An Acc is a plain value of about 580 bytes without pointers: assigning it
// copies the sum, and the copy is independent. It is not safe for concurrent
// use, except that methods which only read it (Float64, Float32, IsZero,
// Equal, AppendBinary, MarshalBinary, and Merge for its argument) may run
// concurrently with each other.
type Acc struct {
	// d holds the fixed-point value Σ d[i]·2^(32i-bias).
	d [numDigits]int64
	// used has bit j set if digits j and j+1 (for j = 63: digits 63 to 67)
	// may be non-zero; the others are zero. An Add sets one bit.
	used uint64
	// n counts additions since the last carry pass (a Merge adds the
	// other's count); |d[i]| <= n·2^52. See carryLimit.
	n int
	// nan, pinf and ninf count NaNs, +Infs and -Infs added minus subtracted.
	nan, pinf, ninf int64
}

// Reset empties the sum. Its cost grows with the range of digits used, not
// with the size of an Acc.
func (a *Acc) Reset() {
	if lo, hi := a.span(); lo < hi {
		clear(a.d[lo:hi])
	}
	a.used, a.n = 0, 0
	a.nan, a.pinf, a.ninf = 0, 0, 0
}

// Add adds x. NaN and infinities are counted (they do not enter the finite
// part of the sum), so Sub(x) undoes Add(x) for every x.
func (a *Acc) Add(x float64) { a.add(math.Float64bits(x), 0) }

// Sub subtracts x, undoing an earlier Add(x). For NaN and infinities it
// decrements their count: Sub(+Inf) with no +Inf added leaves the sum -Inf.
func (a *Acc) Sub(x float64) { a.add(math.Float64bits(x), -1) }

// add adds the float64 with bits b, negated when neg is -1 (neg is 0 or -1).
func (a *Acc) add(b uint64, neg int64) {
	e := uint(b>>52) & 0x7FF
	if e-1 >= 0x7FE { // ±0, subnormal, ±Inf or NaN
		a.addRare(b, neg)
		return
	}
	sign := int64(b)>>63 ^ neg
	m := int64(b&(1<<52-1) | 1<<52)
	m = m ^ sign - sign
	// The significand m (|m| < 2^53) has its last bit at q = e. Split
	// m·2^s into hi·2^32 + lo with 0 <= lo < 2^32 and |hi| <= 2^52.
	i, s := e/digitBits, e%digitBits
	a.d[i] += int64(uint32(m << s))
	a.d[i+1] += m >> (digitBits - s)
	a.used |= 1 << i
	a.n++
	if a.n >= carryLimit {
		a.carry()
	}
}

// addRare adds the values add leaves out: zeros, which change nothing,
// subnormals, and NaN and infinities, which are counted.
//
//go:noinline
func (a *Acc) addRare(b uint64, neg int64) {
	delta := 1 | neg
	switch {
	case b<<1 == 0:
	case b>>52&0x7FF == 0: // subnormal: as exponent field 1 without the leading 1
		a.add(b|1<<52, neg)
		a.add(b&(1<<63)|1<<52, ^neg)
	case b<<12 != 0:
		a.nan += delta
	case b>>63 == 0:
		a.pinf += delta
	default:
		a.ninf += delta
	}
}

// AddInt adds the integer i exactly, for every int64 including
// math.MinInt64.
func (a *Acc) AddInt(i int64) { a.addInt(i, 0) }

// SubInt subtracts the integer i exactly, undoing an earlier AddInt(i).
func (a *Acc) SubInt(i int64) { a.addInt(i, -1) }

// addInt adds i, negated when neg is -1 (neg is 0 or -1).
func (a *Acc) addInt(i, neg int64) {
	if i == 0 {
		return
	}
	sign := i >> 63
	u := uint64(i ^ sign - sign) // |i|, also for MinInt64
	sign ^= neg
	lo := int64(u << intShift & digitMask)
	hi := int64(u >> (digitBits - intShift)) // <= 2^50
	a.d[intDigit] += lo ^ sign - sign
	a.d[intDigit+1] += hi ^ sign - sign
	a.used |= 1 << intDigit
	a.n++
	if a.n >= carryLimit {
		a.carry()
	}
}

// Merge adds the sum held by b, NaN and infinity counts included. b is only
// read; a and b may be the same Acc (the sum doubles).
func (a *Acc) Merge(b *Acc) { a.merge(b, 0) }

// merge adds b's sum to a's, negated when neg is -1 (neg is 0 or -1).
func (a *Acc) merge(b *Acc, neg int64) {
	delta := 1 | neg
	a.nan += delta * b.nan
	a.pinf += delta * b.pinf
	a.ninf += delta * b.ninf
	lo, hi := b.span()
	for i := lo; i < hi; i++ {
		a.d[i] += b.d[i] ^ neg - neg
	}
	if lo < hi {
		a.used |= b.used
		a.n += b.n
		if a.n >= carryLimit {
			a.carry()
		}
	}
}

// span returns the range of digits that may be non-zero; lo >= hi when
// there is none.
func (a *Acc) span() (lo, hi int) {
	if a.used == 0 {
		return 0, 0
	}
	lo = bits.TrailingZeros64(a.used)
	hi = 65 - bits.LeadingZeros64(a.used) // one past digit j+1 for the top bit j
	if hi == 65 {
		hi = numDigits
	}
	return lo, hi
}

// setSpan sets used for digits [lo, hi), lo < hi.
func (a *Acc) setSpan(lo, hi int) {
	lo = min(lo, 63)
	top := min(max(hi-2, lo), 63)
	a.used = (1<<(top+1) - 1) &^ (1<<lo - 1)
}

// carry propagates carries, leaving the digits below the top one in
// [0, 2^32) and the top one in [-2^31, 2^31), and narrows the range to the
// non-zero digits. The value does not change.
func (a *Acc) carry() {
	lo, hi := a.span()
	var c int64
	for i := lo; i < hi-1; i++ {
		v := a.d[i] + c
		a.d[i] = v & digitMask
		c = v >> digitBits
	}
	if lo < hi {
		v := a.d[hi-1] + c
		for hi < numDigits && v != int64(int32(v)) {
			a.d[hi-1] = v & digitMask
			v >>= digitBits // + a.d[hi], which is 0
			hi++
		}
		a.d[hi-1] = v
	}
	for hi > lo && a.d[hi-1] == 0 {
		hi--
	}
	for hi-lo >= 2 && a.d[hi-1] == -1 && a.d[hi-2] >= 1<<31 {
		a.d[hi-2] -= 1 << digitBits
		a.d[hi-1] = 0
		hi--
	}
	for lo < hi && a.d[lo] == 0 {
		lo++
	}
	if lo >= hi {
		a.used, a.n = 0, 0
		return
	}
	a.setSpan(lo, hi)
	a.n = 1
}

// IsZero reports whether the sum is exactly zero, with no NaN or infinity
// counted. It is true after Add(x) and Sub(x) for any x, and for the sum of
// zeros of either sign.
func (a *Acc) IsZero() bool {
	if a.nan != 0 || a.pinf != 0 || a.ninf != 0 {
		return false
	}
	lo, hi := a.span()
	var c int64
	for i := lo; i < min(hi+1, numDigits); i++ {
		v := a.d[i] + c
		if v&digitMask != 0 {
			return false
		}
		c = v >> digitBits
	}
	return c == 0
}

// Equal reports whether a and b hold the same exact sum and the same counts
// of NaNs and infinities, however they got there. Equal sums have equal
// Float64, Float32 and MarshalBinary results.
func (a *Acc) Equal(b *Acc) bool {
	if a.nan != b.nan || a.pinf != b.pinf || a.ninf != b.ninf {
		return false
	}
	d := *a
	d.merge(b, -1)
	return d.IsZero()
}
