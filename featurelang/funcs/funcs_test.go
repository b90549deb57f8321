package funcs

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

var (
	b   = types.Bool
	i16 = types.Int16
	i32 = types.Int32
	i64 = types.Int64
	f32 = types.Float
	f64 = types.Double
	str = types.String
	ts  = types.Timestamp
	dt  = types.Date
	nul = types.Null
)

func tys(t ...types.Type) []types.Type { return t }

func vi(t types.Type, i int64) types.Value { return types.IntValue(t, i) }
func vf(f float64) types.Value             { return types.FloatValue(f) }
func vd(f float64) types.Value             { return types.DoubleValue(f) }
func vs(s string) types.Value              { return types.StringValue(s) }
func vb(x bool) types.Value                { return types.BoolValue(x) }
func vts(ms int64) types.Value             { return types.TimestampValue(ms) }
func vdate(s string) types.Value           { return parseDate(s) }
func vnull(t types.Type) types.Value       { return types.NullOf(t) }
func varr(elems ...types.Value) types.Value {
	return types.Value{Type: types.ArrayOf(elems[0].Type), X: elems}
}

// call evaluates an overload as the evaluator does: strict overloads give
// NULL without calling Impl when an argument is NULL.
func call(o *Overload, args []types.Value) types.Value {
	if !o.NullSafe {
		for _, a := range args {
			if a.Null {
				return types.NullOf(o.Result)
			}
		}
	}
	return o.Impl(args)
}

type evalCase struct {
	name string
	args []types.Value
	want types.Value
}

func argTypesOf(args []types.Value) []types.Type {
	out := make([]types.Type, len(args))
	for i, a := range args {
		out[i] = a.Type
	}
	return out
}

