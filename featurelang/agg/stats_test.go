package agg

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

func TestMedian(t *testing.T) {
	t.Parallel()
	med := func(name string, typ types.Type, vals []any, want types.Value) aggCase {
		return aggCase{name: name, fn: "median", args: []types.Type{typ}, cols: [][]any{vals}, hi: -1, want: want}
	}
	runCases(t, []aggCase{
		// udaf_test.cc.
		med("empty", tI32, []any{nil}, nullDouble),
		med("odd", tI32, []any{0, 1, 2}, f64(1)),
		med("even", tI32, []any{0, 1, 2, 3}, f64(1.5)),
		med("null skipped", tI32, []any{0, 1, 2, nil}, f64(1)),
		med("unsorted", tI32, []any{1, 5, 2, 4, 3}, f64(3)),
		med("negative", tI32, []any{-1, -2, 0, 1}, f64(-0.5)),
		med("double", tF64, []any{1.0, 2.0, 3.0, 4.0}, f64(2.5)),
		// test_udaf_function.yaml#60: float values are widened exactly,
		// and the mean of two floats is their float sum over 2.
		med("float one", tF32, []any{1.1}, f64(float64(float32(1.1)))),
		med("float two", tF32, []any{1.1, 1.4}, f64(1.25)),
		med("int16", tI16, []any{1, 4}, f64(2.5)),
		med("int64 large", tI64, []any{math.MaxInt64, math.MaxInt64}, f64(math.MaxInt64)),
		med("NaN lowest", tF64, []any{math.NaN(), 1.0, 2.0}, f64(1)),
	})
}

func TestVariance(t *testing.T) {
	t.Parallel()
	v := func(name, fn string, typ types.Type, vals []any, want types.Value) aggCase {
		return aggCase{name: name, fn: fn, args: []types.Type{typ}, cols: [][]any{vals}, hi: -1, want: want}
	}
	big := int(1)<<40 + 1
	runCases(t, []aggCase{
		// The examples of OpenMLDB's documentation.
		v("doc var_pop", "var_pop", tI32, []any{0, 3, 6}, f64(6)),
		v("doc var_samp", "var_samp", tI32, []any{0, 3, 6}, f64(9)),
		v("doc variance", "variance", tI32, []any{0, 3, 6}, f64(9)),
		v("doc stddev_pop", "stddev_pop", tI32, []any{1, 2, 3, 4}, f64(math.Sqrt(1.25))),
		v("doc stddev", "stddev", tI32, []any{1, 2, 3, 4}, f64(math.Sqrt(5.0/3))),
		v("std", "std", tI64, []any{1, 2, 3, 4}, f64(math.Sqrt(5.0/3))),
		v("stddev_samp", "stddev_samp", tF64, []any{1.0, 2.0, 3.0, 4.0}, f64(math.Sqrt(5.0/3))),
		v("empty", "var_pop", tI32, []any{nil}, nullDouble),
		v("sample of one", "var_samp", tI32, []any{5, nil}, nullDouble),
		v("population of one", "stddev_pop", tF32, []any{2.5}, f64(0)),
		v("NaN", "var_pop", tF64, []any{1.0, math.NaN()}, f64(math.NaN())),
		v("infinity", "var_pop", tF64, []any{1.0, math.Inf(1)}, f64(math.NaN())),
		// No cancellation: a large mean and a small variance.
		v("offset doubles", "var_pop", tF64, []any{1e9 + 1, 1e9 + 2, 1e9 + 3}, f64(2.0/3)),
		v("offset ints", "var_samp", tI64, []any{big, big + 1, big + 2}, f64(1)),
		v("equal values", "var_pop", tF64, []any{0.1, 0.1, 0.1}, f64(0)),
	})
}

