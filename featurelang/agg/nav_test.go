package agg

import (
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

func lagCase(name, fn string, n int, vals []any, lo, hi int, want types.Value) aggCase {
	return aggCase{name: name, fn: fn, args: []types.Type{tI32, tI32},
		consts: []*types.Value{nil, constant(tI32, n)}, cols: [][]any{vals, nil}, lo: lo, hi: hi, want: want}
}

func TestNav(t *testing.T) {
	t.Parallel()
	// The documentation's partition c2 = 2 holds c1 = 2, 3, 4.
	part := []any{2, 3, 4}
	withNull := []any{1, nil, 3, nil}
	ignore := constant(tBool, true)
	runCases(t, []aggCase{
		lagCase("doc lag first row", "lag", 1, part, 0, 1, types.NullOf(tI32)),
		lagCase("doc lag second row", "lag", 1, part, 0, 2, i32(2)),
		lagCase("doc lag third row", "lag", 1, part, 0, 3, i32(3)),
		lagCase("doc at", "at", 1, part, 0, 3, i32(3)),
		lagCase("offset 0 is the newest", "lag", 0, part, 0, 3, i32(4)),
		lagCase("offset beyond the frame", "at", 3, part, 0, 3, types.NullOf(tI32)),
		lagCase("offset -1 is the oldest", "lag", -1, part, 1, 3, i32(3)),
		lagCase("offset -3 beyond", "lag", -3, part, 1, 3, types.NullOf(tI32)),
		lagCase("empty frame", "lag", 0, part, 1, 1, types.NullOf(tI32)),
		lagCase("NULL value", "lag", 0, withNull, 0, 2, types.NullOf(tI32)),
		{name: "lag ignore nulls", fn: "lag", args: []types.Type{tI32, tI32, tBool},
			consts: []*types.Value{nil, constant(tI32, 1), ignore}, cols: [][]any{withNull, nil, nil}, hi: -1, want: i32(1)},
		{name: "lag string", fn: "lag", args: []types.Type{tStr, tI64},
			consts: []*types.Value{nil, constant(tI64, 2)}, cols: [][]any{{"a", "b", "c"}, nil}, hi: -1, want: str("a")},

		// first_value is the oldest row, last_value the newest.
		{name: "doc first_value", fn: "first_value", args: []types.Type{tTS}, cols: [][]any{{98, 99, 100}}, hi: -1,
			want: types.TimestampValue(98)},
		{name: "doc last_value", fn: "last_value", args: []types.Type{tTS}, cols: [][]any{{98, 99, 100}}, hi: -1,
			want: types.TimestampValue(100)},
		{name: "first_value sliding", fn: "first_value", args: []types.Type{tI32}, cols: [][]any{{1, 2, 3}}, lo: 1, hi: 3, want: i32(2)},
		{name: "first_value NULL", fn: "first_value", args: []types.Type{tI32}, cols: [][]any{{nil, 2}}, hi: -1, want: types.NullOf(tI32)},
		{name: "first_value ignore nulls", fn: "first_value", args: []types.Type{tI32, tBool},
			consts: []*types.Value{nil, ignore}, cols: [][]any{{nil, 2, 3}, nil}, hi: -1, want: i32(2)},
		{name: "last_value ignore nulls", fn: "last_value", args: []types.Type{tStr, tBool},
			consts: []*types.Value{nil, ignore}, cols: [][]any{{"a", "b", nil}, nil}, hi: -1, want: str("b")},
		{name: "last_value ignore nulls false", fn: "last_value", args: []types.Type{tStr, tBool},
			consts: []*types.Value{nil, constant(tBool, false)}, cols: [][]any{{"a", "b", nil}, nil}, hi: -1, want: types.NullOf(tStr)},
		{name: "last_value empty", fn: "last_value", args: []types.Type{tDate}, cols: [][]any{{1}}, hi: 0, want: types.NullOf(tDate)},
	})
}

func TestNthValueWhere(t *testing.T) {
	t.Parallel()
	// The documentation's example: the 2nd row whose cond holds.
	vals := []any{1, 2, 3, 4}
	cond := []any{true, false, nil, true}
	nth := func(name string, n int, lo, hi int, want types.Value) aggCase {
		return aggCase{name: name, fn: "nth_value_where", args: []types.Type{tI32, tI32, tBool},
			consts: []*types.Value{nil, constant(tI32, n), nil}, cols: [][]any{vals, nil, cond}, lo: lo, hi: hi, want: want}
	}
	runCases(t, []aggCase{
		nth("doc row 1", 2, 0, 1, types.NullOf(tI32)),
		nth("doc row 3", 2, 0, 3, types.NullOf(tI32)),
		nth("doc row 4", 2, 0, 4, i32(4)),
		nth("first match", 1, 0, 4, i32(1)),
		nth("last match", -1, 0, 4, i32(4)),
		nth("second from the end", -2, 0, 4, i32(1)),
		nth("beyond", 3, 0, 4, types.NullOf(tI32)),
		nth("n = 0", 0, 0, 4, types.NullOf(tI32)),
		nth("sliding", 1, 1, 4, i32(4)),
		{name: "NULL value matched", fn: "nth_value_where", args: []types.Type{tStr, tI64, tBool},
			consts: []*types.Value{nil, constant(tI64, 1), nil}, cols: [][]any{{nil, "b"}, nil, {true, true}}, hi: -1, want: types.NullOf(tStr)},
	})
}