var evalCases = []evalCase{
	// arithmetic: widths, wrap-around, promotion, NULL, division by zero
	{"+", []types.Value{vi(i16, 32767), vi(i16, 1)}, vi(i16, -32768)},
	{"+", []types.Value{vi(i16, 1), vi(i32, 2)}, vi(i32, 3)},
	{"+", []types.Value{vi(i32, math.MaxInt32), vi(i32, 1)}, vi(i32, math.MinInt32)},
	{"+", []types.Value{vi(i64, 1), vf(1.5)}, vf(2.5)},
	{"+", []types.Value{vb(true), vb(true)}, vb(false)},
	{"+", []types.Value{vi(i32, 1), vb(true)}, vi(i32, 2)},
	{"+", []types.Value{vts(1000), vi(i32, 5)}, vts(1005)},
	{"+", []types.Value{vi(i16, 5), vts(1000)}, vts(1005)},
	{"+", []types.Value{vts(1000), vts(5)}, vts(1005)},
	{"+", []types.Value{vi(i32, 1), vnull(nul)}, vnull(i32)},
	{"-", []types.Value{vts(1000), vi(i64, 5)}, vts(995)},
	{"-", []types.Value{vf(30), vd(11.1)}, vd(30 - 11.1)},
	{"*", []types.Value{vi(i32, 65536), vi(i32, 65536)}, vi(i32, 0)},
	{"/", []types.Value{vi(i32, 7), vi(i32, 2)}, vd(3.5)},
	{"/", []types.Value{vi(i32, 7), vi(i32, 0)}, vnull(f64)},
	{"/", []types.Value{vd(7), vd(0)}, vnull(f64)},
	{"%", []types.Value{vi(i32, 7), vi(i32, 0)}, vnull(i32)},
	{"%", []types.Value{vi(i32, -7), vi(i32, 3)}, vi(i32, -1)},
	{"%", []types.Value{vf(30), vf(11.1)}, vf(7.8)},
	{"%", []types.Value{vd(30), vf(11.1)}, vd(math.Mod(30, float64(float32(11.1))))},
	{"%", []types.Value{vf(30), vi(i16, 0)}, vnull(f32)},
	{"div", []types.Value{vi(i64, 7), vi(i32, 2)}, vi(i64, 3)},
	{"div", []types.Value{vi(i64, 7), vi(i32, 0)}, vnull(i64)},
	{"div", []types.Value{vi(i64, math.MinInt64), vi(i64, -1)}, vi(i64, math.MinInt64)},
	{"div", []types.Value{vb(true), vb(true)}, vb(true)},
	{"neg", []types.Value{vi(i16, -32768)}, vi(i16, -32768)},
	{"neg", []types.Value{vd(1.5)}, vd(-1.5)},
	{"&", []types.Value{vi(i16, 3), vi(i32, 6)}, vi(i32, 2)},
	{"|", []types.Value{vi(i16, 3), vi(i64, 12)}, vi(i64, 15)},
	{"^", []types.Value{vi(i16, 3), vi(i16, 6)}, vi(i16, 5)},
	{"~", []types.Value{vi(i16, 0)}, vi(i16, -1)},
	// comparison
	{"<", []types.Value{vi(i16, 1), vd(1.5)}, vb(true)},
	{"=", []types.Value{vi(i64, 16777217), vf(16777216)}, vb(true)}, // int64 vs float compares as float
	{"=", []types.Value{vs("1"), vi(i32, 1)}, vb(true)},
	{"<", []types.Value{vs("10"), vi(i32, 9)}, vb(true)}, // as strings
	{"=", []types.Value{vs("2020-05-29 15:56:29"), vts(1590738989000)}, vb(true)},
	{">=", []types.Value{vdate("2020-05-02"), vdate("2020-05-01")}, vb(true)},
	{"=", []types.Value{vd(math.NaN()), vd(math.NaN())}, vb(false)},
	{"!=", []types.Value{vi(i32, 1), vnull(nul)}, vnull(b)},
	// logic
	{"and", []types.Value{vb(false), vnull(b)}, vb(false)},
	{"and", []types.Value{vb(true), vnull(b)}, vnull(b)},
	{"or", []types.Value{vnull(b), vb(true)}, vb(true)},
	{"or", []types.Value{vnull(b), vb(false)}, vnull(b)},
	{"or", []types.Value{vs(""), vi(i32, 0)}, vb(false)},
	{"and", []types.Value{vts(1), vdate("1970-01-01")}, vb(true)},
	{"xor", []types.Value{vi(i32, 3), vb(false)}, vb(true)},
	{"xor", []types.Value{vnull(b), vb(false)}, vnull(b)},
	{"not", []types.Value{vd(0)}, vb(true)},
	{"is_null", []types.Value{vnull(i32)}, vb(true)},
	{"is_not_null", []types.Value{vnull(i32)}, vb(false)},
	{"isnull", []types.Value{vi(i32, 1)}, vb(false)},
	{"ifnull", []types.Value{vnull(i32), vs("abc")}, vs("abc")},
	{"ifnull", []types.Value{vi(i32, 0), vs("abc")}, vs("0")},
	{"nvl", []types.Value{vnull(i64), vd(1.1)}, vd(1.1)},
	{"if_null", []types.Value{vi(i64, 1), vd(1.1)}, vd(1)},
	{"nvl2", []types.Value{vnull(nul), vi(i64, 1), vf(4)}, vd(4)},
	{"nvl2", []types.Value{vb(true), vs("str"), vi(i32, 34)}, vs("str")},
	{"identity", []types.Value{vnull(str)}, vnull(str)},
	// conversions
	{"int16", []types.Value{vts(1590738989000)}, vi(i16, -20536)},
	{"int32", []types.Value{vts(1590738989000)}, vi(i32, 1601089480)},
	{"int", []types.Value{vs("-1")}, vi(i32, -1)},
	{"int", []types.Value{vs("")}, vnull(i32)},
	{"int", []types.Value{vs("2020-05-22 10:43:40")}, vnull(i32)},
	{"smallint", []types.Value{vs("40000")}, vnull(i16)},
	{"bigint", []types.Value{vd(-1.9)}, vi(i64, -1)},
	{"bigint", []types.Value{vd(math.NaN())}, vi(i64, math.MinInt64)},
	{"int16", []types.Value{vd(1e10)}, vi(i16, 0)},
	{"float", []types.Value{vs("1.1")}, vf(1.1)},
	{"double", []types.Value{vs("abc")}, vnull(f64)},
	{"double", []types.Value{vs("NaN")}, vd(math.NaN())},
	{"bool", []types.Value{vs("Yes")}, vb(true)},
	{"bool", []types.Value{vs("0")}, vb(false)},
	{"bool", []types.Value{vs("abc")}, vnull(b)},
	{"bool", []types.Value{vd(math.NaN())}, vb(true)},
	{"bool", []types.Value{vdate("2020-05-01")}, vnull(b)},
	{"bigint", []types.Value{vdate("2020-05-01")}, vnull(i64)},
	{"string", []types.Value{vf(1.1)}, vs("1.1")},
	{"string", []types.Value{vd(30)}, vs("30")},
	{"string", []types.Value{vd(math.Inf(-1))}, vs("-Inf")},
	{"string", []types.Value{vb(true)}, vs("true")},
	{"varchar", []types.Value{vts(1590738989000)}, vs("2020-05-29 15:56:29")},
	{"string", []types.Value{vnull(nul)}, vnull(str)},
	{"timestamp", []types.Value{vi(i64, -1)}, vnull(ts)},
	{"timestamp", []types.Value{vs("2020-05-22 10:43:40")}, vts(1590115420000)},
	{"timestamp", []types.Value{vs("20200522")}, vts(1590076800000)},
	{"timestamp", []types.Value{vs("1590738989000")}, vnull(ts)},
	{"timestamp", []types.Value{vdate("2020-05-01")}, vts(1588262400000)},
	{"date", []types.Value{vts(1590738989000)}, vdate("2020-05-29")},
	{"date", []types.Value{vs("2020-05-22 10:43:40")}, vdate("2020-05-22")},
	{"date", []types.Value{vs("2020-05-32")}, vnull(dt)},
	// math
	{"abs", []types.Value{vi(i16, -3)}, vi(i32, 3)},
	{"abs", []types.Value{vf(-1.5)}, vd(1.5)},
	{"ceil", []types.Value{vi(i16, 1)}, vi(i64, 1)},
	{"ceiling", []types.Value{vd(1.2)}, vd(2)},
	{"floor", []types.Value{vb(true)}, vd(1)},
	{"round", []types.Value{vf(0.5)}, vf(1)},
	{"round", []types.Value{vd(-2.5)}, vd(-3)},
	{"truncate", []types.Value{vd(-0.7)}, vd(math.Copysign(0, -1))},
	{"exp", []types.Value{vi(i16, 0)}, vd(1)},
	{"sqrt", []types.Value{vf(4)}, vf(2)},
	{"asin", []types.Value{vd(2)}, vd(math.NaN())},
	{"cot", []types.Value{vi(i32, 2)}, vd(-0.45765755436028577)},
	{"log", []types.Value{vb(false)}, vd(math.Inf(-1))},
	{"log", []types.Value{vi(i64, 2), vi(i32, 8)}, vd(3)},
	{"log", []types.Value{vi(i64, 1), vi(i32, 8)}, vnull(f64)},
	{"log2", []types.Value{vf(8)}, vf(3)},
	{"log10", []types.Value{vd(100)}, vd(2)},
	{"ln", []types.Value{vi(i32, 1)}, vd(0)},
	{"pow", []types.Value{vi(i32, 2), vi(i64, 10)}, vd(1024)},
	{"power", []types.Value{vf(2), vf(3)}, vf(8)},
	{"atan2", []types.Value{vi(i32, 1), vi(i32, 2)}, vd(0.4636476090008061)},
	{"atan", []types.Value{vd(2.2)}, vd(1.1441688336680205)},
	{"inc", []types.Value{vi(i16, 32767)}, vi(i16, -32768)},
	{"earth_distance", []types.Value{vd(40), vd(73), vd(41), vd(74)}, vd(139.72810080682342)},
	// strings
	{"concat", []types.Value{vs("a"), vi(i64, 30), vf(11.1), vdate("2020-05-02"), vb(true)}, vs("a3011.12020-05-02true")},
	{"concat", []types.Value{vs("a"), vnull(str)}, vnull(str)},
	{"concat_ws", []types.Value{vi(i16, 30), vs("aa"), vs("bb")}, vs("aa30bb")},
	{"concat_ws", []types.Value{vs("-"), vs("bbb")}, vs("bbb")},
	{"char_length", []types.Value{vs("Spark SQL ")}, vi(i32, 10)},
	{"substr", []types.Value{vs("123456789"), vi(i32, 3)}, vs("3456789")},
	{"substring", []types.Value{vs("123456789"), vi(i32, 3), vi(i32, 2)}, vs("34")},
	{"substring", []types.Value{vs("123456789"), vi(i32, 30), vi(i32, 2)}, vs("")},
	{"substring", []types.Value{vs("hello"), vi(i32, -3), vi(i32, 2)}, vs("ll")},
	{"substring", []types.Value{vs("hello"), vi(i32, 0)}, vs("")},
	{"strcmp", []types.Value{vs("text"), vs("text2")}, vi(i32, -1)},
	{"upper", []types.Value{vs("Sql")}, vs("SQL")},
	{"lcase", []types.Value{vs("SQl")}, vs("sql")},
	{"reverse", []types.Value{vs("abc")}, vs("cba")},
	{"replace", []types.Value{vs("ABCabc"), vs("abc"), vs("ABC")}, vs("ABCABC")},
	{"replace", []types.Value{vs("ABCabc"), vs("abc")}, vs("ABC")},
	{"char", []types.Value{vi(i32, 321)}, vs("A")},
	// like
	{"like", []types.Value{vs("Mike"), vs("M%_e")}, vb(true)},
	{"like", []types.Value{vs("Mike"), vs("m%")}, vb(false)},
	{"ilike", []types.Value{vs("Mike"), vs("m%")}, vb(true)},
	{"like", []types.Value{vs("_a%_b"), vs("#_a%b"), vs("#")}, vb(true)},
	{"like", []types.Value{vs("aabb"), vs("#_a%b"), vs("#")}, vb(false)},
	{"like_match", []types.Value{vs("_a%b"), vs("_a%%b"), vs("%")}, vb(true)},
	{"like_match", []types.Value{vs(`\aabb`), vs(`\_a%b`), vs("")}, vb(true)},
	{"like_match", []types.Value{vs("ab#"), vs("a%#"), vs("#")}, vb(false)},
	{"like_match", []types.Value{vs("aa"), vs("a%"), vs("<>")}, vb(false)},
	{"ilike_match", []types.Value{vs("Mike"), vs(`m_\ke`), vnull(str)}, vnull(b)},
	{"ilike_match", []types.Value{vs("ÄB"), vs("äb")}, vb(true)},
	{"rlike", []types.Value{vs("contact@openmldb.ai"), vs(`[A-Za-z0-9+_.-]+@openmldb[A-Za-z0-9+_.-]+`)}, vb(true)},
	{"regexp_like", []types.Value{vs("xabcx"), vs("abc")}, vb(false)},
	{"regexp_like", []types.Value{vs("ABC"), vs("abc"), vs("i")}, vb(true)},
	{"regexp_like", []types.Value{vs("abc"), vs("(")}, vnull(b)},
	// date and time
	{"year", []types.Value{vdate("1900-06-21")}, vi(i32, 1900)},
	{"month", []types.Value{vts(1590115420000)}, vi(i32, 5)},
	{"day", []types.Value{vts(1590738989000)}, vi(i32, 29)},
	{"dayofweek", []types.Value{vdate("2020-05-20")}, vi(i32, 4)},
	{"dayofyear", []types.Value{vi(i64, 1590115420000)}, vi(i32, 143)},
	{"week", []types.Value{vdate("2020-05-24")}, vi(i32, 21)},
	{"weekofyear", []types.Value{vdate("2020-05-25")}, vi(i32, 22)},
	{"hour", []types.Value{vi(i64, 30)}, vi(i32, 8)},
	{"minute", []types.Value{vts(1590738989000)}, vi(i32, 56)},
	{"second", []types.Value{vts(1590115420000)}, vi(i32, 40)},
	{"last_day", []types.Value{vdate("2020-02-12")}, vdate("2020-02-29")},
	{"date_format", []types.Value{vts(1590738989000), vs("%Y-%m-%d %H:%M:%S")}, vs("2020-05-29 15:56:29")},
	{"date_format", []types.Value{vdate("2020-05-01"), vs("%Y-%m-%d %H:%M:%S %%")}, vs("2020-05-01 00:00:00 %")},
	{"datediff", []types.Value{vdate("2021-05-10"), vdate("2021-05-01")}, vi(i32, 9)},
	{"datediff", []types.Value{vts(1590738989000), vs("2020-05-01")}, vi(i32, 28)},
	// arrays and maps
	{"split", []types.Value{vs("7,8,9"), vs(",")}, varr(vs("7"), vs("8"), vs("9"))},
	{"split", []types.Value{vnull(str), vs(",")}, types.Value{Type: types.ArrayOf(str), X: []types.Value{}}},
	{"split_by_key", []types.Value{vs("???,,k4:v4"), vs(","), vs(":")}, varr(vs("k4"))},
	{"split_by_value", []types.Value{vs("k1:v1,k2:v2"), vs(","), vs(":")}, varr(vs("v1"), vs("v2"))},
	{"list_except_by_key", []types.Value{varr(vs("a:1"), vs("b:2"), vs("c:0")), vs("a,b")}, varr(vs("c:0"))},
	{"list_except_by_value", []types.Value{varr(vs("a"), vs("b:1")), vs("")}, varr(vs("b:1"))},
	{"join", []types.Value{varr(vs("1"), vnull(str), vs("2")), vs(" ")}, vs("1 2")},
	{"array_join", []types.Value{varr(vs("1"), vs("2")), vnull(str)}, vs("12")},
	{"array_combine", []types.Value{vs("-"), varr(vi(i32, 1), vnull(i32)), varr(vs("3"), vs("4"))}, varr(vs("1-3"), vs("1-4"))},
	{"isin", []types.Value{vi(i64, 3), varr(vnull(i64), vi(i64, 1))}, vb(false)},
	{"isin", []types.Value{vi(i32, 2), varr(vi(i32, 2), vi(i32, 2))}, vb(true)},
	{"at", []types.Value{varr(vs("7"), vs("8")), vi(i32, 1)}, vs("8")},
	{"[]", []types.Value{varr(vs("7"), vs("8")), vi(i32, 2)}, vnull(str)},
	{"map", []types.Value{vs("c"), vi(i32, 99), vs("d"), vnull(nul)}, types.Value{Type: types.MapOf(str, i32),
		X: &types.Map{Keys: []types.Value{vs("c"), vs("d")}, Vals: []types.Value{vi(i32, 99), vnull(i32)}}}},
	{"[]", []types.Value{{Type: types.MapOf(str, i32), X: &types.Map{Keys: []types.Value{vs("1"), vs("1")},
		Vals: []types.Value{vi(i32, 2), vi(i32, 4)}}}, vs("1")}, vi(i32, 2)},
}

