package funcs

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Casts, as CAST(x AS t) and the type-named functions int(x), string(x), ...
//
// Accepted: every pair of the nine column types except number (or bool) →
// date; NULL to anything; arrays and maps to arrays and maps whose elements
// cast. Conversions (NULL in, NULL out):
//
//	from \ to   bool        integers           float/double   string        timestamp      date
//	bool        =           0/1                0/1            true/false    0/1            rejected
//	integers    x != 0      wrap to width      rounded        decimal       x (<0: NULL)   rejected
//	float/dbl   x != 0      truncate, x86 rule rounded        shortest      trunc (<0: NULL) rejected
//	string      t/f/y/n...  parse or NULL      parse or NULL  =             parse or NULL  parse or NULL
//	timestamp   ms != 0     ms, wrapped        ms             local time    =              local date
//	date        NULL        NULL               NULL           yyyy-mm-dd    local midnight =
//
// "local" is types.Zone() (UTC+8 by default). A string read as an integer
// is decimal, or hexadecimal after 0x (parseIntegral). A string read as a
// timestamp or a date is NULL before 1900, and so is a date outside the
// years 1900-9999 converted to a timestamp, as in OpenMLDB (whose dates
// start at 1900-01-01); a timestamp's local time and date are OpenMLDB's
// (wallClock).
//
// Float → integer conversion of NaN or an out-of-range value follows x86's
// cvttsd2si (the platform OpenMLDB runs on): the result is the minimum of
// the 32-bit (int16, int32) or 64-bit (int64) range, then wrapped to the
// width.

func init() {
	conv := func(to types.Type) resolver {
		return func(name string, args []types.Type) (*Overload, error) {
			if len(args) != 1 {
				return nil, errArity(name, "1", args)
			}
			impl, err := cast(args[0], to)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if k := castInt(args[0], to); k != nil {
				return intOverload1(name, args, to, k), nil
			}
			return overload(name, args, to, impl), nil
		}
	}
	register("bool", conv(types.Bool), "boolean")
	register("int16", conv(types.Int16), "smallint")
	register("int32", conv(types.Int32), "int", "integer")
	register("int64", conv(types.Int64), "bigint")
	register("float", conv(types.Float))
	register("double", conv(types.Double))
	register("string", conv(types.String), "varchar")
	register("timestamp", conv(types.Timestamp))
	register("date", conv(types.Date))
}

var errCast = errors.New("cannot cast")

func cast(from, to types.Type) (Impl, error) {
	c, err := conversion(from, to)
	if err != nil {
		return nil, err
	}
	return func(v []types.Value) types.Value { return c(v[0]) }, nil
}

// castInt returns cast(from, to) on integer payloads (an Int1), or nil:
// the identity, and integers, bools and timestamps to integers (wrapped to
// the width).
func castInt(from, to types.Type) func(x int64) (int64, bool) {
	switch {
	case from == to && storedInI(from):
		return func(x int64) (int64, bool) { return x, true }
	case to.IsInteger() && (from == types.Bool || from.IsInteger() || from == types.Timestamp):
		return func(x int64) (int64, bool) { return wrapInt(to, x), true }
	}
	return nil
}

// conversion returns the conversion of non-NULL values of type from to
// type to, or an error when CAST rejects the pair.
func conversion(from, to types.Type) (func(types.Value) types.Value, error) {
	switch {
	case !validType(from) || !validType(to) || to == types.Null:
		return nil, fmt.Errorf("%w %s to %s", errCast, from, to)
	case from == to:
		return func(v types.Value) types.Value { return v }, nil
	case from == types.Null:
		return func(types.Value) types.Value { return types.NullOf(to) }, nil
	case from.Kind() == types.KindArray || from.Kind() == types.KindMap:
		return castContainer(from, to)
	case !isBase(to) || (to == types.Date && isNumber(from)):
		return nil, fmt.Errorf("%w %s to %s", errCast, from, to)
	}
	return converter(from, to), nil
}

// converter returns the conversion of non-NULL values of from to to, for
// the scalar pairs cast accepts.
func converter(from, to types.Type) func(types.Value) types.Value {
	if from == types.Date && isNumber(to) {
		return func(types.Value) types.Value { return types.NullOf(to) }
	}
	switch to {
	case types.Bool:
		if from == types.String {
			return func(v types.Value) types.Value { return parseBool(v.S) }
		}
		t := truth(from)
		return func(v types.Value) types.Value { return boolV(t(v)) }
	case types.Int16, types.Int32, types.Int64:
		return toInteger(from, to)
	case types.Float, types.Double:
		return toFloat(from, to)
	case types.String:
		s := stringer(from)
		return func(v types.Value) types.Value { return strV(s(v)) }
	case types.Timestamp:
		return toTimestamp(from)
	case types.Date:
		switch from {
		case types.Timestamp:
			return func(v types.Value) types.Value { return types.DateValue(dateOfWallClock(v.I)) }
		case types.String:
			return func(v types.Value) types.Value { return parseDate(v.S) }
		}
	}
	return func(types.Value) types.Value { return types.NullOf(to) }
}