func TestWindowSplit(t *testing.T) {
	t.Parallel()
	split := func(name, fn string, rows []any, lo, hi int, want types.Value, delims ...string) aggCase {
		c := aggCase{name: name, fn: fn, args: []types.Type{tStr}, consts: []*types.Value{nil},
			cols: [][]any{rows}, lo: lo, hi: hi, want: want}
		for _, d := range delims {
			c.args = append(c.args, tStr)
			c.consts = append(c.consts, constant(tStr, d))
			c.cols = append(c.cols, nil)
		}
		return c
	}
	// test_feature_zero_function.yaml#2-4: rows are visited newest first.
	c3 := []any{"1:2 1:3", "1:7 1:3", "1:2 1:3"}
	c6 := []any{"1:1 1:2", "1:1", "1:1 1:3"}
	c1 := []any{"1:2 4:3", "4:2 8:3", nil}
	runCases(t, []aggCase{
		split("fz split", "window_split", c3, 0, 2, arr("1:7 1:3", "1:2 1:3"), ","),
		split("fz by value", "window_split_by_value", c6, 0, 3, arr("1", "3", "1", "1", "2"), " ", ":"),
		split("fz by key", "window_split_by_key", c1, 0, 3, arr("4", "8", "1", "4"), " ", ":"),
		split("empty delimiter", "window_split", []any{"a", "b"}, 0, 2, arr(), ""),
		split("empty kv delimiter", "window_split_by_key", []any{"a:1"}, 0, 1, arr(), ",", ""),
		split("empty frame", "window_split", []any{"a"}, 0, 0, arr(), ","),
		split("pieces", "window_split", []any{",a,,b,", ""}, 0, 2, arr("", "", "a", "", "b", ""), ","),
		split("value up to second kv", "window_split_by_value", []any{"k:v:w,x,y:", "z:1"}, 0, 1, arr("v", ""), ",", ":"),
		split("key needs kv", "window_split_by_key", []any{"k:v:w,x,y:"}, 0, 1, arr("k", "y"), ",", ":"),
		split("regexp delimiter", "window_split", []any{"a, b,c"}, 0, 1, arr("a", "b,c"), ", "),
		split("regexp kv", "window_split_by_value", []any{"a::1;;b::2;;c"}, 0, 1, arr("1", "2"), ";;", "::"),
		split("one-byte delimiters are literal", "window_split", []any{"a.b"}, 0, 1, arr("a", "b"), "."),
	})
}

// TestWindowSplitLimit: a piece that would take the total beyond 4096 bytes
// is skipped; later, shorter pieces still fit.
func TestWindowSplitLimit(t *testing.T) {
	t.Parallel()
	long := string(make([]byte, 4000))
	f, err := Resolve("window_split", []types.Type{tStr, tStr}, []*types.Value{nil, constant(tStr, ",")})
	if err != nil {
		t.Fatal(err)
	}
	acc := f.Bind([]*types.Column{column(tStr, "abc,"+string(make([]byte, 200)), long), column(tStr, ",", ",")})
	acc.AddRange(0, 2)
	got := acc.Result().X.([]types.Value)
	if len(got) != 2 || len(got[0].S) != 4000 || got[1].S != "abc" {
		t.Errorf("got %d pieces", len(got))
	}
}

// TestVarianceAccuracy compares var_pop with the exact rational variance
// rounded to float64, over data with a large mean and a small spread.
func TestVarianceAccuracy(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		n := 2 + rng.IntN(30)
		mean := math.Ldexp(1, rng.IntN(80)-20) * (1 + rng.Float64())
		vals := make([]any, n)
		for i := range vals {
			vals[i] = mean + rng.NormFloat64()*mean*math.Ldexp(1, -rng.IntN(40))
		}
		f, err := Resolve("var_pop", []types.Type{tF64}, nil)
		if err != nil {
			t.Fatal(err)
		}
		acc := f.Bind([]*types.Column{column(tF64, vals...)})
		acc.AddRange(0, n)
		got := acc.Result().F
		want := exactVarPop(vals)
		if d := math.Abs(got - want); d > 4e-16*want {
			t.Errorf("trial %d: var_pop = %v, exact %v (relative error %.1e)", trial, got, want, d/want)
		}
	}
}

// exactVarPop returns the population variance of vals, computed exactly
// and rounded once.
func exactVarPop(vals []any) float64 {
	var s, q big.Rat
	for _, v := range vals {
		x := new(big.Rat).SetFloat64(v.(float64))
		s.Add(&s, x)
		q.Add(&q, new(big.Rat).Mul(x, x))
	}
	n := new(big.Rat).SetInt64(int64(len(vals)))
	mean := new(big.Rat).Quo(&s, n)
	v := new(big.Rat).Quo(&q, n)
	v.Sub(v, mean.Mul(mean, mean))
	f, _ := v.Float64()
	return f
}
