package agg

import (
	"math"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

func TestDrawdown(t *testing.T) {
	t.Parallel()
	dd := func(name string, typ types.Type, vals []any, want types.Value) aggCase {
		return aggCase{name: name, fn: "drawdown", args: []types.Type{typ}, cols: [][]any{vals}, hi: -1, want: want}
	}
	// udaf_test.cc (DrawdownTest) lists the values newest first.
	six := newestFirst(4, 10, 2, 5, 8, 1)
	runCases(t, []aggCase{
		// The doc's example (udfs_8h.md, drawdown): from 8 to 2.
		dd("doc", tI32, []any{1, 8, 5, 2, 10, 4}, f64(0.75)),
		dd("udaf_test int16", tI16, six, f64(0.75)),
		dd("udaf_test int32", tI32, six, f64(0.75)),
		dd("udaf_test int64", tI64, six, f64(0.75)),
		dd("udaf_test float", tF32, six, f64(0.75)),
		dd("udaf_test NULL skipped", tF64, newestFirst(4.0, 10.0, nil, 2.0, 5.0, 8.0, 1.0), f64(0.75)),
		dd("udaf_test one", tF64, newestFirst(1.0), f64(0)),
		dd("udaf_test rise", tF64, newestFirst(8.0, 1.0), f64(0)),
		dd("udaf_test to zero", tF64, newestFirst(0.0, 1.0), f64(1)),
		dd("udaf_test zeros", tF64, newestFirst(0.0, 0.0), f64(0)),
		dd("udaf_test flat", tF64, newestFirst(1.0, 1.0), f64(0)),
		dd("udaf_test 10 20 20 0", tF64, newestFirst(10.0, 20.0, 20.0, 0.0, 1.0, 10.0), f64(1)),
		dd("udaf_test 50 to 10", tF64, newestFirst(10.0, 50.0, 20.0, 5.0, 4.0, 10.0), f64(0.8)),
		{name: "udaf_test empty", fn: "drawdown", args: []types.Type{tF64}, cols: [][]any{{1.0}}, hi: 0, want: nullDouble},
		dd("udaf_test only NULL", tF64, []any{nil}, nullDouble),
		dd("udaf_test negatives skipped", tF64, newestFirst(1.0, -2.0, 2.0, -1.0), f64(0.5)),
		dd("udaf_test only negatives", tF64, newestFirst(-1.0, -2.0, -1.0), nullDouble),
		// float: the decline is a float32 subtraction, then a double
		// division: (0.3f - 0.1f) / 0.3f, not (0.3 - 0.1) / 0.3.
		dd("float arithmetic", tF32, []any{0.3, 0.1}, f64(float64(float32(0.3)-float32(0.1))/float64(float32(0.3)))),
		dd("int64 large", tI64, []any{math.MaxInt64, 1}, f64(float64(math.MaxInt64-1)/float64(math.MaxInt64))),
		// An infinite peak gives NaN, which std::max never takes.
		dd("infinite peak", tF64, []any{math.Inf(1), 1.0}, f64(0)),
		dd("only infinity", tF64, []any{math.Inf(1)}, nullDouble),
		// A NaN becomes the low and the next older value replaces it: the
		// decline from 4 to 1 across it is not seen, the one to 2 is.
		dd("NaN", tF64, []any{4.0, 2.0, math.NaN(), 1.0}, f64(0.5)),
		{name: "sliding", fn: "drawdown", args: []types.Type{tI32}, cols: [][]any{{100, 8, 2, 10, 4}}, lo: 1, hi: 5, want: f64(0.75)},
	})
}

func TestEwAvg(t *testing.T) {
	t.Parallel()
	ew := func(name string, typ types.Type, alpha any, vals []any, want types.Value) aggCase {
		return aggCase{name: name, fn: "ew_avg", args: []types.Type{typ, tF64}, consts: []*types.Value{nil, constant(tF64, alpha)},
			cols: [][]any{vals, nil}, hi: -1, want: want}
	}
	byRow := func(name string, vals, alphas []any, want types.Value) aggCase {
		return aggCase{name: name, fn: "ew_avg", args: []types.Type{tF64, tF64}, cols: [][]any{vals, alphas}, hi: -1, want: want}
	}
	// udaf_test.cc (EwAvgTest) lists the values newest first.
	five := newestFirst(4, 3, 2, 1, 0)
	doc := 6.125 / 1.9375 // 3.161290...
	runCases(t, []aggCase{
		// The doc's example (udfs_8h.md, ew_avg).
		ew("doc", tI32, 0.5, []any{0, 1, 2, 3, 4}, f64(doc)),
		ew("udaf_test int16", tI16, 0.5, five, f64(doc)),
		ew("udaf_test int64", tI64, 0.5, five, f64(doc)),
		ew("udaf_test float", tF32, 0.5, five, f64(doc)),
		ew("udaf_test NULL skipped", tF64, 0.5, newestFirst(4.0, 3.0, 2.0, nil, 1.0, 0.0), f64(doc)),
		ew("udaf_test 1 2 3 4", tF64, 0.5, newestFirst(1.0, 2.0, 3.0, 4.0), f64((1+1+0.75+0.5)/1.875)),
		ew("udaf_test one", tF64, 0.5, []any{1.0}, f64(1)),
		ew("udaf_test zero", tF64, 0.5, []any{0.0}, f64(0)),
		ew("udaf_test alpha 0.2", tF64, 0.2, newestFirst(1.0, 2.0, 3.0, 4.0), f64(ewRef([]float64{4, 3, 2, 1}, 0.2))),
		ew("udaf_test alpha 1", tF64, 1.0, newestFirst(4.0, 3.0, 2.0, 1.0), f64(4)),
		ew("udaf_test NULL alpha", tF64, nil, newestFirst(4.0, 3.0, 2.0, 1.0), f64(2.5)),
		ew("udaf_test alpha 0", tF64, 0.0, newestFirst(4.0, 3.0, 2.0, 1.0), f64(2.5)),
		{name: "udaf_test empty", fn: "ew_avg", args: []types.Type{tF64, tF64}, consts: []*types.Value{nil, constant(tF64, 0.5)},
			cols: [][]any{{1.0}, nil}, hi: 0, want: nullDouble},
		ew("udaf_test only NULL", tF64, 0.5, []any{nil}, nullDouble),
		byRow("udaf_test NULL alphas", newestFirst(4.0, 3.0, 2.0, 1.0), []any{nil, nil, nil, nil}, f64(2.5)),
		// alpha by row: each row's alpha decays the weight of the older
		// rows: 4 (w 1, alpha 0.5), 3 (w 0.5, alpha 0), 2 (w 0.5).
		byRow("alpha by row", []any{2.0, 3.0, 4.0}, []any{1.0, 0.0, 0.5}, f64((4+1.5+1)/2.0)),
		// alpha 2: weights 1, -1: a zero count is NULL.
		ew("zero count", tF64, 2.0, []any{5.0, 7.0}, nullDouble),
		// Once the weight is 0 older rows add 0·x: NaN for an infinity
		// (the NaN the hardware makes, as ewRef computes it).
		ew("infinity beyond the weight", tF64, 1.0, []any{math.Inf(1), 1.0, 2.0}, f64(ewRef([]float64{math.Inf(1), 1, 2}, 1))),
		ew("int64 rounded to double", tI64, 0.5, []any{1<<53 + 1}, f64(1<<53)),
		{name: "sliding", fn: "ew_avg", args: []types.Type{tI32, tF64}, consts: []*types.Value{nil, constant(tF64, 0.5)},
			cols: [][]any{{100, 0, 1, 2, 3, 4, 100}, nil}, lo: 1, hi: 6, want: f64(doc)},
	})
}

// ewRef is ew_avg over values oldest first with a constant alpha, without
// stopping early.
func ewRef(vals []float64, alpha float64) float64 {
	sum, cnt, w := 0.0, 0.0, 1.0
	for i := len(vals) - 1; i >= 0; i-- {
		sum += float64(w * vals[i])
		cnt += w
		w = float64(w * (1 - alpha))
	}
	return sum / cnt
}
