package agg

import (
	"math"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

func TestEntropy(t *testing.T) {
	t.Parallel()
	ent := func(name string, typ types.Type, vals []any, want types.Value) aggCase {
		return aggCase{name: name, fn: "entropy", args: []types.Type{typ}, cols: [][]any{vals}, hi: -1, want: want}
	}
	// test_udaf_function.yaml (id 63, entropy): one column each.
	yaml := func(name string, typ types.Type, want float64, vals ...any) aggCase {
		return ent("yaml#63 "+name, typ, vals, f64(want))
	}
	ts := 1590115420000
	runCases(t, []aggCase{
		// The doc's example (udfs_8h.md, entropy).
		ent("doc", tI32, []any{1, 1, 2, 3}, f64(1.5)),
		// udaf_test.cc, Entropy.
		ent("udaf_test strings", tStr, []any{"A", "A", "B", "B"}, f64(1)),
		ent("udaf_test dates", tDate, []any{10591, 10591, 10956, 11322}, f64(1.5)),
		ent("udaf_test only NULL", tI64, []any{nil}, nullDouble),
		{name: "udaf_test empty", fn: "entropy", args: []types.Type{tStr}, cols: [][]any{{"A"}}, hi: 0, want: nullDouble},
		yaml("int32", tI32, 2, 1, 2, 3, 4, nil),
		yaml("int16", tI16, 0, 55, 55, 55, 55, 55),
		yaml("string", tStr, 1, "g1", nil, "g2", "g1", "g2"),
		yaml("double", tF64, 1, 2.0, 2.0, nil, 4.0, 4.0),
		// The case expects 2.3219280948873622, log2(5) to 17 digits;
		// OpenMLDB's sum of five -0.2·log2(0.2) is the double below it
		// (the harness compares with a tolerance).
		yaml("timestamp", tTS, 2.321928094887362, ts, ts+1000, ts+2000, ts+3000, ts+4000),
		yaml("date", tDate, 2, 15686, 15687, 15688, 15689, nil),
		yaml("bool", tBool, 1, true, true, false, false, nil),
		ent("one value", tF32, []any{2.5, 2.5}, f64(0)),
		ent("zeros are one key", tF64, []any{0.0, negZero}, f64(0)),
		ent("NaN is one key", tF64, []any{math.NaN(), math.NaN(), 1.0, 2.0}, f64(1.5)),
		// The keys are summed in ascending order, whatever the rows'
		// order: counts 5, 1, 2, 1 of keys 1..4 give ...887; descending
		// keys would give ...889.
		ent("ascending keys", tI32, []any{4, 1, 3, 1, 2, 1, 3, 1, 1}, f64(1.6577427265048887)),
		// As glibc's log2 computes them (Python's math.log2 on glibc 2.36
		// gives these bits); math.Log2 would give one ulp less.
		ent("log2 rounding 1:6", tI32, []any{1, 2, 2, 2, 2, 2, 2}, f64(0.5916727785823275)),
		ent("log2 rounding 3:4:1", tStr, []any{"a", "b", "a", "b", "a", "b", "b", "c"}, f64(1.4056390622295665)),
		ent("log2 rounding 3:2:3", tI64, []any{7, 8, 9, 7, 8, 9, 7, 9}, f64(1.561278124459133)),
		{name: "sliding", fn: "entropy", args: []types.Type{tI32}, cols: [][]any{{5, 1, 1, 2, 3, 9}}, lo: 1, hi: 5, want: f64(1.5)},
	})
}
