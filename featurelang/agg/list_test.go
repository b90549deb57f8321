package agg

import (
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// TestListArguments: count and distinct_count of a list, such as a nested
// window_split_by_key whose keys every row of the frame holds, count its
// elements (test_feature_zero_function.yaml#1: 2, 3, 4, 4, 6 keys, 5
// distinct on the last row).
func TestListArguments(t *testing.T) {
	t.Parallel()
	tArr := types.ArrayOf(tStr)
	// rows of the frame, each holding the frame's list
	frame := func(rows int, elems ...string) []any {
		out := make([]any, rows)
		for i := range out {
			out[i] = elems
		}
		return out
	}
	count := func(name string, rows []any, want int64) aggCase {
		return aggCase{name: name, fn: "count", args: []types.Type{tArr}, cols: [][]any{rows}, hi: -1, want: i64(want)}
	}
	distinct := func(name string, rows []any, want int64) aggCase {
		return aggCase{name: name, fn: "distinct_count", args: []types.Type{tArr}, cols: [][]any{rows}, hi: -1, want: i64(want)}
	}
	keys := []string{"k5", "k5", "k4", "k3", "k1", "k2"}
	runCases(t, []aggCase{
		count("fz r1 row 1", frame(1, "k1", "k2"), 2),
		count("fz r1 row 4", frame(4, "k4", "k3", "k1", "k2"), 4),
		count("fz r1 row 5", frame(5, keys...), 6),
		distinct("fz r1 row 5", frame(5, keys...), 5),
		distinct("fz r1 row 1", frame(1, "k1", "k2"), 2),
		count("empty list", frame(3), 0),
		distinct("empty list", frame(3), 0),
		count("empty frame", nil, 0),
		distinct("empty frame", nil, 0),
		count("NULL list", []any{nil}, 0),
		distinct("NULL list", []any{nil}, 0),
		// Lists computed per row: count reads the newest row's,
		// distinct_count the elements of all rows.
		count("per row, newest", []any{[]string{"a", "b", "c"}, nil, []string{"a"}}, 1),
		distinct("per row", []any{[]string{"a", "b"}, nil, []string{"b", "c"}}, 3),
	})
}

// TestListCountElements: count of a list counts its non-NULL elements,
// and NULL elements count as distinct_count counts NULLs (as the zero
// value).
func TestListCountElements(t *testing.T) {
	t.Parallel()
	tArr := types.ArrayOf(tI32)
	list := types.Value{Type: tArr, X: []types.Value{i32(0), types.NullOf(tI32), i32(2), i32(2)}}
	col := columnOf(tArr, []types.Value{list, list})
	for fn, want := range map[string]int64{"count": 3, "distinct_count": 2} {
		f, err := Resolve(fn, []types.Type{tArr}, nil)
		if err != nil {
			t.Fatal(err)
		}
		acc := f.Bind([]*types.Column{col})
		acc.AddRange(0, 2)
		if got := acc.Result(); !types.Identical(got, i64(want)) {
			t.Errorf("%s = %s, want %d", fn, show(got), want)
		}
	}
}