func TestEval(t *testing.T) {
	t.Parallel()
	checkEval(t, evalCases)
}

// checkEval resolves and evaluates each case and compares its result
// type and value.
func checkEval(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, c := range cases {
		o, err := Resolve(c.name, argTypesOf(c.args))
		if err != nil {
			t.Errorf("Resolve(%s, %v): %v", c.name, typeList(argTypesOf(c.args)), err)
			continue
		}
		if want := c.want.Type; o.Result != want {
			t.Errorf("%s%s: result type %s, want %s", c.name, typeList(argTypesOf(c.args)), o.Result, want)
		}
		got := call(o, c.args)
		if got.Type != c.want.Type || !types.Identical(got, c.want) && !(c.want.Type.IsFloat() && sameValue(got, c.want)) {
			t.Errorf("%s(%v): got %v (%s), want %v (%s)", c.name, c.args, got, got.Type, c.want, c.want.Type)
		}
	}
}

func TestTyping(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []types.Type
		want types.Type
	}{
		{"+", tys(nul, nul), nul},
		{"+", tys(nul, ts), ts},
		{"/", tys(nul, i16), f64},
		{"-", tys(b, b), b},
		{"*", tys(i64, f32), f32},
		{"%", tys(f32, f64), f64},
		{"=", tys(str, dt), b},
		{"like", tys(nul, str), b},
		{"~", tys(nul), nul},
		{"ifnull", tys(i32, nul), i32},
		{"ifnull", tys(nul, i32), i32},
		{"ifnull", tys(i16, f32), f32},
		{"ifnull", tys(i32, f32), f32}, // OpenMLDB's CompatibleType: float, as computed
		{"ifnull", tys(i64, f32), f64},
		{"ifnull", tys(ts, dt), str}, // any two column types meet in string
		{"nvl2", tys(b, f32, i32), f32},
		{"maximum", tys(i32, f32), f32},
		{"minimum", tys(f32, i64), f64},
		{"sqrt", tys(nul), f64},
		{"substr", tys(str, nul), str},
		{"string", tys(nul), str},
		{"concat", tys(), str},
		{"map", tys(), types.MapOf(nul, nul)},
		{"map", tys(i32, str, i64, nul), types.MapOf(i64, str)},
		{"[]", tys(types.MapOf(i32, str), i64), str},
		{"at", tys(types.ArrayOf(ts), i64), ts},
		{"log", tys(i64, str), f64},
		{"SUBSTRING", tys(str, i32), str},
		// The functions of OpenMLDB's reference added for issue 14 (reference_test.go).
		{"add", tys(i64, f32), f32},
		{"add", tys(i16, ts), ts},
		{"add_months", tys(dt, nul), dt},
		{"array_contains", tys(types.ArrayOf(str), nul), b},
		{"array_contains", tys(types.ArrayOf(nul), i32), b},
		{"array_contains", tys(nul, i32), b},
		{"farm_fingerprint", tys(nul), i64},
		{"hex", tys(f32), str},
		{"maximum", tys(i32, str), str},
		{"minimum", tys(nul, dt), dt},
		{"maximum", tys(i16, f32), f32},
		{"pmod", tys(b, b), b},
		{"pmod", tys(i64, f32), f32},
		{"pmod", tys(f32, f64), f64},
		{"pmod", tys(nul, i16), i16},
		{"size", tys(types.ArrayOf(nul)), i32},
		{"split_array", tys(str, nul), types.ArrayOf(str)},
		{"unix_timestamp", tys(nul), i64},
		{"json_array_length", tys(nul), i32},
		{"get_json_object", tys(str, str), str},
	}
	for _, c := range cases {
		o, err := Resolve(c.name, c.args)
		if err != nil {
			t.Errorf("Resolve(%s, %s): %v", c.name, typeList(c.args), err)
			continue
		}
		if o.Result != c.want {
			t.Errorf("Resolve(%s, %s) = %s, want %s", c.name, typeList(c.args), o.Result, c.want)
		}
	}
}

