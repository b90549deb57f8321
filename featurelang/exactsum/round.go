package exactsum

import (
	"math"
	"math/bits"
)

// Float64 returns the sum correctly rounded to float64 (to nearest, ties to
// even, subnormals included). It returns
//
//   - NaN if a NaN is counted (added more or fewer times than subtracted),
//     or infinities of both signs are;
//   - ±Inf if infinities of one sign are (a +Inf subtracted more often than
//     added counts as a -Inf), or if the exact sum rounds beyond
//     math.MaxFloat64;
//   - +0 if the exact sum is zero, even a sum of -0s;
//   - otherwise the float64 nearest to the exact sum.
//
// It does not change the Acc.
func (a *Acc) Float64() float64 {
	if a.nan|a.pinf|a.ninf != 0 {
		return a.special()
	}
	b, neg := a.round(52, 1023)
	if neg {
		b |= 1 << 63
	}
	return math.Float64frombits(b)
}

// Float32 is Float64 for float32. The exact sum is rounded once, directly to
// float32, so the result is not always float32(a.Float64()), which rounds
// twice. A negative sum too small for a float32 subnormal gives -0.
func (a *Acc) Float32() float32 {
	if a.nan|a.pinf|a.ninf != 0 {
		return float32(a.special())
	}
	b, neg := a.round(23, 127)
	if neg {
		b |= 1 << 31
	}
	return math.Float32frombits(uint32(b))
}

// special returns the result forced by the counts of NaNs and infinities,
// or 0 when they are all zero.
func (a *Acc) special() float64 {
	pos := a.pinf > 0 || a.ninf < 0
	neg := a.ninf > 0 || a.pinf < 0
	switch {
	case a.nan != 0 || pos && neg:
		return math.NaN()
	case pos:
		return math.Inf(1)
	case neg:
		return math.Inf(-1)
	}
	return 0
}

// round returns the magnitude of the sum rounded to the binary format with
// mbits stored significand bits and exponent bias ebias, as the format's
// bits without the sign, and the sign.
func (a *Acc) round(mbits, ebias int) (b uint64, neg bool) {
	lo, hi := a.span()
	if hi-lo <= 4 && lo <= numDigits-4 {
		return a.roundNarrow(lo, mbits, ebias)
	}
	return a.roundWide(lo, hi, mbits, ebias)
}

// roundNarrow is round for a sum whose digits from lo+4 up are zero, as
// sums of values of similar magnitude are. It carries through the four
// digits in registers.
func (a *Acc) roundNarrow(lo, mbits, ebias int) (b uint64, neg bool) {
	// |sum| = (x2·2^128 + x1·2^64 + x0)·2^(32lo-bias), in two's complement
	// first, with the sign in x2.
	v := a.d[lo]
	x0 := uint64(uint32(v))
	v = a.d[lo+1] + v>>digitBits
	x0 |= uint64(v) << 32
	v = a.d[lo+2] + v>>digitBits
	x1 := uint64(uint32(v))
	v = a.d[lo+3] + v>>digitBits
	x1 |= uint64(v) << 32
	x2 := v >> digitBits // |x2| <= 2^31
	if x2 < 0 {
		neg = true
		var borrow uint64
		x0, borrow = bits.Sub64(0, x0, 0)
		x1, borrow = bits.Sub64(0, x1, borrow)
		x2 = -x2 - int64(borrow)
	}
	// m holds the 64 leading bits and rest those below that are in x1 and
	// x0; p is the position of m's bit 63 in x2:x1:x0.
	var m, rest uint64
	var p int
	switch {
	case x2 != 0:
		lz := uint(bits.LeadingZeros64(uint64(x2))) // >= 32
		m = uint64(x2)<<lz | x1>>(64-lz)
		rest = x1<<lz | x0
		p = 191 - int(lz)
	case x1 != 0:
		lz := uint(bits.LeadingZeros64(x1))
		m = x1<<lz | x0>>(64-lz)
		rest = x0 << lz
		p = 127 - int(lz)
	case x0 != 0:
		lz := uint(bits.LeadingZeros64(x0))
		m = x0 << lz
		p = 63 - int(lz)
	default:
		return 0, false
	}
	return roundBits(m, p+digitBits*lo-bias, rest != 0, mbits, ebias), neg
}

