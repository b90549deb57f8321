package funcs

import (
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// negativeTimeCases are the date and time functions of int64 and
// timestamp arguments before 1970, as OpenMLDB's udf.cc and
// timestamp_ir_builder.cc compute them (in UTC+8, where -28800000 is
// 1970-01-01 00:00).
var negativeTimeCases = []evalCase{
	// [ir] DayofyearInt64UdfTest: dayofyear(-1) is NULL; the timestamp
	// overload calls the int64 one. last_day has the same check.
	{"dayofyear", []types.Value{vi(i64, -1)}, vnull(i32)},
	{"dayofyear", []types.Value{vts(-1)}, vnull(i32)},
	{"dayofyear", []types.Value{vi(i64, 0)}, vi(i32, 1)},
	{"last_day", []types.Value{vi(i64, -1)}, vnull(dt)},
	{"last_day", []types.Value{vts(-1)}, vnull(dt)},
	{"last_day", []types.Value{vts(0)}, vdate("1970-01-31")},
	// The others compute on gmtime((ts + TZ_OFFSET) / 1000), truncated
	// toward zero: -28800001 is 1970-01-01 00:00:00, -28801000
	// 1969-12-31 23:59:59 (a Wednesday, in ISO week 1 of 1970).
	{"year", []types.Value{vi(i64, -28800001)}, vi(i32, 1970)},
	{"year", []types.Value{vts(-28801000)}, vi(i32, 1969)},
	{"month", []types.Value{vi(i64, -28801000)}, vi(i32, 12)},
	{"dayofmonth", []types.Value{vi(i64, -28800001)}, vi(i32, 1)},
	{"dayofmonth", []types.Value{vi(i64, -28801000)}, vi(i32, 31)},
	{"dayofweek", []types.Value{vi(i64, -28800001)}, vi(i32, 5)},
	{"dayofweek", []types.Value{vts(-28801000)}, vi(i32, 4)},
	{"weekofyear", []types.Value{vi(i64, -28801000)}, vi(i32, 1)},
	{"date_format", []types.Value{vts(-28800001), vs("%F %T")}, vs("1970-01-01 00:00:00")},
	// weekofyear: boost::gregorian reads the year as an unsigned short
	// and makes no date before 1400 or after 9999 (0 then).
	{"weekofyear", []types.Value{vi(i64, -20000000000000)}, vi(i32, 0)},
	// hour: (ts + 8 h) % 24 h / 1 h; minute: ts % 1 h / 1 min; second:
	// ts % 1 min / 1 s, remainders and quotients truncating toward zero.
	{"hour", []types.Value{vi(i64, -1)}, vi(i32, 7)},
	{"hour", []types.Value{vi(i64, -28800001)}, vi(i32, 0)},
	{"hour", []types.Value{vts(-32400001)}, vi(i32, -1)},
	{"hour", []types.Value{vi(i64, -28800000-23*3600000)}, vi(i32, -23)},
	{"minute", []types.Value{vi(i64, -1)}, vi(i32, 0)},
	{"minute", []types.Value{vts(-60000)}, vi(i32, -1)},
	{"minute", []types.Value{vi(i64, -3599999)}, vi(i32, -59)},
	{"second", []types.Value{vi(i64, -1)}, vi(i32, 0)},
	{"second", []types.Value{vi(i64, -1000)}, vi(i32, -1)},
	{"second", []types.Value{vts(-59999)}, vi(i32, -59)},
	// ... and are the wall clock's from 1970 on.
	{"hour", []types.Value{vi(i64, 1590115420000)}, vi(i32, 10)},
	{"minute", []types.Value{vts(1590115420000)}, vi(i32, 43)},
	{"second", []types.Value{vts(1590115420999)}, vi(i32, 40)},
	// datediff reads strings as absl::ParseTime does: no 1900 bound.
	{"datediff", []types.Value{vs("1900-01-01"), vs("1899-12-31")}, vi(i32, 1)},
}

func TestNegativeTimes(t *testing.T) {
	t.Parallel()
	checkEval(t, negativeTimeCases)
}
