package datafile

import (
	"encoding/binary"
	"errors"
	"math"
	"strconv"
	"unsafe"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// numStatus is the outcome of parsing a number.
type numStatus uint8

const (
	numOK     numStatus = iota
	numSyntax           // not a number of the wanted form
	numRange            // a number, out of the column's range
)

// parseInt parses an optionally signed decimal integer ("+7", "-007") of
// at most 64 bits, without allocating.
func parseInt(b []byte) (int64, numStatus) {
	if len(b) == 0 {
		return 0, numSyntax
	}
	neg := b[0] == '-'
	if b[0] == '-' || b[0] == '+' {
		b = b[1:]
		if len(b) == 0 {
			return 0, numSyntax
		}
	}
	for len(b) > 1 && b[0] == '0' {
		b = b[1:]
	}
	u, ok := parseDigits(b)
	switch {
	case !ok:
		return 0, numSyntax
	case len(b) > 19, neg && u > 1<<63, !neg && u > math.MaxInt64:
		return 0, numRange
	case neg:
		return -int64(u), numOK
	}
	return int64(u), numOK
}

// parseDigits returns the value of the decimal digits b (wrapping beyond
// 19 digits) and whether b is only digits. It converts eight digits at a
// time.
func parseDigits(b []byte) (uint64, bool) {
	var u uint64
	for len(b) >= 8 {
		v, ok := eightDigits(binary.LittleEndian.Uint64(b))
		if !ok {
			return 0, false
		}
		u = u*1e8 + v
		b = b[8:]
	}
	for _, c := range b {
		d := c - '0'
		if d > 9 {
			return 0, false
		}
		u = u*10 + uint64(d)
	}
	return u, true
}

// eightDigits returns the value of the eight ASCII digits packed in v
// (the first in the lowest byte), and whether they all are digits.
func eightDigits(v uint64) (uint64, bool) {
	const hi, zeros, six = 0xF0F0F0F0F0F0F0F0, 0x3030303030303030, 0x0606060606060606
	// Every byte is 0x30-0x3F, and adding 6 (no carry then) keeps it there.
	if v&hi != zeros || (v+six)&hi != zeros {
		return 0, false
	}
	v -= zeros
	v = (v*10 + v>>8) & 0x00FF00FF00FF00FF      // 4 pairs of digits
	v = (v*100 + v>>16) & 0x0000FFFF0000FFFF    // 2 groups of 4
	return (v*10000 + v>>32) & 0xFFFFFFFF, true // 8 digits
}

// parseIntOf parses an integer of the integer type t: syntax as parseInt,
// and the value must fit t's width.
func parseIntOf(t types.Type, b []byte) (int64, numStatus) {
	i, st := parseInt(b)
	if st == numOK && types.Wrap(t, i) != i {
		return 0, numRange
	}
	return i, st
}

// parseFloat parses b with strconv.ParseFloat at the width of t (float or
// double); a float result is exactly a float32. A finite number beyond the
// width's range is numRange.
func parseFloat(t types.Type, b []byte) (float64, numStatus) {
	if len(b) == 0 {
		return 0, numSyntax
	}
	bits := 64
	if t == types.Float {
		bits = 32
	} else if f, ok := shortDecimal(b); ok {
		return f, numOK
	}
	// ParseFloat does not retain its argument (its errors hold a copy), so
	// the string may share b's bytes for the duration of the call.
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), bits)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, numRange
	case err != nil:
		return 0, numSyntax
	case bits == 32:
		return float64(float32(f)), numOK
	}
	return f, numOK
}

