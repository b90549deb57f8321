package funcs

import (
	"strconv"
	"strings"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Date and time functions, in types.Zone() (OpenMLDB's UTC+8 unless --time-zone says otherwise). An int64 argument is a
// timestamp in milliseconds, as in OpenMLDB.
//
//	year month day(of)month dayofweek dayofyear week(ofyear)   (int64|timestamp|date) → int32
//	hour minute second                                         (int64|timestamp) → int32
//	last_day                                                   (int64|timestamp|date) → date
//	date_format(timestamp|date, format)                        → string (strftime-style)
//	datediff(a, b) with a, b date|timestamp|string             → int32: days from b to a
//	add_months(date, int16|int32|int64)                        → date: see addMonths
//	unix_timestamp(date|string)                                → int64: seconds since the epoch
//	                                                             of midnight or of the time
//	                                                             the string gives, in the zone
//
// dayofweek counts from Sunday = 1; week is the ISO 8601 week number.
//
// An int64 or timestamp argument is read as OpenMLDB's udf.cc reads it
// (wallClock), and a negative one (before 1970) is not refused: dayofyear
// and last_day give NULL for it, as OpenMLDB does, and the others compute
// what OpenMLDB computes (see wallClock and clockFunc).

func init() {
	calendar := func(f func(t time.Time) int) resolver {
		return timeFunc([]types.Type{types.Int64, types.Timestamp, types.Date}, types.Int32,
			func(t time.Time) types.Value { return intV(types.Int32, int64(f(t))) })
	}
	register("year", calendar(time.Time.Year))
	register("month", calendar(func(t time.Time) int { return int(t.Month()) }))
	register("dayofmonth", calendar(time.Time.Day), "day")
	register("dayofweek", calendar(func(t time.Time) int { return int(t.Weekday()) + 1 }))
	register("dayofyear", nullIfNegative(calendar(time.Time.YearDay)))
	register("weekofyear", calendar(isoWeek), "week")
	register("hour", clockFunc(func(ms int64) int64 { return wallMs(ms) % msPerDay / msPerHour }))
	register("minute", clockFunc(func(ms int64) int64 {
		return (ms + offsetMs(ms)%msPerHour) % msPerHour / msPerMinute
	}))
	register("second", clockFunc(func(ms int64) int64 {
		return (ms + offsetMs(ms)%msPerMinute) % msPerMinute / msPerSecond
	}))
	register("last_day", nullIfNegative(timeFunc([]types.Type{types.Int64, types.Timestamp, types.Date}, types.Date,
		func(t time.Time) types.Value {
			return types.DateValue(types.DaysOf(t.Year(), t.Month()+1, 0))
		})))
	dateFormat := &table{expected: "(timestamp|date, string)"}
	for _, t := range []types.Type{types.Timestamp, types.Date} {
		tm := timeOf(t)
		dateFormat.sigs = append(dateFormat.sigs, sig{[]types.Type{t, types.String}, types.String,
			fixed(func(v []types.Value) types.Value { return strV(strftime(tm(v[0]), v[1].S)) })})
	}
	register("date_format", dateFormat.resolve)
	register("datediff", resolveDateDiff)
	addMonthsFn := &table{expected: "(date, int16|int32|int64)"}
	for _, n := range []types.Type{types.Int16, types.Int32, types.Int64} {
		addMonthsFn.sigs = append(addMonthsFn.sigs, sig{[]types.Type{types.Date, n}, types.Date,
			fixed(func(v []types.Value) types.Value { return addMonths(v[0].I, v[1].I) })})
	}
	register("add_months", addMonthsFn.resolve)
	register("unix_timestamp", resolveUnixTimestamp)
}

// OpenMLDB's dates are years 1900 to 9999 (its Date type encodes no
// others): a date function whose input or result falls outside gives NULL.
const minYear, maxYear = 1900, 9999

// inDateRange reports whether days is a date of the years minYear to
// maxYear.
func inDateRange(days int64) bool {
	y, _, _ := types.DateOf(days)
	return y >= minYear && y <= maxYear
}

const (
	msPerSecond = 1000
	msPerMinute = 60 * msPerSecond
	msPerHour   = 60 * msPerMinute
	msPerDay    = 24 * msPerHour
)

// offsetMs returns the offset from UTC of Zone at the timestamp ms, in
// milliseconds.
func offsetMs(ms int64) int64 {
	_, off := time.UnixMilli(ms).In(types.Zone()).Zone()
	return int64(off) * msPerSecond
}

// wallMs returns the timestamp ms as milliseconds since 1970-01-01
// 00:00:00 of Zone's wall clock (OpenMLDB's ts + TZ_OFFSET).
func wallMs(ms int64) int64 { return ms + offsetMs(ms) }

// wallClock returns the wall-clock time in Zone of the timestamp ms as
// OpenMLDB's udf.cc computes it (gmtime of (ts + TZ_OFFSET) / 1000): whole
// seconds, truncated toward zero, so a time before 1970-01-01 00:00 of the
// wall clock with a fraction of a second is the next whole second. Its
// location is UTC: read only its fields.
func wallClock(ms int64) time.Time { return time.Unix(wallMs(ms)/msPerSecond, 0).UTC() }

// dateOfWallClock returns the date (days since 1970-01-01) of wallClock(ms).
func dateOfWallClock(ms int64) int64 { return types.DaysOf(wallClock(ms).Date()) }

// isoWeek is OpenMLDB's weekofyear: the ISO 8601 week number of the date
// boost::gregorian makes of t, whose year it reads as an unsigned short,
// or 0 when that date does not exist (a year outside 1400-9999 once so
// read).
func isoWeek(t time.Time) int {
	y, m, d := t.Date()
	y16 := int(uint16(y))
	if y16 < 1400 || y16 > 9999 || (m == time.February && d == 29 && !isLeap(y16)) {
		return 0
	}
	_, w := time.Date(y16, m, d, 0, 0, 0, 0, time.UTC).ISOWeek()
	return w
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// clockFunc is hour, minute or second of an int64 or a timestamp: f
// computes it with OpenMLDB's arithmetic (timestamp_ir_builder.cc), whose
// remainders and quotients truncate toward zero, so a time before
// 1970-01-01 00:00 of the wall clock has a negative (or zero) hour, and
// one before 1970-01-01 00:00 UTC a negative (or zero) minute and second:
// hour(-28800001) is 0, minute(-1) and second(-1) are 0, second(-1000)
// is -1.
func clockFunc(f func(ms int64) int64) resolver {
	tb := &table{expected: "(int64|timestamp)"}
	for _, t := range []types.Type{types.Int64, types.Timestamp} {
		tb.sigs = append(tb.sigs, sig{[]types.Type{t}, types.Int32, fixed(func(v []types.Value) types.Value {
			return intV(types.Int32, int64(int32(f(v[0].I))))
		})})
	}
	return tb.resolve
}

// nullIfNegative makes r's function give NULL for an int64 or timestamp
// argument before 1970 (a negative count of milliseconds), as OpenMLDB's
// dayofyear and last_day do.
func nullIfNegative(r resolver) resolver {
	return func(name string, args []types.Type) (*Overload, error) {
		o, err := r(name, args)
		if err != nil || args[0] != types.Int64 && args[0] != types.Timestamp {
			return o, err
		}
		impl, res := o.Impl, o.Result
		o.Impl = func(v []types.Value) types.Value {
			if v[0].I < 0 {
				return types.NullOf(res)
			}
			return impl(v)
		}
		return o, nil
	}
}

// addMonths is OpenMLDB's add_months (date_and_time_def.h AddMonths): the
// same day n months later (earlier when n < 0), or the last day of that
// month when it is shorter: add_months(2016-08-31, 1) is 2016-09-30 and
// add_months(2012-01-31, 1) is 2012-02-29. The reference's examples pass
// the date as a string literal ('2016-08-31'), which OpenMLDB does not
// accept (add_months is registered for (date, int16|int32|int64) only and
// its functions convert no argument implicitly); we follow the
// implementation. A result outside the years 1900-9999 is NULL (OpenMLDB
// makes an invalid date of it).
func addMonths(days, n int64) types.Value {
	y, m, d := types.DateOf(days)
	if y < minYear || y > maxYear || n < -12*maxYear || n > 12*maxYear {
		return types.NullOf(types.Date)
	}
	total := int64(y)*12 + int64(m-1) + n
	ry, rm := int(total/12), time.Month(total%12+1)
	if ry < minYear || ry > maxYear {
		return types.NullOf(types.Date)
	}
	last := time.Date(ry, rm+1, 0, 0, 0, 0, 0, time.UTC).Day()
	return types.DateValue(types.DaysOf(ry, rm, min(d, last)))
}

// resolveUnixTimestamp is OpenMLDB's unix_timestamp (udf.cc
// date_to_unix_timestamp, string_to_unix_timestamp): the timestamp of a
// date (its midnight) or of a string read as timestamp(string) reads it,
// in seconds, truncated toward zero; NULL for a string it cannot read or a
// year before 1900. The empty string gives the current time, so that
// overload is Volatile. A NULL argument gives NULL: the reference says
// NULL gives the current time too, but OpenMLDB registers both overloads
// with non-nullable arguments, so its engine returns NULL without calling
// the function; we follow the implementation.
func resolveUnixTimestamp(name string, args []types.Type) (*Overload, error) {
	if len(args) != 1 {
		return nil, errArity(name, "1", args)
	}
	switch args[0] {
	case types.Date, types.Null:
		return overload(name, args, types.Int64, func(v []types.Value) types.Value {
			if !inDateRange(v[0].I) {
				return types.NullOf(types.Int64)
			}
			return intV(types.Int64, types.TimestampOfDate(v[0].I)/1000)
		}), nil
	case types.String:
		o := overload(name, args, types.Int64, func(v []types.Value) types.Value {
			if v[0].S == "" {
				return intV(types.Int64, time.Now().Unix())
			}
			t, ok := parseLocal(v[0].S)
			if !ok || t.Year() < minYear {
				return types.NullOf(types.Int64)
			}
			return intV(types.Int64, t.UnixMilli()/1000)
		})
		o.Volatile = true
		return o, nil
	}
	return nil, errArgs(name, "(date|string)", args)
}

// timeOf returns the wall-clock time in Zone of a timestamp, date or int64
// (milliseconds) value: wallClock for a timestamp or an int64, midnight
// for a date. Read only its fields (its location is UTC for timestamps).
func timeOf(t types.Type) func(types.Value) time.Time {
	if t == types.Date {
		return func(v types.Value) time.Time {
			y, m, d := types.DateOf(v.I)
			return time.Date(y, m, d, 0, 0, 0, 0, types.Zone())
		}
	}
	return func(v types.Value) time.Time { return wallClock(v.I) }
}

// timeFunc is a function of one time argument of the given accepted types.
func timeFunc(accept []types.Type, res types.Type, f func(time.Time) types.Value) resolver {
	names := make([]string, len(accept))
	tb := &table{}
	for i, t := range accept {
		names[i] = t.String()
		tm := timeOf(t)
		tb.sigs = append(tb.sigs, sig{[]types.Type{t}, res, fixed(func(v []types.Value) types.Value { return f(tm(v[0])) })})
	}
	tb.expected = "(" + strings.Join(names, "|") + ")"
	return tb.resolve
}

func resolveDateDiff(name string, args []types.Type) (*Overload, error) {
	if len(args) != 2 {
		return nil, errArity(name, "2", args)
	}
	var days [2]func(types.Value) (int64, bool)
	for i, t := range args {
		switch t {
		case types.Date:
			days[i] = func(v types.Value) (int64, bool) { return v.I, true }
		case types.Timestamp:
			days[i] = func(v types.Value) (int64, bool) { return dateOfWallClock(v.I), true }
		case types.String:
			// OpenMLDB's date_diff reads strings with absl::ParseTime:
			// no year bound, unlike date(string).
			days[i] = func(v types.Value) (int64, bool) {
				t, ok := parseAnyDate(v.S)
				return types.DaysOf(t.Date()), ok
			}
		case types.Null:
			days[i] = func(types.Value) (int64, bool) { return 0, false }
		default:
			return nil, errArgs(name, "(date|timestamp|string, date|timestamp|string)", args)
		}
	}
	return overload(name, args, types.Int32, func(v []types.Value) types.Value {
		a, ok1 := days[0](v[0])
		b, ok2 := days[1](v[1])
		if !ok1 || !ok2 {
			return types.NullOf(types.Int32)
		}
		return intV(types.Int32, wrapInt(types.Int32, a-b))
	}), nil
}

// strftime formats t with the C strftime conversions OpenMLDB's
// date_format supports; unknown conversions are copied as written.
func strftime(t time.Time, format string) string {
	var b strings.Builder
	two := func(n int) { b.WriteString(pad(n, 2)) }
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		switch format[i] {
		case 'Y':
			b.WriteString(pad(t.Year(), 4))
		case 'y':
			two(t.Year() % 100)
		case 'm':
			two(int(t.Month()))
		case 'd':
			two(t.Day())
		case 'e':
			b.WriteString(strconv.Itoa(t.Day()))
		case 'H':
			two(t.Hour())
		case 'I':
			two((t.Hour()+11)%12 + 1)
		case 'M':
			two(t.Minute())
		case 'S':
			two(t.Second())
		case 'p':
			b.WriteString(t.Format("PM"))
		case 'j':
			b.WriteString(pad(t.YearDay(), 3))
		case 'a':
			b.WriteString(t.Format("Mon"))
		case 'A':
			b.WriteString(t.Format("Monday"))
		case 'b', 'h':
			b.WriteString(t.Format("Jan"))
		case 'B':
			b.WriteString(t.Format("January"))
		case 'F':
			b.WriteString(t.Format("2006-01-02"))
		case 'T':
			b.WriteString(t.Format("15:04:05"))
		case 'D':
			b.WriteString(t.Format("01/02/06"))
		case 'R':
			b.WriteString(t.Format("15:04"))
		case 'u':
			b.WriteString(strconv.Itoa((int(t.Weekday())+6)%7 + 1))
		case 'w':
			b.WriteString(strconv.Itoa(int(t.Weekday())))
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	return b.String()
}

func pad(n, width int) string {
	s := strconv.Itoa(n)
	for len(s) < width {
		s = "0" + s
	}
	return s
}
