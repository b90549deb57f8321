package datafile

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
)

// Fast number formatting for the writer. Both functions produce exactly
// what strconv produces (the tests compare them on millions of values);
// they are faster for the common shapes of data: 13-digit timestamps,
// 16-digit ids, amounts with a few decimals.

// appendInt appends i in decimal, as strconv.AppendInt(dst, i, 10) does,
// converting eight digits at a time.
func appendInt(dst []byte, i int64) []byte {
	u := uint64(i)
	if i < 0 {
		dst = append(dst, '-')
		u = -u
	}
	switch {
	case u < 1e8:
		return appendUpTo8(dst, uint32(u))
	case u < 1e16:
		dst = appendUpTo8(dst, uint32(u/1e8))
		return binary.LittleEndian.AppendUint64(dst, encode8(uint32(u%1e8)))
	}
	dst = appendUpTo8(dst, uint32(u/1e16))
	u %= 1e16
	dst = binary.LittleEndian.AppendUint64(dst, encode8(uint32(u/1e8)))
	return binary.LittleEndian.AppendUint64(dst, encode8(uint32(u%1e8)))
}

// appendUpTo8 appends n < 1e8 without leading zeros.
func appendUpTo8(dst []byte, n uint32) []byte {
	switch {
	case n < 10:
		return append(dst, byte('0'+n))
	case n < 100:
		return append(dst, digitPairs[2*n], digitPairs[2*n+1])
	}
	v := encode8(n)
	zeros := bits.TrailingZeros64(v-0x3030303030303030) / 8 // leading '0's
	return appendPacked(dst, v>>(8*zeros), 8-zeros)
}

// appendFixed appends n < 10^k as exactly k digits (leading zeros kept),
// 1 ≤ k ≤ 15.
func appendFixed(dst []byte, n uint64, k int) []byte {
	switch {
	case k == 1:
		return append(dst, byte('0'+n))
	case k == 2:
		return append(dst, digitPairs[2*n], digitPairs[2*n+1])
	case k <= 8:
		return appendPacked(dst, encode8(uint32(n))>>(8*(8-k)), k)
	}
	dst = appendFixed(dst, n/1e8, k-8)
	return binary.LittleEndian.AppendUint64(dst, encode8(uint32(n%1e8)))
}

// appendPacked appends the first n ≤ 8 bytes packed in v (the first in
// the lowest byte): one 8-byte store, then the slice is cut.
func appendPacked(dst []byte, v uint64, n int) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, v)
	return dst[:len(dst)-8+n]
}

// digitPairs holds "00" to "99".
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"4041424344454647484950515253545556575859606162636465666768697071727374757677787980818283848586878889" +
	"90919293949596979899"

// encode8 returns the eight decimal digits of n < 1e8 as ASCII packed in
// a uint64, the first digit in the lowest byte. Each step splits every
// lane in two: n/10000 and n%10000 in 32-bit lanes, then /100 and %100 in
// 16-bit lanes, then /10 and %10 in bytes, dividing by multiplying with a
// reciprocal that is exact for the lane's range.
func encode8(n uint32) uint64 {
	v := uint64(n/10000) | uint64(n%10000)<<32
	q := (v * 10486 >> 20) & 0x0000007F0000007F // lane / 100, exact below 43699
	v = q | (v-q*100)<<16
	q = (v * 103 >> 10) & 0x000F000F000F000F // lane / 10, exact below 179
	v = q | (v-q*10)<<8
	return v + 0x3030303030303030
}

