package agg

import (
	"math"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// cateCase applies fn to (value, category) or (value, cond, category[, n]).
func cateCase(name, fn string, vt, kt types.Type, vals, cond, keys []any, n *types.Value, want string) aggCase {
	c := aggCase{name: name, fn: fn, hi: -1, want: str(want)}
	switch {
	case n != nil:
		c.args = []types.Type{vt, tBool, kt, n.Type}
		c.consts = []*types.Value{nil, nil, nil, n}
		c.cols = [][]any{vals, cond, keys, nil}
	case cond != nil:
		c.args = []types.Type{vt, tBool, kt}
		c.cols = [][]any{vals, cond, keys}
	default:
		c.args = []types.Type{vt, kt}
		c.cols = [][]any{vals, keys}
	}
	return c
}

func TestCate(t *testing.T) {
	t.Parallel()
	// The examples of OpenMLDB's documentation.
	v5 := []any{0, 1, 2, 3, 4}
	k5 := []any{"x", "y", "x", "y", "x"}
	c5 := []any{true, false, false, true, true}
	runCases(t, []aggCase{
		cateCase("doc count", "count_cate", tI32, tStr, v5, nil, k5, nil, "x:3,y:2"),
		cateCase("doc sum", "sum_cate", tI32, tStr, v5, nil, k5, nil, "x:6,y:4"),
		cateCase("doc avg", "avg_cate", tI32, tStr, v5, nil, k5, nil, "x:2.000000,y:2.000000"),
		cateCase("doc min", "min_cate", tI32, tStr, v5, nil, k5, nil, "x:0,y:1"),
		cateCase("doc max", "max_cate", tI32, tStr, v5, nil, k5, nil, "x:4,y:3"),
		cateCase("doc count where", "count_cate_where", tI32, tStr, v5, c5, k5, nil, "x:2,y:1"),
		cateCase("doc sum where", "sum_cate_where", tI32, tStr, v5, c5, k5, nil, "x:4,y:3"),
		cateCase("doc avg where", "avg_cate_where", tI32, tStr, v5, c5, k5, nil, "x:2.000000,y:3.000000"),
		cateCase("doc min where", "min_cate_where", tI32, tStr, []any{0, 1, 2, 1, 4, 3},
			[]any{true, false, false, true, true, true}, []any{"x", "y", "x", "y", "x", "y"}, nil, "x:0,y:1"),
		cateCase("doc max where", "max_cate_where", tI32, tStr, v5, c5, k5, nil, "x:4,y:3"),

		// udaf_test.cc: NULL keys and NULL values are skipped; empty is "".
		cateCase("null key and value", "sum_cate", tI32, tStr, []any{1, 2, 3, 4, 5, nil},
			nil, []any{"x", "y", "x", "y", nil, "x"}, nil, "x:4,y:6"),
		cateCase("where null cond", "avg_cate_where", tI32, tStr, []any{1, 2, 3, 4, 5, nil},
			[]any{false, nil, true, true, true, true}, []any{"x", "y", "x", "y", nil, "x"}, nil, "x:3.000000,y:4.000000"),
		cateCase("empty", "count_cate", tI32, tI32, []any{nil}, nil, []any{1}, nil, ""),
		cateCase("int keys sort numerically", "count_cate", tI32, tI64, []any{1, 1, 1}, nil, []any{10, 9, -1}, nil, "-1:1,9:1,10:1"),
		cateCase("string keys sort bytewise", "count_cate", tI32, tStr, []any{1, 1, 1}, nil, []any{"b", "B", "a"}, nil, "B:1,a:1,b:1"),
		cateCase("date keys", "sum_cate", tI64, tDate, []any{1, 2, 3}, nil, []any{18383, 18384, 18383}, nil, "2020-05-01:4,2020-05-02:2"),
		cateCase("timestamp keys", "max_cate", tI16, tTS, []any{1, 2}, nil, []any{1590738990000, 1590738992000}, nil,
			"2020-05-29 15:56:30:1,2020-05-29 15:56:32:2"),
		cateCase("float avg", "avg_cate", tF32, tI32, []any{1.1, 1.4}, nil, []any{1, 1}, nil, "1:1.250000"),
		cateCase("float sum rounds to float", "sum_cate", tF32, tI32, []any{0.1, 0.2}, nil, []any{1, 1}, nil, "1:0.300000"),
		cateCase("double min", "min_cate", tF64, tI32, []any{2.5, -0.125}, nil, []any{7, 7}, nil, "7:-0.125000"),
		cateCase("int16 sum wraps", "sum_cate", tI16, tI32, []any{32767, 1}, nil, []any{1, 1}, nil, "1:-32768"),
		cateCase("NaN and inf print as C", "max_cate", tF64, tI32, []any{math.NaN(), math.Inf(1), math.Inf(-1)}, nil, []any{1, 2, 3}, nil, "1:nan,2:inf,3:-inf"),
	})
}

func TestTopNCate(t *testing.T) {
	t.Parallel()
	n2 := constant(tI32, 2)
	// udaf_test.cc: values 1..9, the first six or seven selected, keys 0,1,2.
	v9 := []any{1, 2, 3, 4, 5, 6, 7, 8, 9}
	c6 := []any{true, true, true, true, true, true, false, false, false}
	c7 := []any{true, true, true, true, true, true, true, false, false}
	k9 := []any{0, 1, 2, 0, 1, 2, 0, 1, 2}
	s9 := []any{"x", "y", "z", "x", "y", "z", "x", "y", "z"}
	// The documentation: value 0..6, keys x y x y x z z.
	v7 := []any{0, 1, 2, 3, 4, 5, 6}
	d7 := []any{true, true, false, true, false, true, true}
	k7 := []any{"x", "y", "x", "y", "x", "z", "z"}
	runCases(t, []aggCase{
		cateCase("doc top key count", "top_n_key_count_cate_where", tI32, tStr, v7, d7, k7, n2, "z:2,y:2"),
		cateCase("doc top key sum", "top_n_key_sum_cate_where", tI32, tStr, v7, d7, k7, n2, "z:11,y:4"),
		cateCase("doc top key min", "top_n_key_min_cate_where", tI32, tStr, v7, d7, k7, n2, "z:5,y:1"),
		cateCase("top key count", "top_n_key_count_cate_where", tI32, tI32, v9, c6, k9, n2, "2:2,1:2"),
		cateCase("top key min", "top_n_key_min_cate_where", tI32, tStr, v9, c6, s9, n2, "z:3,y:2"),
		cateCase("top key max", "top_n_key_max_cate_where", tI32, tI32, v9, c6, k9, n2, "2:6,1:5"),
		cateCase("top key avg", "top_n_key_avg_cate_where", tI32, tI32, v9, c6, k9, n2, "2:4.500000,1:3.500000"),
		cateCase("top key null key and value", "top_n_key_min_cate_where", tI32, tStr, []any{1, 2, 3, 4, 5, 6, nil},
			[]any{false, nil, true, true, true, true, true}, []any{"x", "y", "z", "x", "y", nil, "x"}, n2, "z:3,y:5"),
		cateCase("top key all", "top_n_key_sum_cate_where", tI32, tI32, v9, c6, k9, constant(tI64, -1), "2:9,1:7,0:5"),
		cateCase("top key none", "top_n_key_sum_cate_where", tI32, tI32, v9, c6, k9, constant(tI32, 0), ""),
		cateCase("top value max", "top_n_value_max_cate_where", tI32, tI32, v9, c7, k9, n2, "0:7,2:6"),
		cateCase("top value sum", "top_n_value_sum_cate_where", tI32, tI32, v9, c7, k9, n2, "0:12,2:9"),
		cateCase("top value avg", "top_n_value_avg_cate_where", tI32, tI32, v9, c7, k9, n2, "2:4.500000,0:4.000000"),
		cateCase("top value min", "top_n_value_min_cate_where", tI32, tI32, v9, c7, k9, n2, "2:3,1:2"),
		cateCase("top value count ties by key", "top_n_value_count_cate_where", tI32, tI32, v9, c6, k9, n2, "2:2,1:2"),
		cateCase("top value max one", "top_n_value_max_cate_where", tI32, tStr, v9, c6, s9, constant(tI64, 1), "z:6"),
		cateCase("top value null key and value", "top_n_value_max_cate_where", tI32, tStr, []any{1, 2, 3, 4, 5, 6, nil},
			[]any{false, nil, true, true, true, true, true}, []any{"x", "y", "z", "x", "y", nil, "x"}, n2, "y:5,x:4"),
		cateCase("top value empty", "top_n_value_max_cate_where", tI32, tI32, []any{1}, []any{false}, []any{1}, n2, ""),
	})
}

func TestRatioCate(t *testing.T) {
	t.Parallel()
	// The conformance case test_udaf_function.yaml#65: frames of
	// rows_range 10s preceding and 1s preceding over these rows.
	vals := []any{200, 300, 200, 10, 101, 101}
	over100 := []any{true, true, true, false, true, true}
	cate := []any{"a", "b", nil, "b", "c", "c"}
	ratio := func(name, fn string, n, hi int, want string) aggCase {
		c := cateCase(name, fn, tI32, tStr, vals, over100, cate, constant(tI32, n), want)
		c.hi = hi
		return c
	}
	runCases(t, []aggCase{
		ratio("value empty frame", "top_n_value_ratio_cate", 2, 0, ""),
		ratio("value 1 row", "top_n_value_ratio_cate", 2, 1, "a:1.000000"),
		ratio("value 3 rows", "top_n_value_ratio_cate", 2, 3, "b:1.000000,a:1.000000"),
		ratio("value 4 rows", "top_n_value_ratio_cate", 2, 4, "a:1.000000,b:0.500000"),
		ratio("value 5 rows", "top_n_value_ratio_cate", 2, 5, "c:1.000000,a:1.000000"),
		ratio("value all", "top_n_value_ratio_cate", -1, 5, "c:1.000000,a:1.000000,b:0.500000"),
		ratio("value none", "top_n_value_ratio_cate", 0, 5, ""),
		ratio("key 4 rows", "top_n_key_ratio_cate", 2, 4, "b:0.500000,a:1.000000"),
		ratio("key 5 rows", "top_n_key_ratio_cate", 2, 5, "c:1.000000,b:0.500000"),
		ratio("key all", "top_n_key_ratio_cate", -2, 5, "c:1.000000,b:0.500000,a:1.000000"),
		ratio("key none", "top_n_key_ratio_cate", 0, 5, ""),
		// The ratio forms take any value type; a NULL value is skipped.
		{name: "string values", fn: "top_n_key_ratio_cate", args: []types.Type{tStr, tBool, tI32, tI32},
			consts: []*types.Value{nil, nil, nil, constant(tI32, 5)},
			cols:   [][]any{{"a", nil, "c", "d"}, {true, true, nil, false}, {1, 1, 1, 2}, nil}, hi: -1, want: str("2:0.000000,1:0.500000")},
	})
}

// TestCateOutputLimit: entries stop before the string passes 4096 bytes.
func TestCateOutputLimit(t *testing.T) {
	t.Parallel()
	var vals, keys []any
	for i := range 100 {
		vals = append(vals, 1)
		keys = append(keys, strings.Repeat("k", 48)+string(rune('A'+i/26))+string(rune('a'+i%26)))
	}
	f, err := Resolve("count_cate", []types.Type{tI32, tStr}, nil)
	if err != nil {
		t.Fatal(err)
	}
	acc := f.Bind([]*types.Column{column(tI32, vals...), column(tStr, keys...)})
	acc.AddRange(0, 100)
	got := acc.Result().S
	// Each entry "k…k:1," is 53 bytes: 77 fit in 4096.
	if n := strings.Count(got, ","); n != 76 || len(got) != 77*53-1 {
		t.Errorf("got %d entries, %d bytes; want 77 entries, %d bytes", n+1, len(got), 77*53-1)
	}
}