// roundWide is round for any sum, with digits lo to hi-1.
func (a *Acc) roundWide(lo, hi, mbits, ebias int) (b uint64, neg bool) {
	var buf [numDigits + 2]uint32
	neg, j, ok := a.magnitude(buf[:], lo, min(hi+1, numDigits))
	if !ok {
		return roundBits(1<<63, maxExp, false, mbits, ebias), neg
	}
	if j < 2 {
		return 0, false
	}
	// The 64 leading bits are in buf[j], buf[j-1] and buf[j-2]; the rest
	// only count as a sticky bit.
	d2, d1, d0 := buf[j], buf[j-1], buf[j-2]
	lz := uint(bits.LeadingZeros32(d2))
	m := (uint64(d2)<<32|uint64(d1))<<lz | uint64(d0)>>(32-lz)
	below := d0 << lz
	for _, d := range buf[2:max(j-2, 2)] {
		below |= d
	}
	p := digitBits*(lo+j-2) + 31 - int(lz) - bias // m's bit 63 weighs 2^p
	return roundBits(m, p, below != 0, mbits, ebias), neg
}

// magnitude writes digits lo to end-1 of |sum| into buf[2:], and returns the
// sign and the index in buf of the top non-zero digit (< 2 if the sum is
// zero). The two elements below buf[2] are left zero, and the digits from
// end up are zero. ok is false if |sum| >= 2^maxExp.
func (a *Acc) magnitude(buf []uint32, lo, end int) (neg bool, j int, ok bool) {
	digits := buf[2 : 2+end-lo]
	var c int64
	for k := range digits {
		v := a.d[lo+k] + c
		digits[k] = uint32(v)
		c = v >> digitBits
	}
	if c != 0 && c != -1 {
		return c < 0, 0, false
	}
	if c < 0 { // the digits are |sum|'s two's complement
		neg = true
		carry := uint64(1)
		for k, d := range digits {
			v := uint64(^d) + carry
			digits[k] = uint32(v)
			carry = v >> digitBits
		}
		if carry != 0 { // sum = -2^maxExp
			return true, 0, false
		}
	}
	j = len(digits) + 1
	for j >= 2 && buf[j] == 0 {
		j--
	}
	return neg, j, true
}

// roundBits rounds the positive value (m + ε)·2^(p-63), with bit 63 of m set
// and 0 < ε < 1 if sticky (else ε = 0), to nearest, ties to even, in the
// binary format with mbits stored significand bits and exponent bias
// ebias. It returns the format's bits without the sign: Inf bits when the
// result overflows, and 0 when it underflows.
func roundBits(m uint64, p int, sticky bool, mbits, ebias int) uint64 {
	if uint(p+ebias-1) >= uint(2*ebias-1) { // not normal
		return roundRare(m, p, sticky, mbits, ebias)
	}
	mant := m >> uint(63-mbits)
	rest := m << uint(mbits+1) // the bits dropped, left-aligned
	if rest > 1<<63 || rest == 1<<63 && (sticky || mant&1 != 0) {
		mant++ // may carry into the exponent field, up to Inf
	}
	return uint64(p+ebias-1)<<mbits + mant
}

// roundRare is roundBits for results that are subnormal, zero or infinite.
func roundRare(m uint64, p int, sticky bool, mbits, ebias int) uint64 {
	inf := uint64(2*ebias+1) << mbits
	if p > ebias {
		return inf
	}
	keep := mbits + 1 // significand bits to keep: fewer for a subnormal
	if emin := 1 - ebias; p < emin {
		keep -= emin - p
		if keep < 0 {
			return 0 // below half the smallest subnormal
		}
	}
	mant := m >> uint(64-keep)
	rest := m << uint(keep) // the bits dropped, left-aligned
	if rest > 1<<63 || rest == 1<<63 && (sticky || mant&1 != 0) {
		mant++
	}
	// For a normal result, mant has its leading bit set, which adds one to
	// the exponent field; rounding up to a power of two carries into it.
	// For a subnormal result the exponent field is 0 and a subnormal
	// rounding up to the smallest normal number carries into it too.
	return min(uint64(max(p+ebias-1, 0))<<mbits+mant, inf)
}