// float64pow10 holds the powers of ten a float64 represents exactly.
var float64pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// shortDecimal is ParseFloat's result for the common "-123.45": an
// optional sign, at most 15 digits and an optional point. Such a number is
// m / 10^k with m and 10^k exact float64s, so one IEEE division rounds it
// correctly (Clinger's fast path, as strconv takes it). ok is false for
// every other form.
func shortDecimal(b []byte) (float64, bool) {
	neg := b[0] == '-'
	if neg || b[0] == '+' {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var m uint64
	point, digits := -1, 0
	for i, c := range b {
		switch {
		case c-'0' <= 9:
			m = m*10 + uint64(c-'0')
			digits++
		case c == '.' && point < 0:
			point = i
		default:
			return 0, false
		}
	}
	if digits == 0 || digits > 15 {
		return 0, false
	}
	f := float64(m)
	if point >= 0 {
		f /= float64pow10[len(b)-1-point]
	}
	if neg {
		f = -f
	}
	return f, true
}

// parseBool accepts true and false in any case, 1 and 0.
func parseBool(b []byte) (bool, bool) {
	switch len(b) {
	case 1:
		return b[0] == '1', b[0] == '1' || b[0] == '0'
	case 4:
		return true, lowerIs(b, "true")
	case 5:
		return false, lowerIs(b, "false")
	}
	return false, false
}

// lowerIs reports whether b, ASCII letters lower-cased, is s (lower case).
func lowerIs(b []byte, s string) bool {
	for i, c := range b {
		if c|0x20 != s[i] {
			return false
		}
	}
	return true
}

// Calendar arithmetic on the proleptic Gregorian calendar, valid for every
// int64 day number (Howard Hinnant's days_from_civil and civil_from_days).

const (
	daysPer400Years = 146097
	epochShift      = 719468 // days from 0000-03-01 to 1970-01-01
	msPerDay        = 86400 * 1000
)

// civil returns the date of days since 1970-01-01.
func civil(days int64) (year int64, month, day int) {
	era := days / daysPer400Years
	doe := days%daysPer400Years + epochShift // > 0: epochShift > daysPer400Years
	era += doe / daysPer400Years
	doe %= daysPer400Years
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day = int(doy - (153*mp+2)/5 + 1)
	month = int(mp + 3)
	if month > 12 {
		month -= 12
	}
	year = yoe + era*400
	if month <= 2 {
		year++
	}
	return year, month, day
}

// daysFrom returns the days since 1970-01-01 of a valid date. It may
// overflow for years beyond ±2.5e16; callers check with civil.
func daysFrom(year int64, month, day int) int64 {
	if month <= 2 {
		year--
	}
	era := year / 400
	if year < 0 && year%400 != 0 {
		era--
	}
	yoe := year - era*400
	m := int64(month)
	if m > 2 {
		m -= 3
	} else {
		m += 9
	}
	doy := (153*m+2)/5 + int64(day) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*daysPer400Years + doe - epochShift
}

// daysIn returns the number of days of month in year.
func daysIn(year int64, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// digits2 parses two ASCII digits.
func digits2(b []byte) (int, bool) {
	d0, d1 := b[0]-'0', b[1]-'0'
	return int(d0)*10 + int(d1), d0 <= 9 && d1 <= 9
}

// parseDate parses YYYY-MM-DD, where the year may also be longer than four
// digits and negative (as appendDate writes years outside 0000-9999).
func parseDate(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	n := len(b) - 6 // year digits
	if n < 4 || n > 17 || b[n] != '-' || b[n+3] != '-' {
		return 0, false
	}
	var year int64
	for _, c := range b[:n] {
		if c-'0' > 9 {
			return 0, false
		}
		year = year*10 + int64(c-'0')
	}
	if neg {
		year = -year
	}
	month, ok1 := digits2(b[n+1:])
	day, ok2 := digits2(b[n+4:])
	if !ok1 || !ok2 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return 0, false
	}
	days := daysFrom(year, month, day)
	if n > 4 || neg { // far years: make sure the day number did not overflow
		if y, m, d := civil(days); y != year || m != month || d != day {
			return 0, false
		}
	}
	return days, true
}

// appendDate appends days as YYYY-MM-DD, exactly as types.FormatDate
// renders it (a year outside 0000-9999 in full, a negative one with a
// minus sign and at least four digits).
func appendDate(dst []byte, days int64) []byte {
	year, month, day := civil(days)
	if year < 0 {
		dst = append(dst, '-')
		year = -year
	}
	for w := int64(1000); w > 1 && year < w; w /= 10 {
		dst = append(dst, '0')
	}
	dst = strconv.AppendInt(dst, year, 10)
	return append(dst, '-', byte('0'+month/10), byte('0'+month%10), '-', byte('0'+day/10), byte('0'+day%10))
}

// parseTimestamp reads a timestamp: epoch milliseconds, or text as
// parseTimestampText reads it.
func parseTimestamp(b []byte) (int64, numStatus) {
	ms, st := parseInt(b)
	if st == numSyntax {
		var ok bool
		if ms, ok = parseTimestampText(b); ok {
			st = numOK
		}
	}
	return ms, st
}

// parseTimestampText reads YYYY-MM-DD (midnight), or YYYY-MM-DD HH:MM:SS
// (a T may replace the space) with an optional fraction of up to nine
// digits (the ones after milliseconds must be zeros) and an optional
// offset: Z, ±HH, ±HHMM or ±HH:MM. Without an offset the time is in
// types.Zone().
func parseTimestampText(b []byte) (int64, bool) {
	if len(b) < 10 || b[0] == '-' {
		return 0, false
	}
	days, ok := parseDate(b[:10])
	if !ok {
		return 0, false
	}
	ms := days * msPerDay
	rest := b[10:]
	if len(rest) == 0 {
		return types.UTCOfLocal(ms), true
	}
	if len(rest) < 9 || (rest[0] != ' ' && rest[0] != 'T' && rest[0] != 't') || rest[3] != ':' || rest[6] != ':' {
		return 0, false
	}
	h, ok1 := digits2(rest[1:])
	m, ok2 := digits2(rest[4:])
	s, ok3 := digits2(rest[7:])
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || s > 59 {
		return 0, false
	}
	ms += int64(h)*3600000 + int64(m)*60000 + int64(s)*1000
	frac, rest, ok := parseFraction(rest[9:])
	if !ok {
		return 0, false
	}
	if len(rest) == 0 {
		return types.UTCOfLocal(ms + frac), true
	}
	off, ok := parseOffset(rest)
	return ms + frac - off, ok
}

// parseFraction reads an optional ".ddd" (1 to 9 digits, the ones after
// the third zeros) and returns it in milliseconds with the rest of b.
func parseFraction(b []byte) (int64, []byte, bool) {
	if len(b) == 0 || b[0] != '.' {
		return 0, b, true
	}
	n := 1
	for n < len(b) && b[n]-'0' <= 9 {
		n++
	}
	if n == 1 || n > 10 {
		return 0, b, false
	}
	var ms int64
	for i := 1; i <= 3; i++ {
		ms *= 10
		if i < n {
			ms += int64(b[i] - '0')
		}
	}
	for i := 4; i < n; i++ {
		if b[i] != '0' {
			return 0, b, false
		}
	}
	return ms, b[n:], true
}

// parseOffset reads a UTC offset (Z, ±HH, ±HHMM, ±HH:MM) and returns it
// in milliseconds.
func parseOffset(b []byte) (int64, bool) {
	switch {
	case len(b) == 0:
		return 0, false
	case len(b) == 1 && (b[0] == 'Z' || b[0] == 'z'):
		return 0, true
	case len(b) < 3 || (b[0] != '+' && b[0] != '-'):
		return 0, false
	}
	h, okh := digits2(b[1:])
	m, okm := 0, true
	switch {
	case len(b) == 3:
	case len(b) == 5:
		m, okm = digits2(b[3:])
	case len(b) == 6 && b[3] == ':':
		m, okm = digits2(b[4:])
	default:
		return 0, false
	}
	if !okh || !okm || h > 23 || m > 59 {
		return 0, false
	}
	off := int64(h)*3600000 + int64(m)*60000
	if b[0] == '-' {
		off = -off
	}
	return off, true
}
