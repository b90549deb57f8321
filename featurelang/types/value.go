package types

import (
	"cmp"
	"math"
	"strconv"
	"strings"
	"time"
)

// Value is one SQL value. It is a plain struct (no allocation to create or
// copy); which field holds the payload depends on the type:
//
//	bool                 I (0 or 1)
//	int16, int32, int64  I (already wrapped to the type's width)
//	timestamp            I (milliseconds since the Unix epoch, UTC)
//	date                 I (days since 1970-01-01)
//	float, double        F (a float value is always exactly a float32)
//	string               S
//	array                X ([]Value)
//	map                  X (*Map)
//
// A NULL of any type has Null set; its payload fields are zero.
type Value struct {
	Type Type
	Null bool
	I    int64
	F    float64
	S    string
	X    any
}

// Map is the payload of a map value: parallel key and value slices in
// insertion order. Lookups return the first matching key.
type Map struct {
	Keys, Vals []Value
}

// Constructors. They return non-NULL values of the named type.

// NullOf returns the NULL of type t.
func NullOf(t Type) Value { return Value{Type: t, Null: true} }

// BoolValue returns a bool value.
func BoolValue(b bool) Value {
	v := Value{Type: Bool}
	if b {
		v.I = 1
	}
	return v
}

// IntValue returns an integer value of type t (int16, int32 or int64),
// wrapping i to the width of t as OpenMLDB's integer arithmetic does.
func IntValue(t Type, i int64) Value { return Value{Type: t, I: Wrap(t, i)} }

// Int64Value returns an int64 value.
func Int64Value(i int64) Value { return Value{Type: Int64, I: i} }

// DoubleValue returns a double value.
func DoubleValue(f float64) Value { return Value{Type: Double, F: f} }

// FloatValue returns a float value; f is rounded to float32.
func FloatValue(f float64) Value { return Value{Type: Float, F: float64(float32(f))} }

// StringValue returns a string value.
func StringValue(s string) Value { return Value{Type: String, S: s} }

// TimestampValue returns a timestamp value of ms milliseconds since the epoch.
func TimestampValue(ms int64) Value { return Value{Type: Timestamp, I: ms} }

// DateValue returns a date value of days since 1970-01-01.
func DateValue(days int64) Value { return Value{Type: Date, I: days} }

// Wrap truncates i to the width of the integer type t (two's complement).
// Other types are returned unchanged.
func Wrap(t Type, i int64) int64 {
	switch t {
	case Int16:
		return int64(int16(i))
	case Int32:
		return int64(int32(i))
	case Bool:
		if i != 0 {
			return 1
		}
		return 0
	}
	return i
}

// Bool returns the payload of a bool value.
func (v Value) Bool() bool { return v.I != 0 }

// IsTrue reports whether v is a non-NULL true.
func (v Value) IsTrue() bool { return !v.Null && v.I != 0 }

// AsFloat returns a numeric value as float64 (integers converted).
func (v Value) AsFloat() float64 {
	if v.Type.IsFloat() {
		return v.F
	}
	return float64(v.I)
}

const msPerDay = 24 * 3600 * 1000

// TimeOf returns the timestamp ms as a time.Time in Zone.
func TimeOf(ms int64) time.Time { return time.UnixMilli(ms).In(Zone()) }

// DateOf returns the calendar date with the given days since 1970-01-01.
func DateOf(days int64) (year int, month time.Month, day int) {
	return time.Unix(days*86400, 0).UTC().Date()
}

// DaysOf returns the days since 1970-01-01 of a calendar date. Out-of-range
// months and days are normalized as time.Date does.
func DaysOf(year int, month time.Month, day int) int64 {
	return time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// DateOfTimestamp returns the date (in Zone) of the timestamp ms.
func DateOfTimestamp(ms int64) int64 {
	y, m, d := TimeOf(ms).Date()
	return DaysOf(y, m, d)
}

// TimestampOfDate returns midnight (in Zone) of the date days as a timestamp.
func TimestampOfDate(days int64) int64 {
	y, m, d := DateOf(days)
	return time.Date(y, m, d, 0, 0, 0, 0, Zone()).UnixMilli()
}

// FormatTimestamp renders ms as "2006-01-02 15:04:05" in Zone.
func FormatTimestamp(ms int64) string { return TimeOf(ms).Format(time.DateTime) }

// FormatDate renders days as "2006-01-02".
func FormatDate(days int64) string {
	y, m, d := DateOf(days)
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
}

// String renders v as OpenMLDB prints it: NULL as "NULL", booleans as
// true/false, floats in shortest form, timestamps and dates formatted.
func (v Value) String() string {
	if v.Null {
		return "NULL"
	}
	switch v.Type.Kind() {
	case KindBool:
		return strconv.FormatBool(v.I != 0)
	case KindInt16, KindInt32, KindInt64:
		return strconv.FormatInt(v.I, 10)
	case KindFloat:
		return FormatFloat(v.F, 32)
	case KindDouble:
		return FormatFloat(v.F, 64)
	case KindString:
		return v.S
	case KindTimestamp:
		return FormatTimestamp(v.I)
	case KindDate:
		return FormatDate(v.I)
	case KindArray:
		elems, _ := v.X.([]Value)
		parts := make([]string, len(elems))
		for i, e := range elems {
			parts[i] = e.String()
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case KindMap:
		m, _ := v.X.(*Map)
		if m == nil {
			return "{}"
		}
		parts := make([]string, len(m.Keys))
		for i := range m.Keys {
			parts[i] = m.Keys[i].String() + ": " + m.Vals[i].String()
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return "NULL"
}

// FormatFloat renders f in its shortest round-trip form for the given bit
// size, with NaN, Inf and -Inf spelled as such.
func FormatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}

// Compare orders two non-NULL values of the same type: -1, 0 or +1. Floats
// order NaN before every number (so sorting is total); strings compare
// bytewise. Values of different kinds compare by kind.
func Compare(a, b Value) int {
	if a.Type.Kind() != b.Type.Kind() {
		if a.Type.IsNumeric() && b.Type.IsNumeric() {
			return cmp.Compare(a.AsFloat(), b.AsFloat())
		}
		return cmp.Compare(a.Type.Kind(), b.Type.Kind())
	}
	switch a.Type.Kind() {
	case KindFloat, KindDouble:
		return cmp.Compare(a.F, b.F)
	case KindString:
		return strings.Compare(a.S, b.S)
	case KindArray, KindMap:
		return strings.Compare(a.String(), b.String())
	}
	return cmp.Compare(a.I, b.I)
}

// Identical reports whether a and b are the same value: both NULL, or equal
// payloads of the same type, with floats compared bit for bit (so NaN is
// identical to NaN and 0 is not identical to -0).
func Identical(a, b Value) bool {
	if a.Null || b.Null {
		return a.Null == b.Null
	}
	if a.Type != b.Type {
		return false
	}
	switch a.Type.Kind() {
	case KindFloat, KindDouble:
		return math.Float64bits(a.F) == math.Float64bits(b.F)
	case KindString:
		return a.S == b.S
	case KindArray, KindMap:
		return a.String() == b.String()
	}
	return a.I == b.I
}
