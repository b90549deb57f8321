package agg

import (
	"math"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

var negZero = math.Copysign(0, -1)

func TestWhere(t *testing.T) {
	t.Parallel()
	vals := []any{0, 1, 2, 3, 4}
	gt2 := []any{false, false, false, true, true}
	le2 := []any{true, true, true, false, false}
	runCases(t, []aggCase{
		// The examples of OpenMLDB's documentation: value > 2 over 0..4.
		{name: "doc sum", fn: "sum_where", args: []types.Type{tI32, tBool}, cols: [][]any{vals, gt2}, hi: -1, want: i32(7)},
		{name: "doc count", fn: "count_where", args: []types.Type{tI32, tBool}, cols: [][]any{vals, gt2}, hi: -1, want: i64(2)},
		{name: "doc avg", fn: "avg_where", args: []types.Type{tI32, tBool}, cols: [][]any{vals, gt2}, hi: -1, want: f64(3.5)},
		{name: "doc min", fn: "min_where", args: []types.Type{tI32, tBool}, cols: [][]any{vals, gt2}, hi: -1, want: i32(3)},
		{name: "doc max", fn: "max_where", args: []types.Type{tI32, tBool}, cols: [][]any{vals, le2}, hi: -1, want: i32(2)},

		// NULL values and NULL conditions are skipped (udaf_test.cc).
		{name: "sum null cond", fn: "sum_where", args: []types.Type{tI32, tBool},
			cols: [][]any{{4, 5, 6, nil}, {true, true, nil, false}}, hi: -1, want: i32(9)},
		{name: "sum null value", fn: "sum_where", args: []types.Type{tI32, tBool},
			cols: [][]any{{4, 5, 6, nil}, {true, false, nil, true}}, hi: -1, want: i32(4)},
		{name: "sum only null", fn: "sum_where", args: []types.Type{tI32, tBool},
			cols: [][]any{{nil}, {true}}, hi: -1, want: types.NullOf(tI32)},
		{name: "sum empty", fn: "sum_where", args: []types.Type{tI32, tBool},
			cols: [][]any{{1}, {true}}, hi: 0, want: types.NullOf(tI32)},
		{name: "count null cond", fn: "count_where", args: []types.Type{tI32, tBool},
			cols: [][]any{{4, 5, 6, nil}, {true, false, nil, true}}, hi: -1, want: i64(1)},
		{name: "count empty", fn: "count_where", args: []types.Type{tStr, tBool},
			cols: [][]any{{"a"}, {true}}, hi: 0, want: i64(0)},
		{name: "count star", fn: "count_where", args: []types.Type{tBool},
			cols: [][]any{{true, nil, true, false}}, hi: -1, want: i64(2)},
		{name: "count NULL literal cond", fn: "count_where", args: []types.Type{tI32, types.Null},
			cols: [][]any{{1, 2}, {nil, nil}}, hi: -1, want: i64(0)},
		{name: "avg null cond", fn: "avg_where", args: []types.Type{tI32, tBool},
			cols: [][]any{{4, 5, 6, nil, 8}, {true, false, nil, true, true}}, hi: -1, want: f64(6)},
		{name: "avg float widened", fn: "avg_where", args: []types.Type{tF32, tBool},
			cols: [][]any{{1.3}, {true}}, hi: -1, want: f64(float64(float32(1.3)))},
		{name: "min null cond", fn: "min_where", args: []types.Type{tI32, tBool},
			cols: [][]any{{7, 5, 4, 8}, {true, false, nil, true}}, hi: -1, want: i32(7)},
		{name: "min no match", fn: "min_where", args: []types.Type{tI32, tBool},
			cols: [][]any{{1, 9, 3}, {false, false, false}}, hi: -1, want: types.NullOf(tI32)},
		{name: "max only null matched", fn: "max_where", args: []types.Type{tI32, tBool},
			cols: [][]any{{nil, 3}, {true, false}}, hi: -1, want: types.NullOf(tI32)},
		{name: "max null value", fn: "max_where", args: []types.Type{tI32, tBool},
			cols: [][]any{{1, nil, 3}, {true, true, true}}, hi: -1, want: i32(3)},
		{name: "max with zero", fn: "max_where", args: []types.Type{tI32, tBool},
			cols: [][]any{{1, 5, 4, 0}, {true, false, nil, true}}, hi: -1, want: i32(1)},
		{name: "sum int16 wraps", fn: "sum_where", args: []types.Type{tI16, tBool},
			cols: [][]any{{32767, 1}, {true, true}}, hi: -1, want: types.IntValue(tI16, -32768)},
		{name: "sliding frame", fn: "sum_where", args: []types.Type{tI64, tBool},
			cols: [][]any{{1, 2, 4, 8, 16}, {true, true, false, true, true}}, lo: 1, hi: 4, want: types.Int64Value(10)},

		// Zero values count (unlike OpenMLDB, which drops them: see
		// where.go).
		{name: "sum zeros only", fn: "sum_where", args: []types.Type{tI32, tBool},
			cols: [][]any{{0, 0}, {true, true}}, hi: -1, want: i32(0)},
		{name: "avg counts zero", fn: "avg_where", args: []types.Type{tI32, tBool},
			cols: [][]any{{0, 2}, {true, true}}, hi: -1, want: f64(1)},
		{name: "sum with -0", fn: "sum_where", args: []types.Type{tF64, tBool},
			cols: [][]any{{negZero, 1.5}, {true, true}}, hi: -1, want: f64(1.5)},
		{name: "sum NaN counts", fn: "sum_where", args: []types.Type{tF64, tBool},
			cols: [][]any{{math.NaN(), 1.5}, {true, true}}, hi: -1, want: f64(math.NaN())},
		{name: "count counts zero", fn: "count_where", args: []types.Type{tI32, tBool},
			cols: [][]any{{0}, {true}}, hi: -1, want: i64(1)},
		{name: "min counts zero", fn: "min_where", args: []types.Type{tI32, tBool},
			cols: [][]any{{0, 3}, {true, true}}, hi: -1, want: i32(0)},
		{name: "exact float sum", fn: "sum_where", args: []types.Type{tF64, tBool},
			cols: [][]any{{1e100, 1, -1e100}, {true, true, true}}, hi: -1, want: f64(1)},
	})
}

func TestWherePartialExample(t *testing.T) {
	t.Parallel()
	f, err := Resolve("avg_where", []types.Type{tI32, tBool}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, q := f.NewPartial(), f.NewPartial()
	p.Add([]types.Value{i32(4), types.BoolValue(true)})
	p.Add([]types.Value{i32(5), types.BoolValue(false)})
	q.Add([]types.Value{i32(0), types.BoolValue(true)})
	q.Add([]types.Value{i32(8), types.NullOf(tBool)})
	q.Add([]types.Value{i32(6), types.BoolValue(true)})
	p.Merge(q)
	if got := p.Result(); !types.Identical(got, f64(10.0/3)) {
		t.Errorf("avg_where partial = %s, want 10/3 (4, 0 and 6)", show(got))
	}
}