// pow10u holds 10^k for k ≤ 15.
var pow10u = [...]uint64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// appendShortDouble appends f as strconv.AppendFloat(dst, f, 'g', -1, 64)
// does, for the common case it can do quickly: 1e-3 ≤ |f| ≤ 1e5 (where
// 'g' prints without an exponent) and a shortest form of at most 15
// digits. Otherwise it returns false and appends nothing.
//
// The shortest form is the decimal with the fewest digits that parses back
// to f, the closest to f if several do. With |f| = M·2^-s, the numbers
// that parse back to f are those within half an ulp, 2^-s/2, of it
// (inclusive if M is even: ties round to even). A number with k decimals
// does if the one closest to f, m/10^k with m = round(M·10^k / 2^s), does;
// M·10^k is exact in 128 bits, so the test is exact integer arithmetic.
// That some k-decimal number parses back to f is monotone in k, so a
// binary search finds the fewest decimals, hence the fewest digits. The
// interval is symmetric only if M is not a power of two; those, and exact
// ties between two candidates, are left to strconv.
func appendShortDouble(dst []byte, f float64) ([]byte, bool) {
	a := math.Abs(f)
	if !(a >= 1e-3 && a <= 1e5) {
		return dst, false
	}
	b := math.Float64bits(a)
	if b&(1<<52-1) == 0 {
		return dst, false
	}
	mant := b&(1<<52-1) | 1<<52
	s := uint(1075 - b>>52) // |f| = mant·2^-s, 36 ≤ s ≤ 62 in this range
	k, c := 0, closest(mant, s, 0)
	for ; k < 4 && !c.found(); k++ { // most data has few decimals
		c = closest(mant, s, k+1)
	}
	if !c.found() { // the fewest decimals k that work (or need 16+ digits)
		lo, hi := k+1, len(pow10u)
		for lo < hi {
			if mid := (lo + hi) / 2; closest(mant, s, mid).found() {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		if lo == len(pow10u) {
			return dst, false
		}
		k, c = lo, closest(mant, s, lo)
	}
	if c.big || c.tie {
		return dst, false
	}
	if f < 0 {
		dst = append(dst, '-')
	}
	return appendDecimal(dst, c.m, k), true
}

// candidate is the k-decimal number m/10^k closest to a double.
type candidate struct {
	m      uint64
	within bool // it parses back to the double
	tie    bool // two candidates are equally close
	big    bool // m ≥ 2^53: 16 digits or more
}

// found reports whether the search for the fewest decimals stops here.
func (c candidate) found() bool { return c.within || c.big }

// closest returns the k-decimal candidate for mant·2^-s.
func closest(mant uint64, s uint, k int) candidate {
	hi, lo := bits.Mul64(mant, pow10u[k])
	if hi>>s != 0 {
		return candidate{big: true}
	}
	c := candidate{m: hi<<(64-s) | lo>>s}
	rem, half := lo&(1<<s-1), uint64(1)<<(s-1)
	dist := rem
	if rem > half {
		c.m++
		dist = 1<<s - rem
	}
	// |m·2^s - mant·10^k| = dist ≤ 10^k/2, in units of 2^-s·10^-k.
	c.within = 2*dist < pow10u[k] || (2*dist == pow10u[k] && mant%2 == 0)
	c.tie = rem == half
	c.big = c.m >= 1<<53
	return c
}

// appendDecimal appends m / 10^k with k decimals, k < 16.
func appendDecimal(dst []byte, m uint64, k int) []byte {
	if k == 0 {
		return appendInt(dst, int64(m))
	}
	q, r := divPow10(m, k)
	dst = appendInt(dst, int64(q))
	dst = append(dst, '.')
	return appendFixed(dst, r, k)
}

// divPow10 returns m / 10^k and m % 10^k, 1 ≤ k < 16, dividing by
// constants (which compiles to multiplications).
func divPow10(m uint64, k int) (uint64, uint64) {
	switch k {
	case 1:
		return m / 1e1, m % 1e1
	case 2:
		return m / 1e2, m % 1e2
	case 3:
		return m / 1e3, m % 1e3
	case 4:
		return m / 1e4, m % 1e4
	case 5:
		return m / 1e5, m % 1e5
	case 6:
		return m / 1e6, m % 1e6
	case 7:
		return m / 1e7, m % 1e7
	case 8:
		return m / 1e8, m % 1e8
	}
	return m / pow10u[k], m % pow10u[k] // rare: many decimals
}

// appendDouble appends f as strconv.AppendFloat(dst, f, 'g', -1, 64).
func appendDouble(dst []byte, f float64) []byte {
	if out, ok := appendShortDouble(dst, f); ok {
		return out
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}
