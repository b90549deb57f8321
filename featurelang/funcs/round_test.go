package funcs

import (
	"math"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// roundCases are round(x[, d]) as OpenMLDB's udf.h Round computes it; the
// [ir] ones are hybridse/src/codegen/udf_ir_builder_test.cc's RoundWith*
// cases.
var roundCases = []evalCase{
	// [ir] RoundWithPositiveD
	{"round", []types.Value{vd(0.1478), vi(i32, 2)}, vd(0.15)},
	{"round", []types.Value{vd(-21.177), vi(i32, 2)}, vd(-21.18)},
	{"round", []types.Value{vd(0.0012), vi(i32, 2)}, vd(0)},
	{"round", []types.Value{vi(i64, 6), vi(i32, 2)}, vi(i64, 6)},
	// [ir] RoundWithNegD
	{"round", []types.Value{vd(3712.55), vi(i32, -2)}, vd(3700)},
	{"round", []types.Value{vd(-88), vi(i32, -2)}, vd(-100)},
	{"round", []types.Value{vi(i32, 145), vi(i32, -2)}, vi(i32, 100)},
	{"round", []types.Value{vi(i32, -199), vi(i32, -2)}, vi(i32, -200)},
	// [ir] RoundWithZeroD
	{"round", []types.Value{vd(1.5), vi(i32, 0)}, vd(2)},
	{"round", []types.Value{vd(-1.5)}, vd(-2)},
	{"round", []types.Value{vi(i32, -88)}, vi(i32, -88)},
	// [own] the result has x's type: int16 stays int16, float float.
	{"round", []types.Value{vi(i16, 25)}, vi(i16, 25)},
	{"round", []types.Value{vi(i16, 25), vi(i32, -1)}, vi(i16, 30)},
	{"round", []types.Value{vf(0.5)}, vf(1)},
	{"round", []types.Value{vf(1.25), vi(i32, 1)}, vf(1.3)},
	// [own] d is cast to int32 as CAST does: a double truncated, a bool
	// 0 or 1, an int64 wrapped (2^32 - 1 is -1).
	{"round", []types.Value{vd(1.25), vd(1.9)}, vd(1.3)},
	{"round", []types.Value{vd(1.25), vb(true)}, vd(1.3)},
	{"round", []types.Value{vi(i64, 15), vi(i64, 1<<32-1)}, vi(i64, 20)},
	// [own] rounding in double: 2^53 + 1 is 2^53 there (2^53 / 10 rounds to
	// 900719925474099, times 10), and an int64 that rounds past the range
	// gives its minimum (x86's cvttsd2si), as static_cast<int64_t> does.
	{"round", []types.Value{vi(i64, 1<<53+1), vi(i32, -1)}, vi(i64, 9007199254740990)},
	{"round", []types.Value{vi(i64, math.MaxInt64), vi(i32, -1)}, vi(i64, math.MinInt64)},
	// [own] an int16 that rounds past its range wraps as the 32-bit
	// conversion's low bits.
	{"round", []types.Value{vi(i16, 32767), vi(i32, -1)}, vi(i16, -32766)},
	// [own] 10^d beyond double's range: x * inf / inf and 0 / 0 are NaN,
	// an integer x / inf * inf too (NaN, then the x86 minimum).
	{"round", []types.Value{vd(1.5), vi(i32, 400)}, vd(math.NaN())},
	{"round", []types.Value{vd(1.5), vi(i32, -400)}, vd(math.NaN())},
	{"round", []types.Value{vi(i32, 7), vi(i32, -400)}, vi(i32, math.MinInt32)},
	{"round", []types.Value{vi(i32, 7), vi(i32, math.MinInt32)}, vi(i32, math.MinInt32)},
	// NULL in, NULL out.
	{"round", []types.Value{vnull(f64), vi(i32, 1)}, vnull(f64)},
	{"round", []types.Value{vi(i32, 1), vnull(i32)}, vnull(i32)},
}

func TestRound(t *testing.T) {
	t.Parallel()
	checkEval(t, roundCases)
}

func TestRoundRejected(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []types.Type
		err  string
	}{
		{tys(b), "round: expected (int16|int32|int64|float|double[, number]), got (bool)"},
		{tys(str, i32), "round: expected (int16|int32|int64|float|double[, number]), got (string, int32)"},
		{tys(f64, str), "round: expected (int16|int32|int64|float|double[, number]), got (double, string)"},
		{tys(f64, ts), "round: expected (int16|int32|int64|float|double[, number]), got (double, timestamp)"},
		{tys(f64, i32, i32), "round: expected 1 or 2 argument(s), got 3"},
		{tys(), "round: expected 1 or 2 argument(s), got 0"},
	}
	for _, c := range cases {
		_, err := Resolve("round", c.args)
		if err == nil || err.Error() != c.err {
			t.Errorf("Resolve(round, %s) error = %v, want %q", typeList(c.args), err, c.err)
		}
	}
}