func TestRejected(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []types.Type
		err  string
	}{
		{"+", tys(i32, dt), "cannot add int32 and date"},
		{"+", tys(ts, f32), "cannot add timestamp and float"},
		{"+", tys(str, i32), "cannot add string and int32"},
		{"-", tys(ts, ts), "cannot subtract timestamp and timestamp"},
		{"-", tys(i32, ts), "cannot subtract int32 and timestamp"},
		{"*", tys(ts, i32), "cannot multiply timestamp and int32"},
		{"/", tys(ts, i64), "cannot divide timestamp and int64"},
		{"div", tys(f64, i32), "cannot integer-divide double and int32"},
		{"&", tys(b, i32), "cannot bitwise-and bool and int32"},
		{"neg", tys(str), "cannot negate string"},
		{"neg", tys(nul), "cannot negate null"},
		{"~", tys(f64), "cannot bitwise-not double"},
		{"<", tys(ts, i64), "cannot compare timestamp and int64"},
		{"=", tys(ts, dt), "cannot compare timestamp and date"},
		{"=", tys(types.ArrayOf(i32), types.ArrayOf(i32)), "cannot compare array<int32> and array<int32>"},
		{"and", tys(types.ArrayOf(i32), b), "cannot and array<int32> and bool"},
		{"like", tys(ts, str), "like: expected (string, string[, string]), got (timestamp, string)"},
		{"substring", tys(f64, i32), "substring: expected (string, int32[, int32]), got (double, int32)"},
		{"substr", tys(str, i64), "substring: expected (string, int32[, int32]), got (string, int64)"},
		{"strcmp", tys(str, i32), "strcmp: expected (string, string), got (string, int32)"},
		{"sqrt", tys(b), "sqrt: expected (number), got (bool)"},
		{"abs", tys(dt), "abs: expected (number), got (date)"},
		{"log", tys(ts, ts), "log: expected (number, number), got (timestamp, timestamp)"},
		{"pow", tys(str, str), "pow: expected (number, number), got (string, string)"},
		{"hour", tys(i32), "hour: expected (int64|timestamp), got (int32)"},
		{"dayofweek", tys(i32), "dayofweek: expected (int64|timestamp|date), got (int32)"},
		{"date", tys(i64), "date: cannot cast int64 to date"},
		{"ifnull", tys(types.ArrayOf(i32), i32), "ifnull: the default value must have a type compatible with array<int32>, got int32"},
		{"array_combine", tys(str), "array_combine: expected (string, array, ...), got (string)"},
		{"map", tys(i32), "map: expected key/value pairs, got 1 argument(s)"},
		{"concat_ws", tys(), "concat_ws: expected at least 1 argument(s), got 0"},
		{"is_null", tys(i32, i32), "is_null: expected 1 argument(s), got 2"},
		// The functions of OpenMLDB's reference added for issue 14 (reference_test.go).
		{"add", tys(str, i32), "add: cannot add string and int32"},
		{"add_months", tys(str, i32), "add_months: expected (date, int16|int32|int64), got (string, int32)"},
		{"add_months", tys(ts, i32), "add_months: expected (date, int16|int32|int64), got (timestamp, int32)"},
		{"add_months", tys(dt, f64), "add_months: expected (date, int16|int32|int64), got (date, double)"},
		{"array_contains", tys(types.ArrayOf(i64), i32), "array_contains: expected (array<T>, T), got (array<int64>, int32)"},
		{"array_contains", tys(i32, i32), "array_contains: expected (array<T>, T), got (int32, int32)"},
		{"hash64", tys(types.ArrayOf(i32)), "hash64: expected (bool|int16|int32|int64|float|double|string|timestamp|date), got (array<int32>)"},
		{"hex", tys(b), "hex: expected (int16|int32|int64|float|double|string), got (bool)"},
		{"hex", tys(ts), "hex: expected (int16|int32|int64|float|double|string), got (timestamp)"},
		{"unhex", tys(i32), "unhex: expected (string), got (int32)"},
		{"get_json_object", tys(str), "get_json_object: expected (string, string), got (string)"},
		{"json_array_length", tys(types.ArrayOf(str)), "json_array_length: expected (string), got (array<string>)"},
		{"maximum", tys(ts, dt), "maximum: cannot compare timestamp and date"},
		{"minimum", tys(types.ArrayOf(i32), types.ArrayOf(i32)), "minimum: cannot compare array<int32> and array<int32>"},
		{"pmod", tys(str, i32), "pmod: expected (number, number), got (string, int32)"},
		{"pmod", tys(ts, i32), "pmod: expected (number, number), got (timestamp, int32)"},
		{"size", tys(types.ArrayOf(i32)), "size: expected (array<string>), got (array<int32>)"},
		{"size", tys(str), "size: expected (array<string>), got (string)"},
		{"split_array", tys(str, i32), "split_array: expected (string, string), got (string, int32)"},
		{"unix_timestamp", tys(ts), "unix_timestamp: expected (date|string), got (timestamp)"},
		{"unix_timestamp", tys(i64), "unix_timestamp: expected (date|string), got (int64)"},
	}
	for _, c := range cases {
		_, err := Resolve(c.name, c.args)
		if err == nil || err.Error() != c.err {
			t.Errorf("Resolve(%s, %s) error = %v, want %q", c.name, typeList(c.args), err, c.err)
		}
	}
	if _, err := Resolve("no_such_function", nil); !errors.Is(err, ErrUnknown) {
		t.Errorf("unknown function: error %v does not wrap ErrUnknown", err)
	}
	for _, agg := range []string{"sum", "count", "lag", "mod", "make_tuple"} {
		if _, err := Resolve(agg, tys(i32)); !errors.Is(err, ErrUnknown) {
			t.Errorf("%s: error %v does not wrap ErrUnknown", agg, err)
		}
	}
}