// truth returns how a value of t counts as a boolean in AND, OR, XOR, NOT
// and casts to bool: numbers and timestamps are true unless zero (NaN is
// true), strings unless empty, dates always.
func truth(t types.Type) func(types.Value) bool {
	switch {
	case t.IsFloat():
		return func(v types.Value) bool { return v.F != 0 }
	case t == types.String:
		return func(v types.Value) bool { return v.S != "" }
	case t == types.Date:
		return func(types.Value) bool { return true }
	}
	return func(v types.Value) bool { return v.I != 0 }
}

func toInteger(from, to types.Type) func(types.Value) types.Value {
	switch {
	case from == types.String:
		return func(v types.Value) types.Value {
			i, ok := parseIntegral(v.S)
			if !ok || types.Wrap(to, i) != i {
				return types.NullOf(to)
			}
			return intV(to, i)
		}
	case from.IsFloat():
		return func(v types.Value) types.Value { return intV(to, wrapInt(to, floatToInt(v.F, to))) }
	}
	return func(v types.Value) types.Value { return intV(to, wrapInt(to, v.I)) }
}

// parseIntegral reads an integer as OpenMLDB's StrToIntegral (udf.h)
// does: ASCII whitespace around it is dropped, then an optional sign and
// decimal digits, or hexadecimal digits after 0x or 0X (-0x2b is -43). ok
// is false for anything else (no digits, other characters after them) and
// for a value outside the int64 range.
func parseIntegral(s string) (i int64, ok bool) {
	s = strings.Trim(s, asciiSpace)
	digits, neg := s, false
	if digits != "" && (digits[0] == '+' || digits[0] == '-') {
		digits, neg = digits[1:], digits[0] == '-'
	}
	base := 10
	if len(digits) > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X') {
		digits, base = digits[2:], 16
	}
	if digits == "" || digits[0] == '+' || digits[0] == '-' {
		return 0, false
	}
	u, err := strconv.ParseUint(digits, base, 64)
	switch {
	case err != nil:
		return 0, false
	case neg && u <= 1<<63:
		return -int64(u), true
	case !neg && u <= math.MaxInt64:
		return int64(u), true
	}
	return 0, false
}

// asciiSpace is the whitespace absl::StripAsciiWhitespace drops.
const asciiSpace = " \t\n\v\f\r"

// floatToInt truncates f toward zero; NaN and out-of-range values give the
// minimum of the 32-bit or 64-bit range as x86's truncating conversion does.
func floatToInt(f float64, to types.Type) int64 {
	f = math.Trunc(f)
	if to == types.Int64 {
		if f >= -(1<<63) && f < 1<<63 {
			return int64(f)
		}
		return math.MinInt64
	}
	if f >= math.MinInt32 && f <= math.MaxInt32 {
		return int64(f)
	}
	return math.MinInt32
}

func toFloat(from, to types.Type) func(types.Value) types.Value {
	switch {
	case from == types.String:
		bits := 64
		if to == types.Float {
			bits = 32
		}
		return func(v types.Value) types.Value {
			f, err := strconv.ParseFloat(strings.TrimSpace(v.S), bits)
			if err != nil && !errors.Is(err, strconv.ErrRange) {
				return types.NullOf(to)
			}
			return floatV(to, f)
		}
	case from.IsFloat():
		return func(v types.Value) types.Value { return floatV(to, v.F) }
	case to == types.Float:
		return func(v types.Value) types.Value { return floatV(to, float64(float32(v.I))) }
	}
	return func(v types.Value) types.Value { return floatV(to, float64(v.I)) }
}

func toTimestamp(from types.Type) func(types.Value) types.Value {
	ts := func(ms int64) types.Value {
		if ms < 0 {
			return types.NullOf(types.Timestamp)
		}
		return types.TimestampValue(ms)
	}
	switch {
	case from == types.String:
		return func(v types.Value) types.Value { return parseTimestamp(v.S) }
	case from == types.Date:
		return func(v types.Value) types.Value {
			if !inDateRange(v.I) {
				return types.NullOf(types.Timestamp)
			}
			return types.TimestampValue(types.TimestampOfDate(v.I))
		}
	case from.IsFloat():
		return func(v types.Value) types.Value { return ts(floatToInt(v.F, types.Int64)) }
	}
	return func(v types.Value) types.Value { return ts(v.I) }
}

