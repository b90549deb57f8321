package funcs

import (
	"math"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// TestParseIntegral runs the cases of OpenMLDB's udf_test.cc CastI64
// (StrToIntegral) and edges of the strtoll it calls.
func TestParseIntegral(t *testing.T) {
	t.Parallel()
	type tc struct {
		s    string
		want int64
		ok   bool
	}
	ok := func(s string, want int64) tc { return tc{s, want, true} }
	bad := func(s string) tc { return tc{s: s} }
	cases := []tc{
		// udf_test.cc GetCastCases
		ok("12", 12), ok("012", 12), ok("0", 0), ok(" 9", 9), ok(" +100 ", 100),
		ok("-999\t", -999), ok("+0", 0), ok("-0", 0), ok("-1", -1), ok("-88", -88),
		ok("0x12", 18), ok("+0X2a", 42), ok("-0X2b", -43), ok("\t -0X2b", -43),
		ok("9223372036854775807", math.MaxInt64), ok("0x7FFFFFFFFFFFFFFF", math.MaxInt64),
		ok("-9223372036854775808", math.MinInt64),
		bad(""), bad("-"), bad("+"), bad("8g"), bad("0x12k"), bad("8l"), bad("8 l"),
		bad("gg"), bad("80x99"), bad("89223372036854775807"), bad("-19223372036854775807"),
		// [own] hexadecimal at the int64 bounds (strtoll's ERANGE past
		// them), 0x without digits, signs or blanks inside, digit
		// separators and exponents (which strtoll does not read), ASCII
		// whitespace around but no other (absl::StripAsciiWhitespace).
		ok("-0x8000000000000000", math.MinInt64), bad("0x8000000000000000"),
		bad("-0x8000000000000001"), bad("0x"), bad("-0x"), bad("0x-5"), bad("0x+5"),
		bad("--5"), bad("+-5"), bad("- 5"), bad("1_000"), bad("0x1_0"), bad("1e3"),
		bad("00x"), ok("0X00ff", 255), ok("\v\f\r\n7\n", 7), bad("\u00a07"),
	}
	for _, c := range cases {
		got, ok := parseIntegral(c.s)
		if ok != c.ok || got != c.want {
			t.Errorf("parseIntegral(%q) = %d, %v; want %d, %v", c.s, got, ok, c.want, c.ok)
		}
	}
}

// castCases are CAST(string AS integer), date and timestamp conversions
// at OpenMLDB's bounds.
var castCases = []evalCase{
	// [ref] int16, int32 "refer int64 for supported format": hexadecimal,
	// then NULL outside the type's range (udf.cc string_to_int,
	// string_to_smallint).
	{"int32", []types.Value{vs("0x12")}, vi(i32, 18)},
	{"int32", []types.Value{vs("0x7fffffff")}, vi(i32, math.MaxInt32)},
	{"int32", []types.Value{vs("-0x80000000")}, vi(i32, math.MinInt32)},
	{"int32", []types.Value{vs("0x80000000")}, vnull(i32)},
	{"int16", []types.Value{vs(" -0X8000 ")}, vi(i16, math.MinInt16)},
	{"int16", []types.Value{vs("0x8000")}, vnull(i16)},
	{"int64", []types.Value{vs("-0X2b")}, vi(i64, -43)},
	// [ir] StringToDateTest2, StringToTimestampTest2, DateToTimestampTestNull0:
	// before 1900 is NULL, in every layout.
	{"date", []types.Value{vs("1899-05-20")}, vnull(dt)},
	{"date", []types.Value{vs("18990520")}, vnull(dt)},
	{"date", []types.Value{vs("1899-05-20 10:00:00")}, vnull(dt)},
	{"date", []types.Value{vs("1900-01-01")}, types.DateValue(types.DaysOf(1900, 1, 1))},
	{"timestamp", []types.Value{vs("1899-12-31 23:59:59")}, vnull(ts)},
	{"timestamp", []types.Value{types.DateValue(types.DaysOf(1899, 5, 20))}, vnull(ts)},
	{"timestamp", []types.Value{types.DateValue(types.DaysOf(10000, 1, 1))}, vnull(ts)},
	// [impl] from 1900 to 1970 a timestamp is negative (string_to_timestamp
	// and date_to_timestamp check tm_year < 0 only).
	{"timestamp", []types.Value{vs("1900-01-01 00:00:00")}, vts(ts8(1900, 1, 1, 0, 0, 0))},
	{"timestamp", []types.Value{vs("1960-01-01")}, vts(-315648000000)},
	{"timestamp", []types.Value{vdate("1960-01-01")}, vts(-315648000000)},
	// [impl] a timestamp's local time and date are gmtime((ts + TZ_OFFSET) /
	// 1000), truncated toward zero: 1 ms before 1970-01-01 00:00 in UTC+8
	// is 00:00:00, 1 s before it 1969-12-31 23:59:59.
	{"string", []types.Value{vts(-28800001)}, vs("1970-01-01 00:00:00")},
	{"string", []types.Value{vts(-28801000)}, vs("1969-12-31 23:59:59")},
	{"string", []types.Value{vts(-1)}, vs("1970-01-01 07:59:59")},
	{"date", []types.Value{vts(-28800001)}, vdate("1970-01-01")},
	{"date", []types.Value{vts(-28801000)}, vdate("1969-12-31")},
}

func TestCastBounds(t *testing.T) {
	t.Parallel()
	checkEval(t, castCases)
}