func TestCastAcceptance(t *testing.T) {
	t.Parallel()
	all := []types.Type{b, i16, i32, i64, f32, f64, str, ts, dt}
	for _, from := range all {
		for _, to := range all {
			_, err := Cast(from, to)
			rejected := to == dt && isNumber(from)
			if (err != nil) != rejected {
				t.Errorf("Cast(%s, %s): error %v, want rejected=%v", from, to, err, rejected)
			}
		}
	}
	if _, err := Cast(types.MapOf(nul, nul), types.MapOf(str, i64)); err != nil {
		t.Errorf("empty map cast: %v", err)
	}
	if _, err := Cast(types.ArrayOf(i32), str); err == nil {
		t.Errorf("array to string cast accepted")
	}
}

func TestCommonType(t *testing.T) {
	t.Parallel()
	cases := []struct {
		a, b, want types.Type
		ok         bool
	}{
		{i16, i32, i32, true}, {b, f32, f32, true}, {i16, f32, f32, true}, {i64, f32, f64, true},
		{i32, str, str, true}, {nul, dt, dt, true}, {ts, i64, ts, true}, {ts, dt, str, true},
		{i32, f32, f32, true}, {f32, i64, f64, true}, {f64, i32, f64, true}, {b, dt, str, true},
		{types.ArrayOf(i32), i32, 0, false},
		{types.ArrayOf(nul), types.ArrayOf(i32), types.ArrayOf(i32), true},
	}
	for _, c := range cases {
		got, ok := CommonType(c.a, c.b)
		if got != c.want || ok != c.ok {
			t.Errorf("CommonType(%s, %s) = %s, %v; want %s, %v", c.a, c.b, got, ok, c.want, c.ok)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	cases := []struct {
		name string
		args []types.Value
	}{
		{"+", []types.Value{vi(i32, 1), vi(i64, 2)}},
		{"*", []types.Value{vi(i64, 3), vf(1.5)}},
		{"/", []types.Value{vi(i32, 1), vd(2)}},
		{"div", []types.Value{vi(i32, 7), vi(i32, 2)}},
		{"<", []types.Value{vi(i16, 1), vd(1.5)}},
		{"=", []types.Value{vs("abc"), vs("abd")}},
		{"and", []types.Value{vb(true), vnull(b)}},
		{"not", []types.Value{vi(i32, 0)}},
		{"is_null", []types.Value{vnull(i32)}},
		{"ifnull", []types.Value{vnull(i32), vi(i64, 5)}},
		{"like", []types.Value{vs("Mike"), vs("M%_e")}},
		{"ilike_match", []types.Value{vs("Mike"), vs("m%"), vs("#")}},
		{"regexp_like", []types.Value{vs("abc"), vs("a.c")}},
		{"year", []types.Value{vts(1590738989000)}},
		{"abs", []types.Value{vi(i16, -3)}},
	}
	for _, c := range cases {
		o, err := Resolve(c.name, argTypesOf(c.args))
		if err != nil {
			t.Fatalf("Resolve(%s): %v", c.name, err)
		}
		o.Impl(c.args) // compile and cache constant patterns
		if n := testing.AllocsPerRun(100, func() { o.Impl(c.args) }); n != 0 {
			t.Errorf("%s allocates %v times per call", c.name, n)
		}
	}
}

func TestConcurrentPatterns(t *testing.T) {
	t.Parallel()
	o, err := Resolve("like", tys(str, str))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan bool)
	for g := range 8 {
		go func() {
			ok := true
			for i := range 1000 {
				p := []string{"a%", "%b", "_b"}[(g+i)%3]
				want := map[string]bool{"a%": true, "%b": true, "_b": true}[p]
				ok = ok && call(o, []types.Value{vs("ab"), vs(p)}).Bool() == want
			}
			done <- ok
		}()
	}
	for range 8 {
		if !<-done {
			t.Error("wrong result under concurrent use")
		}
	}
}

// fuzzTypes are the argument types FuzzResolveEval draws from.
var fuzzTypes = []types.Type{nul, b, i16, i32, i64, f32, f64, str, ts, dt,
	types.ArrayOf(str), types.ArrayOf(i32), types.MapOf(str, i32)}

func fuzzValue(t types.Type, seed int64, s string) types.Value {
	switch {
	case t == nul || seed%7 == 0:
		return types.NullOf(t)
	case t == b:
		return vb(seed%2 == 0)
	case t.IsInteger() || t == ts:
		return types.IntValue(t, seed)
	case t == dt:
		return types.DateValue(seed % 3000000)
	case t.IsFloat():
		return types.Value{Type: t, F: float64(float32(math.Float64frombits(uint64(seed))))}
	case t == str:
		return vs(s)
	case t.Kind() == types.KindArray:
		return types.Value{Type: t, X: []types.Value{fuzzValue(t.Elem(), seed/3, s), fuzzValue(t.Elem(), seed+1, s)}}
	case t.Kind() == types.KindMap:
		return types.Value{Type: t, X: &types.Map{Keys: []types.Value{fuzzValue(t.Elem(), seed, s)},
			Vals: []types.Value{fuzzValue(t.Val(), seed, s)}}}
	}
	return types.NullOf(t)
}

func FuzzResolveEval(f *testing.F) {
	for _, c := range slices.Concat(evalCases, referenceCases) {
		var ty [4]byte
		for i, a := range c.args {
			if i < 4 {
				for k, ft := range fuzzTypes {
					if ft == a.Type {
						ty[i] = byte(k)
					}
				}
			}
		}
		f.Add(c.name, uint8(len(c.args)), ty[0], ty[1], ty[2], ty[3], int64(42), "a%b_c")
	}
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	f.Fuzz(func(t *testing.T, name string, n, t0, t1, t2, t3 uint8, seed int64, s string) {
		if strings.TrimSpace(name) == "" || n > 6 {
			return
		}
		if n%2 == 1 && len(names) > 0 {
			name = names[int(uint(seed)%uint(len(names)))]
		}
		picks := []uint8{t0, t1, t2, t3, t0, t1}
		args := make([]types.Type, n)
		vals := make([]types.Value, n)
		for i := range args {
			args[i] = fuzzTypes[int(picks[i])%len(fuzzTypes)]
			vals[i] = fuzzValue(args[i], seed+int64(i)*7919, s)
		}
		o, err := Resolve(name, args)
		if err != nil {
			return
		}
		got := call(o, vals)
		if !got.Null && got.Type != o.Result {
			t.Fatalf("%s%s: value of type %s, want %s", name, typeList(args), got.Type, o.Result)
		}
		if len(args) == 0 {
			return
		}
		for _, to := range fuzzTypes[1:] {
			if c, err := Cast(args[0], to); err == nil && !vals[0].Null {
				c(vals[:1])
			}
		}
	})
}

func BenchmarkEval(b *testing.B) {
	for _, c := range evalCases[:20] {
		o, err := Resolve(c.name, argTypesOf(c.args))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name+typeList(o.Args), func(b *testing.B) {
			for b.Loop() {
				call(o, c.args)
			}
		})
	}
}