// stringer returns how a value of t renders as a string in casts, concat
// and string comparisons.
func stringer(t types.Type) func(types.Value) string {
	switch t {
	case types.Bool:
		return func(v types.Value) string { return strconv.FormatBool(v.I != 0) }
	case types.Float:
		return func(v types.Value) string { return types.FormatFloat(v.F, 32) }
	case types.Double:
		return func(v types.Value) string { return types.FormatFloat(v.F, 64) }
	case types.String:
		return func(v types.Value) string { return v.S }
	case types.Timestamp:
		return func(v types.Value) string { return wallClock(v.I).Format(time.DateTime) }
	case types.Date:
		return func(v types.Value) string { return types.FormatDate(v.I) }
	}
	if t.IsInteger() {
		return func(v types.Value) string { return strconv.FormatInt(v.I, 10) }
	}
	return func(v types.Value) string { return v.String() }
}

// parseBool accepts t, true, y, yes, 1 and f, false, n, no, 0 (any case).
func parseBool(s string) types.Value {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "t", "true", "y", "yes", "1":
		return boolV(true)
	case "f", "false", "n", "no", "0":
		return boolV(false)
	}
	return types.NullOf(types.Bool)
}

// layoutOf returns the layout OpenMLDB reads a date or time string of
// s's length in (string_to_timestamp, string_to_date): 19 bytes are
// "2020-01-02 15:04:05", 10 "2020-01-02", 8 "20200102"; a string of any
// other length (fractional seconds included) is no time there.
func layoutOf(s string) (string, bool) {
	switch len(s) {
	case 19:
		return time.DateTime, true
	case 10:
		return time.DateOnly, true
	case 8:
		return "20060102", true
	}
	return "", false
}

// parseTimestamp reads s as a time in Zone: NULL when no layout reads it
// or its year is before 1900, as OpenMLDB's string_to_timestamp gives
// (times from 1900 to 1970 are negative timestamps there too).
func parseTimestamp(s string) types.Value {
	if t, ok := parseLocal(s); ok && t.Year() >= minYear {
		return types.TimestampValue(t.UnixMilli())
	}
	return types.NullOf(types.Timestamp)
}

// parseLocal reads s in the layout of its length (layoutOf), in Zone.
func parseLocal(s string) (time.Time, bool) {
	l, ok := layoutOf(s)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation(l, s, types.Zone())
	return t, err == nil
}

// parseDate reads s as date(string) does: NULL when no layout reads it
// or its year is before 1900, as OpenMLDB's string_to_date gives.
func parseDate(s string) types.Value {
	if d, ok := parseAnyDate(s); ok && d.Year() >= minYear {
		return types.DateValue(types.DaysOf(d.Date()))
	}
	return types.NullOf(types.Date)
}

// parseAnyDate reads the date of s, whatever its year, as OpenMLDB's
// string_to_time does: in the layout of its length (layoutOf), or else as
// an RFC 3339 time with an offset ("2020-01-02T15:04:05.5+08:00"), whose
// date is the date at that offset.
func parseAnyDate(s string) (time.Time, bool) {
	l, ok := layoutOf(s)
	if !ok {
		l = time.RFC3339Nano
	}
	t, err := time.Parse(l, s)
	return t, err == nil
}

// castContainer casts arrays to arrays and maps to maps element by element.
func castContainer(from, to types.Type) (func(types.Value) types.Value, error) {
	if from.Kind() != to.Kind() {
		return nil, fmt.Errorf("%w %s to %s", errCast, from, to)
	}
	ke, err := nullable(from.Elem(), to.Elem())
	if err != nil {
		return nil, fmt.Errorf("%w %s to %s", errCast, from, to)
	}
	if from.Kind() == types.KindArray {
		return func(v types.Value) types.Value {
			in, _ := v.X.([]types.Value)
			out := make([]types.Value, len(in))
			for i, e := range in {
				out[i] = ke(e)
			}
			return types.Value{Type: to, X: out}
		}, nil
	}
	ve, err := nullable(from.Val(), to.Val())
	if err != nil {
		return nil, fmt.Errorf("%w %s to %s", errCast, from, to)
	}
	return func(v types.Value) types.Value {
		m, _ := v.X.(*types.Map)
		out := &types.Map{}
		if m != nil {
			for i := range m.Keys {
				out.Keys = append(out.Keys, ke(m.Keys[i]))
				out.Vals = append(out.Vals, ve(m.Vals[i]))
			}
		}
		return types.Value{Type: to, X: out}
	}, nil
}

// nullable returns the conversion of possibly NULL values of type from to
// type to.
func nullable(from, to types.Type) (func(types.Value) types.Value, error) {
	c, err := conversion(from, to)
	if err != nil {
		return nil, err
	}
	return func(v types.Value) types.Value {
		if v.Null {
			return types.NullOf(to)
		}
		return c(v)
	}, nil
}
