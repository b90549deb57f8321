package agg

import (
	"math"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

func TestDistinctCount(t *testing.T) {
	t.Parallel()
	dc := func(name string, typ types.Type, vals []any, want int64) aggCase {
		return aggCase{name: name, fn: "distinct_count", args: []types.Type{typ}, cols: [][]any{vals}, hi: -1, want: i64(want)}
	}
	runCases(t, []aggCase{
		dc("doc", tI32, []any{0, 0, 2, 2, 4}, 3),
		// A NULL is the type's zero value (test_udaf_function.yaml#5, #6).
		dc("conformance #5", tI16, []any{4, 4, nil}, 2),
		dc("conformance #6", tBool, []any{false, true, nil}, 2),
		dc("NULL string is empty", tStr, []any{"a", nil, "a", "b", nil}, 3),
		dc("NULL is 0", tI64, []any{0, nil, 1}, 2),
		dc("NULL is +0", tF64, []any{negZero, nil}, 1),
		dc("only nulls", tI64, []any{nil, nil}, 1),
		dc("NULL date is no date", tDate, []any{0, nil, nil}, 2),
		dc("bool", tBool, []any{true, false, true}, 2),
		dc("zeros are equal", tF64, []any{0.0, negZero}, 1),
		dc("every NaN is distinct", tF64, []any{math.NaN(), math.NaN(), 1.0, 1.0}, 3),
		dc("float", tF32, []any{1.1, 1.1, 1.4}, 2),
		dc("date", tDate, []any{18000, 18001, 18000}, 2),
		{name: "empty", fn: "distinct_count", args: []types.Type{tTS}, cols: [][]any{{1}}, hi: 0, want: i64(0)},
		{name: "sliding", fn: "distinct_count", args: []types.Type{tI32}, cols: [][]any{{1, 2, 1, 3}}, lo: 1, hi: 3, want: i64(2)},
	})
}

func TestTopNFrequency(t *testing.T) {
	t.Parallel()
	topn := func(name string, typ types.Type, n int, vals []any, lo, hi int, want string) aggCase {
		return aggCase{name: name, fn: "topn_frequency", args: []types.Type{typ, tI32},
			consts: []*types.Value{nil, constant(tI32, n)}, cols: [][]any{vals, nil}, lo: lo, hi: hi, want: str(want)}
	}
	// test_feature_zero_function.yaml#3 and test_udaf_function.yaml#52.
	c2 := []any{1, nil, 2}
	c4 := []any{1.1, 1.4, 1.3}
	runCases(t, []aggCase{
		topn("fz one row", tI32, 3, c2, 0, 1, "1,NULL,NULL"),
		topn("fz null row", tI32, 3, c2, 0, 2, "1,NULL,NULL"),
		topn("fz ties by value", tI32, 3, c2, 0, 3, "1,2,NULL"),
		topn("fz only nulls", tI32, 3, c2, 1, 2, "NULL,NULL,NULL"),
		topn("fz float", tF32, 3, c4, 0, 3, "1.100000,1.300000,1.400000"),
		topn("fz double", tF64, 3, []any{2.1, 2.1, 2.3}, 0, 3, "2.100000,2.300000,NULL"),
		topn("frequency first", tI64, 2, []any{5, 5, 3, 3, 3, 1}, 0, -1, "3,5"),
		topn("strings", tStr, 2, []any{"b", "a", "b"}, 0, -1, "b,a"),
		topn("dates", tDate, 1, []any{18383, 18384, 18384}, 0, -1, "2020-05-02"),
		topn("n = 0", tI32, 0, c2, 0, 3, ""),
		topn("empty frame", tI32, 3, c2, 0, 0, ""),
		topn("NaN is one key", tF64, 2, []any{math.NaN(), math.NaN(), 1.0}, 0, -1, "nan,1.000000"),
	})
}

func TestTopNFrequencyCap(t *testing.T) {
	t.Parallel()
	f, err := Resolve("topn_frequency", []types.Type{tI32, tI32}, []*types.Value{nil, constant(tI32, -1)})
	if err != nil {
		t.Fatal(err)
	}
	acc := f.Bind([]*types.Column{column(tI32, 7), column(tI32, -1)})
	acc.Add(0)
	got := acc.Result().S
	if want := "7" + strings.Repeat(",NULL", 1023); got != want {
		t.Errorf("topn_frequency(x, -1) has %d entries, want 1024", strings.Count(got, ",")+1)
	}
}

func TestTop1Ratio(t *testing.T) {
	t.Parallel()
	top1 := func(name string, typ types.Type, vals []any, lo, hi int, want float64) aggCase {
		return aggCase{name: name, fn: "top1_ratio", args: []types.Type{typ}, cols: [][]any{vals}, lo: lo, hi: hi, want: f64(want)}
	}
	// test_feature_zero_function.yaml#2.
	runCases(t, []aggCase{
		top1("fz one row", tI16, []any{1, 2, nil}, 0, 1, 1),
		top1("fz two keys", tI16, []any{1, 2, nil}, 0, 2, 0.5),
		top1("fz null ignored", tI16, []any{1, 2, nil}, 0, 3, 0.5),
		top1("fz only null", tI16, []any{nil}, 0, 1, 0),
		top1("fz three keys", tI32, []any{1, 2, 3}, 0, 3, 1.0/3),
		top1("fz one key", tI64, []any{1, 1, 1}, 0, 3, 1),
		top1("fz double", tF64, []any{2.1, 2.1, 2.3}, 0, 3, 2.0/3),
		top1("empty", tStr, []any{"a"}, 0, 0, 0),
	})
}

// TestCountArrayElements: over an array argument, such as a nested
// window_split whose pieces every row of the frame sees,
// topn_frequency and top1_ratio count the elements
// (test_feature_zero_function.yaml#2 and #3).
func TestCountArrayElements(t *testing.T) {
	t.Parallel()
	tArr := types.ArrayOf(tStr)
	// rows of the frame, each holding the frame's list of pieces
	frame := func(rows int, pieces ...string) []any {
		out := make([]any, rows)
		for i := range out {
			out[i] = pieces
		}
		return out
	}
	topn := func(name string, rows []any, want string) aggCase {
		return aggCase{name: name, fn: "topn_frequency", args: []types.Type{tArr, tI32},
			consts: []*types.Value{nil, constant(tI32, 3)}, cols: [][]any{rows, nil}, hi: -1, want: str(want)}
	}
	top1 := func(name string, rows []any, want float64) aggCase {
		return aggCase{name: name, fn: "top1_ratio", args: []types.Type{tArr}, cols: [][]any{rows}, hi: -1, want: f64(want)}
	}
	runCases(t, []aggCase{
		topn("fz r1 row 1", frame(1, "1", "4"), "1,4,NULL"),
		topn("fz r1 row 2", frame(2, "4", "8", "1", "4"), "4,1,8"),
		topn("fz r1 no pieces", frame(1), ""),
		topn("fz r3 row 2", frame(2, "1:7 1:3", "1:2 1:3"), "1:2 1:3,1:7 1:3,NULL"),
		topn("fz r6 row 3", frame(3, "1", "3", "1", "1", "2"), "1,2,3"),
		top1("fz r6 row 1", frame(1, "1", "2"), 0.5),
		top1("fz r6 row 2", frame(2, "1", "1", "2"), 2.0/3),
		top1("fz r6 row 3", frame(3, "1", "3", "1", "1", "2"), 0.6),
		top1("fz r6 row 4", frame(1, "3"), 1),
		top1("NULL array", []any{nil}, 0),
	})
}
